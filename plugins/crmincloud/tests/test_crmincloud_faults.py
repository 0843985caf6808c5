"""Faults between the connector and the API: what a read, a write and a lookup make of them.

The faults are served in front of the emulator (``Crm.fault``): a proxy's HTML 502, an
answer cut short, a connection dropped after the API handled the request or before it did.
Reads retry a page, then fail the entity with one sentence; a write's fault is that record's
alone; a lookup answers all its keys or raises.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
import syncbridge_sql.connector

import syncbridge_crmincloud.connector as crm_connector
from syncbridge import ConnectorError, UpsertItem, UpsertResult
from syncbridge.config import SyncConfig
from syncbridge.connection import Connection
from syncbridge.engine.runner import run_sync
from syncbridge.models import Company
from syncbridge.state import StateStore

from .conftest import Crm

SEARCH = "/Company/SearchByODataCriteria"
SAVE = "/Company/CreateOrUpdate"
#: companies with a name only go from the management app to the CRM: no match key can
#: recognise one, so only the outbox and the key field stand between a fault and a duplicate
ONE_WAY = SyncConfig.model_validate(
    {"left": "erp", "right": "crm", "entities": {"company": {"direction": "left-to-right"}}}
)


def _read(conn: Connection, entity: str = "company") -> list[Any]:
    return [record for page in conn.fetch(entity) for record in page.records]


def _creates(conn: Connection, count: int, prefix: str = "sb-fault") -> list[UpsertItem]:
    return [
        UpsertItem(
            key=f"{prefix}-{n}",
            record=conn.map_out("company", Company(name=f"Azienda {prefix} {n:03d}")),
        )
        for n in range(count)
    ]


# -- reads ------------------------------------------------------------------------------------
def test_an_html_502_on_a_list_read_fails_it_in_one_sentence(crm: Crm, conn: Connection) -> None:
    crm.fault("html_502", "GET", SEARCH, times=None)

    with pytest.raises(ConnectorError) as raised:
        _read(conn)

    assert str(raised.value) == (
        "CRM in Cloud answered GET /api/v1/Company/SearchByODataCriteria with HTTP 502 Bad "
        "Gateway (an HTML page, not JSON)"
    )


def test_a_list_read_cut_short_is_asked_again_then_fails_in_one_sentence(
    crm: Crm, conn: Connection
) -> None:
    crm.fault("truncated", "GET", SEARCH, times=None)

    with pytest.raises(ConnectorError) as raised:
        _read(conn)

    reason = str(raised.value)
    assert reason.startswith(
        "CRM in Cloud answered GET /api/v1/Company/SearchByODataCriteria with HTTP 200 OK "
        "(JSON cut short after "
    )
    assert reason.endswith(" bytes), 3 times") and "\n" not in reason
    assert [e.method for e in crm.log if SEARCH in e.url] == ["GET"] * 3


def test_one_answer_cut_short_costs_a_page_again_and_nothing_else(
    crm: Crm, conn: Connection
) -> None:
    crm.fault("truncated", "GET", SEARCH, after=1)  # the second page

    ids = [record["id"] for record in _read(conn)]

    assert sorted(ids) == list(range(1, 26)) and len(ids) == 25


def test_a_failed_read_is_one_line_in_the_run_report(
    crm: Crm, erp: Connection, store: StateStore
) -> None:
    crm.fault("html_502", "GET", SEARCH, times=None)
    sync = SyncConfig.model_validate(
        {"left": "crm", "right": "erp", "entities": {"company": {"direction": "both"}}}
    )

    summary = run_sync("main", sync, {"left": crm.connect(), "right": erp}, store)

    [result] = summary.entities
    assert result.result == "error"
    assert result.message is not None and "\n" not in result.message
    assert "HTTP 502 Bad Gateway (an HTML page, not JSON)" in result.message
    assert "<" not in result.message and "Traceback" not in result.message


# -- writes -----------------------------------------------------------------------------------
@pytest.fixture
def erp(tmp_path: Path) -> Iterator[Connection]:
    connection = Connection("erp", syncbridge_sql.connector, {"url": f"sqlite:///{tmp_path}/e.db"})
    yield connection
    connection.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    state = StateStore(f"sqlite:///{tmp_path}/state.db")
    yield state
    state.close()


def _names(crm: Crm) -> Counter[str]:
    return Counter(row["companyName"] for row in crm.table("company").list())


def test_a_create_whose_answer_is_lost_is_found_by_its_key_at_once(
    crm: Crm, conn: Connection
) -> None:
    """The connection drops after the CRM saved the third create: that create's outcome is
    unknown to the write, so its key is searched at once; found, it is reported made."""
    crm.fault("drop", "POST", SAVE, after=2)
    before = len(crm.table("company"))

    results = conn.upsert("company", _creates(conn, 5))

    assert [r.ok for r in results] == [True] * 5
    assert len(crm.table("company")) == before + 5  # each once: nothing was sent twice
    assert all(r.record is not None for r in results)  # read back with the others
    saves = [e for e in crm.log if SAVE in e.url]
    assert len(saves) == 5


def test_a_create_lost_before_the_crm_saved_it_is_that_records_failure(
    crm: Crm, conn: Connection
) -> None:
    """Dropped before the CRM handled it: not found by its key, the create stays unknown
    (it may still be on its way), and only it fails; the others are kept."""
    crm.fault("drop_unhandled", "POST", SAVE, after=2)
    before = len(crm.table("company"))

    results = conn.upsert("company", _creates(conn, 5))

    assert [r.ok for r in results] == [True, True, False, True, True]
    assert results[2].error is not None and results[2].error.endswith(
        "it may have been written: the next run checks before sending it again"
    )
    assert "\n" not in results[2].error
    assert len(crm.table("company")) == before + 4
    assert all(r.record is not None for r in results if r.ok)


@pytest.mark.parametrize("kind", ["drop", "drop_unhandled"])
def test_a_dropped_create_leaves_no_duplicate_after_the_next_run(
    make_crm: Callable[..., Crm], erp: Connection, store: StateStore, kind: str
) -> None:
    crm = make_crm(records=0)
    erp.upsert("company", _creates(erp, 6, "erp"))
    connections: dict[Any, Connection] = {"left": erp, "right": crm.connect()}
    crm.fault(kind, "POST", SAVE, after=2)  # type: ignore[arg-type]

    first = run_sync("main", ONE_WAY, connections, store)
    second = run_sync("main", ONE_WAY, connections, store)

    counts = +first.entities[0].counts
    if kind == "drop":  # saved, and found by its key in the same call
        assert counts == {"created": 6}
    else:  # only that record's outcome is unknown; the next run found nothing and made it
        assert counts == {"created": 5, "unknown": 1}
        assert second.entities[0].counts["created"] == 1
    names = _names(crm)
    assert len(names) == 6 and set(names.values()) == {1}  # 0 duplicates, 0 missing
    assert run_sync("main", ONE_WAY, connections, store).writes == 0


def test_an_unreadable_answer_to_a_create_fails_only_that_record(
    crm: Crm, conn: Connection
) -> None:
    crm.fault("html_502", "POST", SAVE, after=1)

    results = conn.upsert("company", _creates(conn, 3))

    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error == "HTTP 502 Bad Gateway (an HTML page, not JSON)"


# -- lookup -----------------------------------------------------------------------------------
def test_lookup_of_100_keys_takes_3_requests(crm: Crm) -> None:
    conn = crm.connect()
    made = conn.upsert("company", _creates(conn, 100))
    crm.log.clear()

    found = conn.lookup("company", [r.key for r in made] + ["sb-never-written"])

    assert found == {r.key: r.id for r in made}
    assert [e.method for e in crm.log] == ["GET"] * 3  # 40 keys, 40, then 20


def test_one_failing_lookup_request_fails_the_lookup(crm: Crm) -> None:
    conn = crm.connect()
    made = conn.upsert("company", _creates(conn, 100))
    # the second search of keys, and each time it is asked again
    crm.fault("html_502", "GET", SEARCH, after=1, times=None, query="FF_SYNCBRIDGE_KEY eq")

    with pytest.raises(ConnectorError, match=r"HTTP 502 Bad Gateway \(an HTML page"):
        conn.lookup("company", [r.key for r in made])


class Killed(BaseException):
    """The run's process dies: nothing after it runs."""


class Dies(Connection):
    """A connection whose run is killed once the CRM has handled ``kill_after`` creates,
    before their outcome is recorded (as ``kill -9`` would, between the two)."""

    def __init__(self, *args: Any, kill_after: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kill_after = kill_after
        self.handled = 0
        self._lock = threading.Lock()

    def upsert(self, entity: str, items: list[UpsertItem]) -> list[UpsertResult]:
        results = super().upsert(entity, items)
        with self._lock:
            self.handled += len(items)
            if self.handled >= self.kill_after > 0:
                self.kill_after = 0
                raise Killed
        return results


def test_recovery_that_cannot_ask_holds_every_create_and_clears_none(
    make_crm: Callable[..., Crm], erp: Connection, store: StateStore
) -> None:
    """A killed run left 50 creates handled by the CRM but unconfirmed. The next run's lookup
    fails on its second search: ConnectorError, so no key reads as "not made": none is
    created again, none is linked, all stay held. The run after that finds every one (two
    searches) and creates nothing twice."""
    crm = make_crm(records=0)
    erp.upsert("company", _creates(erp, 50, "erp"))
    settings = crm.settings()
    dying = Dies("crm", crm_connector, settings, request_log=crm.log.append, kill_after=50)
    crm.connections.append(dying)
    connections: dict[Any, Connection] = {"left": erp, "right": dying}
    with pytest.raises(Killed):
        run_sync("main", ONE_WAY, connections, store)
    assert len(crm.table("company")) == 50

    crm.fault("html_502", "GET", SEARCH, after=1, times=None, query="FF_SYNCBRIDGE_KEY eq")
    held = run_sync("main", ONE_WAY, connections, store)

    assert len(crm.table("company")) == 50  # nothing was created twice
    assert +held.entities[0].counts == {"unknown": 50}  # held, reported unknown

    assert crm.switch is not None
    crm.switch.faults.clear()
    crm.log.clear()
    recovered = run_sync("main", ONE_WAY, connections, store)

    names = _names(crm)
    assert len(names) == 50 and set(names.values()) == {1}  # 0 duplicates, 0 missing
    assert +recovered.entities[0].counts == {"created": 50}  # recovered after the kill
    lookups = [e for e in crm.log if "FF_SYNCBRIDGE_KEY" in unquote_plus(e.url)]
    assert len(lookups) == 2  # 40 keys, then 10
    assert run_sync("main", ONE_WAY, connections, store).writes == 0
