"""The state store: file permissions, schema migrations, request log, stored credentials."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, insert, inspect, select, text

from syncbridge.engine.db import SideStore
from syncbridge.errors import ConfigError
from syncbridge.http.requestlog import LoggedRequest
from syncbridge.state import REQUEST_LOG_SIZE, StateStore
from syncbridge.state.store import create_state_engine, current_revision, head_revision, migrate
from syncbridge.state.tables import Link, RequestLog, table

REVISION_1_TABLES = {
    "snapshot",
    "match_key",
    "link",
    "cursor",
    "outbox",
    "pending",
    "run",
    "entity_run",
    "run_item",
    "lease",
}
REVISION_2_TABLES = {"request_log", "credential"}


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


# -- SQLite file permissions -------------------------------------------------------------------
def test_the_sqlite_file_and_its_wal_are_private_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.db"  # the folder is created, too
    previous = os.umask(0o022)
    try:
        store = StateStore(f"sqlite:///{path}")
        try:
            assert mode(path) == 0o600
            wal = Path(f"{path}-wal")
            with store.engine.begin() as db:  # a write while connected: the WAL exists
                db.execute(
                    text(
                        "INSERT INTO cursor (sync, entity, side, value) "
                        "VALUES ('s', 'company', 'left', '1')"
                    )
                )
                assert wal.exists()
                assert mode(wal) == 0o600
        finally:
            store.close()
    finally:
        os.umask(previous)


def test_an_existing_world_readable_state_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateStore(f"sqlite:///{path}").close()
    os.chmod(path, 0o644)
    StateStore(f"sqlite:///{path}").close()
    assert mode(path) == 0o600


def test_the_sqlite_state_uses_wal_journaling(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with store.engine.connect() as db:
            assert db.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert db.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        store.close()


# -- migrations (SQLite and PostgreSQL) ----------------------------------------------------------
def test_a_fresh_store_is_at_head_with_every_table(state_url: str) -> None:
    assert head_revision() == "0007"
    store = StateStore(state_url)
    try:
        assert current_revision(store.engine) == head_revision()
    finally:
        store.close()
    assert tables(state_url) == REVISION_1_TABLES | REVISION_2_TABLES | {"alembic_version"}


def test_an_old_store_is_upgraded_in_place_and_keeps_its_rows(state_url: str) -> None:
    engine = create_state_engine(state_url)
    try:
        migrate(engine, "0001")
        assert current_revision(engine) == "0001"
        assert tables(state_url) == REVISION_1_TABLES | {"alembic_version"}
        synced = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
        with engine.begin() as db:
            db.execute(
                insert(table(Link)).values(
                    sync="main",
                    entity="company",
                    left_id="L1",
                    right_id="R1",
                    left_hash="a" * 32,
                    right_hash="b" * 32,
                    synced_at=synced,
                )
            )
    finally:
        engine.dispose()

    store = StateStore(state_url)
    try:
        assert current_revision(store.engine) == head_revision()
        assert tables(state_url) == REVISION_1_TABLES | REVISION_2_TABLES | {"alembic_version"}
        link = table(Link)
        with store.engine.connect() as db:
            rows = db.execute(
                select(
                    link.c.sync,
                    link.c.entity,
                    link.c.left_id,
                    link.c.right_id,
                    link.c.left_hash,
                    link.c.right_hash,
                )
            ).all()
        assert [tuple(row) for row in rows] == [("main", "company", "L1", "R1", "a" * 32, "b" * 32)]
        # the new tables work
        store.credentials("fic").save({"token": "t"})
        assert store.credentials("fic").load() == {"token": "t"}
    finally:
        store.close()


def _pending_rows(engine: Engine) -> dict[str, tuple[Any, Any]]:
    """``record_id -> (native, context)`` of every pending row, decoded."""
    with engine.connect() as db:
        return {
            rid: (json.loads(native), None if context is None else json.loads(context))
            for rid, native, context in db.execute(
                text("SELECT record_id, native, context FROM pending")
            )
        }


def test_pending_records_gain_a_context_and_old_rows_move_private_keys_into_it(
    state_url: str,
) -> None:
    """0006: a pending record keeps its context beside its native record. Rows kept before
    carried QuickBooks' ``_sb`` and Bitrix24's ``_status``/``_error`` inside the native
    record; they come out of it, the facts into the context. Other keys stay as they are."""
    engine = create_state_engine(state_url)
    since = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    natives = {
        "qbo-7": {"Id": "7", "CustomerRef": {"value": "58"},
                  "_sb": {"customer": "company", "tax_rates": {"3": "19"}}},
        "b24-5": {"id": 5, "stageId": "DT31_1:P", "_status": None,
                  "_error": "its product rows could not be read: QUERY_LIMIT_EXCEEDED"},
        "b24-6": {"id": 6, "stageId": "DT31_1:P", "_status": "paid"},
        "crm-1": {"id": 1, "_categoryDescription": "Hardware"},  # not 0006's to move
        "plain": {"id": 2, "name": "Rossi"},
    }
    try:
        migrate(engine, "0005")
        with engine.begin() as db:
            for rid, native in natives.items():
                db.execute(
                    text(
                        "INSERT INTO pending (sync, entity, side, record_id, kind, reason, "
                        "native, since) VALUES ('main', 'invoice', 'left', :rid, 'failed', "
                        "'why', :native, :since)"
                    ),
                    {"rid": rid, "native": json.dumps(native), "since": since},
                )
        migrate(engine, "0006")
        rows = _pending_rows(engine)
    finally:
        engine.dispose()

    assert rows == {
        "qbo-7": ({"Id": "7", "CustomerRef": {"value": "58"}},
                  {"customer": "company", "tax_rates": {"3": "19"}}),
        "b24-5": ({"id": 5, "stageId": "DT31_1:P"},
                  {"error": "its product rows could not be read: QUERY_LIMIT_EXCEEDED"}),
        "b24-6": ({"id": 6, "stageId": "DT31_1:P"}, None),
        "crm-1": ({"id": 1, "_categoryDescription": "Hardware"}, None),
        "plain": ({"id": 2, "name": "Rossi"}, None),
    }

    store = StateStore(state_url)
    try:
        assert current_revision(store.engine) == head_revision()
        # and the engine keeps a context with a record, and reads it back
        side = SideStore("main", "invoice", "left")
        with store.engine.begin() as db:
            side.set_pending(
                db,
                [("plain", "failed", "again", '{"id": 2}'), ("new", "failed", "x", "{}")],
                since,
                contexts={"new": '{"error": "why"}'},
            )
        with store.engine.connect() as db:
            kept = side.pending(db)
        assert kept["plain"] == ("failed", "again", '{"id": 2}', None)
        assert kept["new"] == ("failed", "x", "{}", '{"error": "why"}')
        assert kept["qbo-7"][3] is not None
    finally:
        store.close()


def test_crmincloud_category_descriptions_move_from_pending_natives_into_the_context(
    state_url: str,
) -> None:
    """0007: CRM in Cloud's ``_categoryDescription`` leaves the native record of a pending
    row for its context's ``category``, beside what the context held; a null description is
    dropped, and rows without the key (or whose JSON cannot be read) stay as they are."""
    engine = create_state_engine(state_url)
    since = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    rows = {
        "1": ({"id": 1, "category": 3, "_categoryDescription": "Hardware"}, None),
        "2": ({"id": 2, "category": 0, "_categoryDescription": None}, None),
        "3": ({"id": 3, "category": 4, "_categoryDescription": "Servizi"}, {"error": "why"}),
        "4": ({"id": 4, "productName": "_categoryDescription"}, None),  # a value, not a key
        "5": ({"Id": "5", "CustomerRef": {"value": "58"}}, {"customer": "company"}),
    }
    try:
        migrate(engine, "0006")
        with engine.begin() as db:
            for rid, (native, context) in rows.items():
                db.execute(
                    text(
                        "INSERT INTO pending (sync, entity, side, record_id, kind, reason, "
                        "native, context, since) VALUES ('main', 'product', 'left', :rid, "
                        "'failed', 'why', :native, :context, :since)"
                    ),
                    {"rid": rid, "native": json.dumps(native), "since": since,
                     "context": None if context is None else json.dumps(context)},
                )
            db.execute(
                text(
                    "INSERT INTO pending (sync, entity, side, record_id, kind, reason, native, "
                    "since) VALUES ('main', 'product', 'left', 'bad', 'failed', 'why', "
                    "'{\"_categoryDescription\": ', :since)"
                ),
                {"since": since},
            )
    finally:
        engine.dispose()

    store = StateStore(state_url)
    try:
        assert current_revision(store.engine) == head_revision()
        with store.engine.begin() as db:
            bad = db.execute(
                text("SELECT native, context FROM pending WHERE record_id = 'bad'")
            ).one()
            db.execute(text("DELETE FROM pending WHERE record_id = 'bad'"))
        moved = _pending_rows(store.engine)
    finally:
        store.close()
    assert tuple(bad) == ('{"_categoryDescription": ', None)
    assert moved == {
        "1": ({"id": 1, "category": 3}, {"category": "Hardware"}),
        "2": ({"id": 2, "category": 0}, None),
        "3": ({"id": 3, "category": 4}, {"error": "why", "category": "Servizi"}),
        "4": ({"id": 4, "productName": "_categoryDescription"}, None),
        "5": ({"Id": "5", "CustomerRef": {"value": "58"}}, {"customer": "company"}),
    }


def test_opening_a_store_at_head_again_changes_nothing(state_url: str) -> None:
    StateStore(state_url).close()
    store = StateStore(state_url)
    try:
        with store.engine.connect() as db:
            versions = db.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert versions == [head_revision()]
    finally:
        store.close()


def test_a_store_written_by_a_newer_syncbridge_is_refused(state_url: str) -> None:
    StateStore(state_url).close()
    engine = create_engine(state_url)
    try:
        with engine.begin() as db:
            db.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    with pytest.raises(ConfigError) as caught:
        StateStore(state_url)
    assert str(caught.value) == (
        "state.url: this state store has schema revision 9999, written by a newer syncbridge "
        f"(this one knows up to {head_revision()}); upgrade syncbridge"
    )
    engine = create_engine(state_url)
    try:  # refused, not touched
        with engine.connect() as db:
            assert db.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
    finally:
        engine.dispose()


# -- request log -------------------------------------------------------------------------------
def logged(index: int) -> LoggedRequest:
    return LoggedRequest(
        at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=index),
        method="GET",
        url=f"/items?page={index}",
        status=200 if index % 7 else None,
        duration_ms=index + 0.5,
        error=None if index % 7 else "ConnectError: refused",
    )


def test_the_request_log_keeps_the_last_50_per_connection(state_url: str) -> None:
    assert REQUEST_LOG_SIZE == 50
    store = StateStore(state_url)
    try:
        sink_a, sink_b = store.request_log("a"), store.request_log("b")
        for index in range(60):
            sink_a(logged(index))
            if index < 3:
                sink_b(logged(1000 + index))
        rows = store.recent_requests("a")
        assert [row.url for row in rows] == [f"/items?page={i}" for i in range(10, 60)]
        first = rows[0]
        assert (first.method, first.status, first.duration_ms, first.error) == (
            "GET",
            200,
            10.5,
            None,
        )
        assert rows[4].status is None and rows[4].error == "ConnectError: refused"  # page 14
        log = table(RequestLog)
        with store.engine.connect() as db:  # the oldest rows are deleted, not just hidden
            count = db.execute(
                select(func.count()).select_from(log).where(log.c.connection == "a")
            ).scalar()
        assert count == 50
        assert [row.url for row in store.recent_requests("b")] == [
            "/items?page=1000",
            "/items?page=1001",
            "/items?page=1002",
        ]
        assert [row.url for row in store.recent_requests("a", limit=2)] == [
            "/items?page=58",
            "/items?page=59",
        ]
        assert store.recent_requests("c") == []
    finally:
        store.close()


def test_requests_sent_from_other_threads_are_written_by_the_owner(state_url: str) -> None:
    """A sending thread never writes the log (it would hold SQLite's write lock while it
    waits for the interpreter); the engine's thread writes it, at most once a second or
    when told to."""
    import threading

    from syncbridge.state.requestlog import RequestLogWriter

    store = StateStore(state_url)
    try:
        writer = RequestLogWriter(store.engine, "x", 50, interval=0.0)
        log = table(RequestLog)

        def stored() -> int:
            with store.engine.connect() as db:
                return int(db.execute(
                    select(func.count()).select_from(log).where(log.c.connection == "x")
                ).scalar() or 0)

        sender = threading.Thread(target=lambda: [writer(logged(i)) for i in range(5)])
        sender.start()
        sender.join()
        assert stored() == 0  # due (interval 0), but not this thread's to write
        writer.flush_if_due()
        assert stored() == 5
        writer(logged(5))  # the owner writes as it goes when due
        assert stored() == 6
    finally:
        store.close()


# -- stored credentials ------------------------------------------------------------------------
def test_stored_credentials_round_trip_per_connection(state_url: str) -> None:
    store = StateStore(state_url)
    try:
        fic, qbo = store.credentials("fic"), store.credentials("qbo")
        assert fic.load() == {}
        fic.save({"access_token": "a1", "refresh_token": "r1", "company": {"id": 123}})
        qbo.save({"realm_id": "9130"})
        assert fic.load() == {"access_token": "a1", "refresh_token": "r1", "company": {"id": 123}}
        fic.save({"access_token": "a2", "refresh_token": "r2"})  # replaced, not merged
        assert fic.load() == {"access_token": "a2", "refresh_token": "r2"}
        fic.delete()
        assert fic.load() == {}
        fic.delete()  # deleting nothing is fine
        assert qbo.load() == {"realm_id": "9130"}
    finally:
        store.close()
    reopened = StateStore(state_url)  # durable
    try:
        assert reopened.credentials("qbo").load() == {"realm_id": "9130"}
        assert reopened.credentials("fic").load() == {}
    finally:
        reopened.close()


def test_the_rate_budget_lives_beside_a_state_file_only(tmp_path: Path) -> None:
    """Processes share a rate budget through a file next to their SQLite state file; an
    in-memory store has no file to share it by (see syncbridge.http.ratelimit)."""
    on_file = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    in_memory = StateStore("sqlite://")
    try:
        assert on_file.rate_budget == tmp_path / "state.db.rates"
        assert in_memory.rate_budget is None
    finally:
        on_file.close()
        in_memory.close()
