"""Writes through the connector, over HTTP to the emulator: issuing, totals across the trip,
tax numbers, buyers, immutability, idempotency, lookup, proforma deletes, storno and credit
entries, and reads of what was written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from syncbridge import UpsertItem
from syncbridge.connection import Connection
from syncbridge.models import DocumentStatus, Invoice, Quote
from syncbridge_szamlazz import writes
from syncbridge_szamlazz.connector import describe

from .conftest import YEAR, Agent

BUYER = {
    "nev": "Kovács és Társa Bt.",
    "irsz": "2030",
    "telepules": "Érd",
    "cim": "Tárnoki út 23.",
    "adoszam": "12892312213",
}


def _invoice(**changes: Any) -> Invoice:
    values: dict[str, Any] = {
        "date": date(YEAR, 3, 1),
        "due_date": date(YEAR, 3, 9),
        "currency": "HUF",
        "company_id": "C-42",
        "status": "issued",
        "notes": "Köszönjük a vásárlást",
        "lines": [
            {
                "description": "Tanácsadás",
                "quantity": Decimal(3),
                "unit_price": Decimal("12500"),
                "unit": "óra",
                "vat_percent": Decimal(27),
                "code": "TAN-1",
            },
            {
                "description": "Könyv",
                "quantity": Decimal(2),
                "unit_price": Decimal("3990.50"),
                "unit": "db",
                "vat_percent": Decimal(5),
            },
            {
                "description": "Alanyi adómentes szolgáltatás",
                "quantity": Decimal(1),
                "unit_price": Decimal("7000"),
                "vat_rate_id": "AAM",
                "vat_percent": Decimal(0),
            },
        ],
        **changes,
    }
    return Invoice(**values)


def _item(
    connection: Connection, record: Invoice | Quote, key: str, buyer: dict[str, str] | None = None
) -> UpsertItem:
    """The write the engine would send, the buyer filled in as an extension wrapping
    ``map(out)`` fills it (canonical documents carry only the customer's id)."""
    entity = "quote" if isinstance(record, Quote) else "invoice"
    native = connection.map_out(entity, record, {})
    native["vevo"] = {**native["vevo"], **(BUYER if buyer is None else buyer)}
    return UpsertItem(key=key, record=native)


def _issue(agent: Agent, connection: Connection, record: Invoice | Quote, key: str) -> str:
    entity = "quote" if isinstance(record, Quote) else "invoice"
    [result] = connection.upsert(entity, [_item(connection, record, key)])
    assert result.ok, result.error
    assert result.id is not None
    return result.id


def _read(connection: Connection, entity: str, number: str) -> tuple[dict[str, Any], Any]:
    [page] = list(connection.fetch(entity, query={"ids": [number]}))
    [native] = page.records
    return native, connection.map_in(entity, native)


def test_an_invoice_reads_back_with_the_totals_sent(agent: Agent) -> None:
    connection = agent.connect()
    sent = _invoice()
    item = _item(connection, sent, "sb-totals")
    before = agent.emulator.requests.count()
    [result] = connection.upsert("invoice", [item])
    assert result.ok and result.id == f"SBT-{YEAR}-4"
    assert agent.emulator.requests.count() - before == 1  # one POST per document issued
    native, read = _read(connection, "invoice", result.id)
    # the number the Agent gave it is read, and is in the result: the document as it reads
    assert read.number == result.id and "number" in describe().entities["invoice"].fields
    assert result.record is not None
    assert connection.map_in("invoice", result.record).number == result.id
    # per line: the net, VAT and gross sent are the ones read back
    amounts = ("nettoErtek", "afaErtek", "bruttoErtek")
    assert [[line[a] for a in amounts] for line in item.record["tetelek"]] == [
        ["37500.00", "10125.00", "47625.00"],
        ["7981.00", "399.05", "8380.05"],
        ["7000.00", "0.00", "7000.00"],
    ]
    assert [[Decimal(line[a]) for a in amounts] for line in native["tetelek"]] == [
        [Decimal(line[a]) for a in amounts] for line in item.record["tetelek"]
    ]
    # per document: canonical totals equal, and the Agent's own totals agree
    assert isinstance(read, Invoice)
    assert (
        (read.net_total, read.tax_total, read.gross_total)
        == (
            sent.net_total,
            sent.tax_total,
            sent.gross_total,
        )
        == (Decimal("52481.00"), Decimal("10524.05"), Decimal("63005.05"))
    )
    document = agent.emulator.ledger.documents[result.id]
    assert (document.net, document.vat, document.gross) == (
        Decimal("52481.00"),
        Decimal("10524.05"),
        Decimal("63005.05"),
    )
    assert read.total == Decimal("63005.05")
    assert [(line.vat_rate_id, line.vat_percent) for line in read.lines] == [
        (None, Decimal(27)),
        (None, Decimal(5)),
        ("AAM", Decimal(0)),
    ]
    assert read.lines == sent.lines
    assert (read.company_id, read.status, read.locked, read.notes) == (
        "C-42",
        DocumentStatus.ISSUED,
        True,
        "Köszönjük a vásárlást",
    )
    assert document.order_number == document.external_id == "sb-totals"


def test_the_buyers_tax_number_is_normalised_or_refused(agent: Agent) -> None:
    connection = agent.connect()
    number = _issue(agent, connection, _invoice(), "sb-tax")
    assert agent.emulator.ledger.documents[number].buyer["adoszam"] == "12892312-2-13"
    bad = _item(connection, _invoice(), "sb-bad-tax", {**BUYER, "adoszam": "12345678-1-23"})
    [result] = connection.upsert("invoice", [bad])
    assert not result.ok
    assert result.error == (
        "adoszam: '12345678-1-23' has an invalid törzsszám 12345678 (The number's checksum "
        "or check digit is invalid.); check the number"
    )


def test_an_invoice_without_a_buyer_name_is_refused_before_sending(agent: Agent) -> None:
    connection = agent.connect(buyer_required=True)
    item = UpsertItem(key="sb-nobody", record=connection.map_out("invoice", _invoice(), {}))
    before = agent.emulator.requests.count()
    [result] = connection.upsert("invoice", [item])
    assert not result.ok and result.error is not None
    assert result.error.startswith(
        "vevo.nev: the buyer has no name. Számlázz.hu keeps no customers"
    )
    assert agent.emulator.requests.count() == before


def test_a_draft_or_a_credit_note_is_not_issued(agent: Agent) -> None:
    connection = agent.connect()
    from syncbridge import SkipRecord

    with pytest.raises(SkipRecord, match="status draft: only issued invoices"):
        connection.map_out("invoice", _invoice(status="draft"), {})
    with pytest.raises(SkipRecord, match="by reversing"):
        connection.map_out("invoice", _invoice(credit_note=True), {})


def test_an_issued_invoice_is_never_updated(agent: Agent) -> None:
    connection = agent.connect()
    number = _issue(agent, connection, _invoice(), "sb-once")
    update = UpsertItem(
        key="sb-update", record=_item(connection, _invoice(), "x").record, id=number
    )
    [result] = connection.upsert("invoice", [update])
    assert not result.ok
    assert result.error == (
        f"{number} is issued and Számlázz.hu never edits an issued document: reverse it "
        "(storno) and issue a new one, or delete the proforma, in Számlázz.hu"
    )
    assert agent.emulator.ledger.documents[number].gross == Decimal("63005.05")


def test_a_create_sent_twice_issues_one_invoice(agent: Agent) -> None:
    connection = agent.connect()
    first = _issue(agent, connection, _invoice(), "sb-twice")
    second = _issue(agent, connection, _invoice(), "sb-twice")
    assert first == second
    assert [d.order_number for d in agent.emulator.ledger.documents.values()].count("sb-twice") == 1
    assert connection.lookup("invoice", ["sb-twice", "sb-never"]) == {"sb-twice": first}
    assert connection.lookup("quote", ["sb-twice"]) == {}


def test_a_proforma_is_issued_read_and_deleted(agent: Agent) -> None:
    connection = agent.connect()
    quote = Quote(
        date=date(YEAR, 3, 1),
        valid_until=date(YEAR, 3, 15),
        currency="HUF",
        company_id="C-7",
        lines=[{"description": "Előleg", "quantity": 1, "unit_price": "10000", "vat_percent": 27}],
    )
    number = _issue(agent, connection, quote, "sb-proforma")
    assert number == f"D-SBT-{YEAR}-4"
    _, read = _read(connection, "quote", number)
    assert isinstance(read, Quote)
    assert (read.valid_until, read.company_id, read.locked) == (date(YEAR, 3, 15), "C-7", True)
    assert [r.ok for r in connection.delete("quote", [number, number])] == [True, True]
    assert number not in agent.emulator.ledger.documents
    assert [p.records for p in connection.fetch("quote", query={"ids": [number]})] == [[]]


def test_invoices_cannot_be_deleted(agent: Agent) -> None:
    connection = agent.connect()
    from syncbridge import ConnectorError

    with pytest.raises(ConnectorError, match="reversed \\(storno\\), never deleted"):
        connection.delete("invoice", [f"SBT-{YEAR}-1"])


def test_storno_and_credit_entries_show_on_the_next_read(agent: Agent) -> None:
    connection = agent.connect()
    paid = _issue(agent, connection, _invoice(), "sb-paid")
    reversed_ = _issue(agent, connection, _invoice(), "sb-reversed")
    client = connection.client
    assert writes.credit(client, paid, Decimal("3005.05"), date(YEAR, 3, 2), "Átutalás") == Decimal(
        "60000"
    )
    assert _read(connection, "invoice", paid)[1].status == DocumentStatus.PARTIALLY_PAID
    writes.credit(client, paid, Decimal("60000"), date(YEAR, 3, 3), "Átutalás")
    assert _read(connection, "invoice", paid)[1].status == DocumentStatus.PAID
    storno = writes.reverse(client, reversed_)
    assert storno == f"SBT-{YEAR}-6"
    assert _read(connection, "invoice", reversed_)[1].status == DocumentStatus.CANCELLED
    _, credit_note = _read(connection, "invoice", storno)
    assert credit_note.credit_note and credit_note.total == Decimal("-63005.05")
    numbers = [r["szamlaszam"] for p in connection.fetch("invoice") for r in p.records]
    assert numbers == [f"SBT-{YEAR}-{n}" for n in range(1, 7)]


def test_check_says_why_the_key_is_refused(agent: Agent) -> None:
    assert agent.connect().check().ok
    result = agent.connect(agent_key="wrong").check()
    assert not result.ok
    assert "error 3: Bejelentkezési hiba" in result.reason
    assert "check agent_key" in result.reason and "wrong" not in result.reason


def test_payments_are_credit_entries_with_their_position_as_id(agent: Agent) -> None:
    from syncbridge.models import Payment

    connection = agent.connect()
    number = _issue(agent, connection, _invoice(), "sb-pay")

    def pay(key: str, **changes: Any) -> Any:
        values: dict[str, Any] = {
            "amount": Decimal("3005.05"),
            "date": date(YEAR, 3, 4),
            "currency": "HUF",
            "invoice_id": number,
            "reference": key,
        }
        record = connection.map_out("payment", Payment(**{**values, **changes}), {})
        [result] = connection.upsert("payment", [UpsertItem(key=key, record=record)])
        return result

    first, second = pay("first"), pay("second", amount=Decimal(60000))
    assert (first.id, second.id) == (f"{number}/1", f"{number}/2")
    [page] = list(connection.fetch("payment", query={"ids": [second.id]}))
    [read] = [connection.map_in("payment", r) for r in page.records]
    assert isinstance(read, Payment)
    assert (read.id, read.amount, read.invoice_id, read.company_id, read.reference) == (
        second.id,
        Decimal(60000),
        number,
        "C-42",
        "second",
    )
    assert connection.map_in("payment", second.record, {}) == read
    assert _read(connection, "invoice", number)[1].status == DocumentStatus.PAID
    assert pay("eur", currency="EUR").error == (
        f"currency: the payment is in EUR, invoice {number} in HUF; credit entries are in the "
        "invoice's currency"
    )
    assert pay("nowhere", invoice_id="SBT-1999-1").error == (
        "invoice_id: SBT-1999-1 is no invoice in Számlázz.hu"
    )
