"""Faults: what a corrupted answer or a dropped connection does to a read, a write and a run,
and what runs cost in requests.

The faults are scripted per request (``fic.faults``, see conftest) in front of the emulator:
a maintenance page answered with status 200, an answer cut in half, a connection dropped
after the API handled the request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import syncbridge_fattureincloud.connector as fic_connector
import syncbridge_sql.connector as sql_connector
from syncbridge.config import EntityRule, SyncConfig
from syncbridge.connection import Connection
from syncbridge.engine.runner import RunSummary, run_sync
from syncbridge.models import Company, Product
from syncbridge.records import UpsertItem
from syncbridge.state import StateStore

COMPANY = 1051
CLIENTS = f"/c/{COMPANY}/entities/clients"
PRODUCTS = f"/c/{COMPANY}/products"
NO_ANSWER = (
    r"no answer from Fatture in Cloud to POST /c/1051/{path} \(RemoteProtocolError: .+\); "
    r"it may have been written: the next run checks before sending it again"
)


@dataclass
class Bed:
    """A management application (SQLite, the sql connector) pushing companies and products to
    the emulated Fatture in Cloud one way, with a state store."""

    fic: Any
    erp: Connection
    store: StateStore
    sync: SyncConfig
    #: the settings of the runs' connection to Fatture in Cloud (beyond the emulator's)
    settings: dict[str, Any]

    def add(self, entity: str, records: list[Any]) -> None:
        items = [
            UpsertItem(key=f"seed-{entity}-{n}", record=self.erp.map_out(entity, record))
            for n, record in enumerate(records)
        ]
        assert all(result.ok for result in self.erp.upsert(entity, items))

    def run(self) -> tuple[RunSummary, int]:
        """One run with a fresh connection (as a run started by hand): its summary, and how
        many requests it sent to Fatture in Cloud."""
        log: list[Any] = []
        settings = {**self.fic.settings, **self.settings}
        with Connection("fic", fic_connector, settings, request_log=log.append) as right:
            summary = run_sync("erp-fic", self.sync, {"left": self.erp, "right": right},
                               self.store)
        return summary, len(log)


@pytest.fixture
def bed(serve: Any, tmp_path: Path) -> Iterator[Bed]:
    fic = serve(records=3)
    erp = Connection("erp", sql_connector, {"url": f"sqlite:///{tmp_path}/erp.db"})
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    sync = SyncConfig(
        left="erp",
        right="fic",
        entities={
            # no match keys: only the outbox stands between a lost answer and a duplicate
            "company": EntityRule(direction="left-to-right", match=[]),
            "product": EntityRule(direction="left-to-right"),
        },
    )
    try:
        yield Bed(fic, erp, store, sync, {})
    finally:
        erp.close()
        store.close()


def _companies(count: int) -> list[Company]:
    return [Company(name=f"Ditta {n:03d} S.r.l.") for n in range(count)]


def _names(fic: Any) -> list[str]:
    """The names of the clients written by the tests (the seeded ones left out)."""
    rows = fic.emulator.table(COMPANY, "clients").list()
    return sorted(row["name"] for row in rows if row["name"].startswith("Ditta "))


# -- reads ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("html_200", r"HTTP 200 OK \(an HTML page, not JSON\)"),
        ("truncated", r"HTTP 200 OK \(JSON cut short after \d+ bytes\)"),
    ],
)
def test_a_list_page_that_is_no_json_fails_the_entity_with_one_sentence(
    bed: Bed, kind: str, said: str
) -> None:
    bed.add("company", _companies(2))
    bed.add("product", [Product(name="Tagliando", code="TAG-01")])
    bed.fic.faults.add("GET", CLIENTS, kind, times=None)

    summary, _requests = bed.run()  # returns: no traceback escapes the run

    results = {result.entity: result for result in summary.entities}
    assert results["company"].result == "error"
    assert re.fullmatch(
        rf"ConnectorError: Fatture in Cloud answered GET {CLIENTS} with {said}, 3 times",
        results["company"].message or "",
    )
    assert (results["product"].result, dict(results["product"].counts)) == ("ok", {"created": 1})
    assert _names(bed.fic) == []


# -- writes -----------------------------------------------------------------------------------
def test_a_create_whose_connection_dropped_is_that_records_failure_alone(fic: Any) -> None:
    connection = fic.connect()
    fic.faults.add("POST", CLIENTS, "drop_after", skip=1)  # the second create of three
    items = [
        UpsertItem(key=f"k{n}", record=connection.map_out("company", company))
        for n, company in enumerate(_companies(3))
    ]

    results = connection.upsert("company", items)

    assert [(result.key, result.ok, result.unknown) for result in results] == [
        ("k0", True, False), ("k1", False, True), ("k2", True, False)
    ]
    assert re.fullmatch(NO_ANSWER.format(path="entities/clients"), results[1].error or "")
    assert results[0].record is not None and results[2].record is not None
    assert _names(fic) == [f"Ditta {n:03d} S.r.l." for n in range(3)]  # it was written


def test_a_create_answered_with_half_a_body_is_that_records_failure_alone(fic: Any) -> None:
    connection = fic.connect()
    fic.faults.add("POST", PRODUCTS, "truncated")
    items = [
        UpsertItem(key=f"k{n}", record=connection.map_out(
            "product", Product(name=f"Articolo {n}", code=f"ART-{n}")))
        for n in range(2)
    ]

    first, second = connection.upsert("product", items)

    assert (first.ok, first.unknown, second.ok) == (False, True, True)
    assert re.fullmatch(
        r"HTTP 200 OK \(JSON cut short after \d+ bytes\); it may have been written: the next "
        r"run checks before sending it again",
        first.error or "",
    )


def test_the_run_after_a_dropped_create_finds_what_it_made_without_a_duplicate(
    bed: Bed,
) -> None:
    """No match keys: only the outbox tells the client the lost create made from a new one."""
    bed.add("company", _companies(4))
    bed.fic.faults.add("POST", CLIENTS, "drop_after", skip=1)

    first, _ = bed.run()
    second, _ = bed.run()
    third, _ = bed.run()

    counts = [dict(next(r for r in s.entities if r.entity == "company").counts)
              for s in (first, second)]
    assert counts[0] == {"created": 3, "unknown": 1}  # the three answered are linked
    assert counts[1] == {"created": 1, "unchanged": 3}  # found there: not sent again
    assert _names(bed.fic) == [f"Ditta {n:03d} S.r.l." for n in range(4)]  # 0 duplicates
    assert third.writes == 0 and not third.failed


# -- requests per run -------------------------------------------------------------------------
def test_an_echo_run_and_an_idle_run_cost_one_request_per_entity(bed: Bed) -> None:
    """A run after one that wrote a page's worth of records reads exactly that page (the
    cursor is a keyset: the record it names does not come again), an idle run one empty page.
    """
    page = 5
    bed.settings = {"page_size": page}
    bed.add("company", _companies(page))
    bed.add("product", [Product(name=f"Articolo {n}", code=f"ART-{n}") for n in range(page)])

    initial, initial_requests = bed.run()
    echo, echo_requests = bed.run()
    idle, idle_requests = bed.run()

    assert not initial.failed and initial.writes == 2 * page
    assert initial_requests == 2 + 2 * page  # a page of 3 seeded records each, a POST each
    assert (echo.writes, echo_requests) == (0, 2)  # the 5 written: 1 page each, not 2
    assert (idle.writes, idle_requests) == (0, 2)
