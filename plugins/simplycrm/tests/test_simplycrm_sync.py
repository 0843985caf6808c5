"""Whole runs of the engine with Simply CRM on the left and a SQLite database standing in for
the accounting system on the right: the bulk sync, and the "Sync to Dinero" of one record
(``syncbridge run --record 11x5 --side left``), which reads that record by id only."""

from __future__ import annotations

from pathlib import Path

from syncbridge.config.schema import EntityRule, SyncConfig
from syncbridge.connection import Connection
from syncbridge.engine.runner import run_sync
from syncbridge.plugins import load_connector
from syncbridge.state import StateStore

from .conftest import Crm


def books(tmp_path: Path) -> Connection:
    return Connection("books", load_connector("sql"), {"url": f"sqlite:///{tmp_path}/books.db"})


def names(connection: Connection, entity: str) -> list[str]:
    return sorted(
        str(connection.map_in(entity, record, page.context_of(record["id"])).name)
        for page in connection.fetch(entity)
        for record in page.records
    )


def test_a_bulk_sync_and_a_single_record_sync(crm: Crm, tmp_path: Path) -> None:
    sync = SyncConfig(
        left="crm", right="books",
        entities={"company": EntityRule(direction="left-to-right"),
                  "product": EntityRule(direction="left-to-right")},
    )
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    left, right = crm.connect(), books(tmp_path)
    try:
        # one organisation only: the "Sync to Dinero" button on 11x5
        one = run_sync("s", sync, {"left": left, "right": right}, store, record=("left", "11x5"))
        assert not one.failed
        assert names(right, "company") == [crm.row("Accounts", 5)["accountname"]]
        syncs = [e for e in crm.log if "operation=sync" in e.url]
        assert syncs == []  # the record was read by id, not by reading the feed
        # then everything
        everything = run_sync("s", sync, {"left": left, "right": right}, store)
        assert not everything.failed
        assert names(right, "company") == sorted(r["accountname"] for r in crm.rows("Accounts"))
        assert len(names(right, "product")) == 5
    finally:
        right.close()
        store.close()
