"""Writes under faults: 500s, connections dropped after the Agent handled the request,
corrupted answers and a 429 burst; nothing issued twice, nothing lost, one readable line per
reason.

Why not the kit's ``SyncUnderFaults``: it syncs records one way from sql into the connector,
and the engine cannot write a canonical invoice into Számlázz.hu. A document needs its party
(``company_id``), the engine drops references to entities the sync does not link, and
Számlázz.hu has no company entity to link (customers exist only inside documents), so every
invoice fails with "a document needs a company_id or a contact_id" before reaching the
connector. The same scenario is therefore driven here directly against ``upsert``, as the
engine would drive it: each round sends what failed again, with the same key.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from syncbridge import UpsertItem
from syncbridge.connection import Connection
from syncbridge.models import Invoice
from syncbridge.testing.readable import unreadable

from .conftest import YEAR, Agent

RECORDS = 60


def _items(connection: Connection, count: int) -> list[UpsertItem]:
    items = []
    for index in range(count):
        invoice = Invoice(
            date=date(YEAR, 5, 1 + index % 28),
            currency="HUF",
            company_id=f"C-{index}",
            status="issued",
            lines=[
                {
                    "description": f"Szolgáltatás {index}",
                    "quantity": 1 + index % 3,
                    "unit_price": Decimal("1000.50") + index,
                    "vat_percent": 27,
                }
            ],
        )
        native = connection.map_out("invoice", invoice, {})
        native["vevo"] = {
            **native["vevo"],
            "nev": f"Vevő {index} Kft.",
            "irsz": "1011",
            "telepules": "Budapest",
            "cim": f"Fő utca {index + 1}.",
        }
        items.append(UpsertItem(key=f"sb-fault-{index:04d}", record=native))
    return items


def _ours(agent: Agent) -> list[str]:
    return [
        d.order_number
        for d in agent.emulator.ledger.documents.values()
        if d.order_number.startswith("sb-fault-")
    ]


def test_creates_under_faults_end_clean_within_three_rounds(agent: Agent) -> None:
    connection = agent.connect()
    faults = agent.emulator.faults
    # a little above the kit's 5% each: the fates depend on the request's bytes, and a
    # multipart boundary is random, so the draws differ from run to run; at 8% every kind is
    # met in practically every run (no 500 in ~90 requests: 1 in 2,000)
    faults.error_rate, faults.drop_rate, faults.corrupt_rate = 0.08, 0.08, 0.08
    faults.burst_429, faults.retry_after = 10, 0.05
    pending = _items(connection, RECORDS)
    ids: dict[str, str] = {}
    reasons: list[str] = []
    for _round in range(3):
        failed = []
        for item in pending:  # one record per call, as the engine batches this entity
            [result] = connection.upsert("invoice", [item])
            if result.ok:
                assert result.id is not None
                ids[item.key] = result.id
            else:
                reasons.append(result.error or "")
                failed.append(item)
        pending = failed
        if not pending:
            break
    assert not pending, reasons
    met = agent.emulator.injected.by_kind()
    assert {"500", "drop", "429"} <= set(met), met
    assert set(met) & {"truncated", "html_502", "html_200"}, met
    ours = _ours(agent)
    assert len(ours) == RECORDS and len(set(ours)) == RECORDS, "an invoice was issued twice"
    assert sorted(ids) == sorted(ours)
    numbers = agent.emulator.ledger.documents
    assert all(numbers[ids[key]].order_number == key for key in ids)
    secret = str(agent.settings()["agent_key"])
    for reason in reasons:
        assert unreadable(reason, [secret]) is None, reason


def test_a_dropped_create_is_retried_and_issued_once(agent: Agent) -> None:
    connection = agent.connect()
    [item] = _items(connection, 1)
    agent.faults.arm(drop_rate=1.0, drop_mode="after")
    [result] = connection.upsert("invoice", [item])
    assert result.ok, result.error
    assert _ours(agent) == [item.key]
    assert agent.emulator.requests.count(status=None) >= 1


def test_a_corrupted_answer_is_settled_by_asking_for_the_order_number(agent: Agent) -> None:
    connection = agent.connect()
    [item] = _items(connection, 1)
    agent.faults.arm(corrupt_rate=1.0, corrupt_kinds=("truncated",))
    [result] = connection.upsert("invoice", [item])
    assert result.ok, result.error
    assert result.id == f"SBT-{YEAR}-4"
    assert _ours(agent) == [item.key]


def test_a_create_whose_outcome_cannot_be_learnt_is_unknown_then_looked_up(agent: Agent) -> None:
    connection = agent.connect(max_retries=0)
    [item] = _items(connection, 1)
    agent.faults.arm(drop_rate=1.0, drop_mode="after")  # the create: handled, answer lost
    for _ in range(3):  # every attempt of the query that would settle it
        agent.faults.arm(corrupt_rate=1.0, corrupt_kinds=("truncated",))
    [result] = connection.upsert("invoice", [item])
    assert not result.ok and result.unknown
    assert result.error is not None
    assert result.error.startswith("no answer from Számlázz.hu to POST action-xmlagentxmlfile")
    assert result.error.endswith(
        "it may have been written: the next run checks before sending it again"
    )
    assert unreadable(result.error) is None
    # the engine's outbox asks after the crash: the key is found, nothing is sent again
    assert connection.lookup("invoice", [item.key]) == {item.key: f"SBT-{YEAR}-4"}
    assert _ours(agent) == [item.key]


def test_a_failed_read_is_retried(agent: Agent) -> None:
    connection = agent.connect()
    agent.faults.arm(corrupt_rate=1.0, corrupt_kinds=("truncated",))
    agent.faults.arm(error_rate=1.0)
    agent.faults.arm(drop_rate=1.0, drop_mode="after")
    numbers = [r["szamlaszam"] for page in connection.fetch("invoice") for r in page.records]
    assert numbers == [f"SBT-{YEAR}-{n}" for n in (1, 2, 3)]
