"""Reads: walking the number sequences, gaps, years, ids, requests per document, mapping in."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from syncbridge.models import DocumentStatus, Invoice, Quote, VatRate

from .conftest import YEAR, Agent


def _numbers(agent: Agent, entity: str, **settings: object) -> list[str]:
    connection = agent.connect(**settings)
    return [r["szamlaszam"] for page in connection.fetch(entity) for r in page.records]


def test_a_full_read_costs_one_post_per_document_plus_the_gap(
    make_agent: Callable[..., Agent],
) -> None:
    agent = make_agent(records=7)
    before = agent.emulator.requests.count()
    assert _numbers(agent, "invoice", gap=2) == [f"SBT-{YEAR}-{n}" for n in range(1, 8)]
    assert agent.emulator.requests.count() - before == 7 + 2


def test_pages_hold_page_size_documents(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(records=7)
    pages = list(agent.connect(page_size=3).fetch("quote"))
    assert [len(page.records) for page in pages] == [3, 3, 1]
    assert pages[0].records[0]["szamlaszam"] == f"D-SBT-{YEAR}-1"


def test_a_gap_shorter_than_the_setting_is_walked_over(agent: Agent) -> None:
    ledger = agent.emulator.ledger
    del ledger.documents[f"D-SBT-{YEAR}-2"]  # a deleted proforma
    assert _numbers(agent, "quote", gap=2) == [f"D-SBT-{YEAR}-1", f"D-SBT-{YEAR}-3"]
    assert _numbers(agent, "quote", gap=1) == [f"D-SBT-{YEAR}-1"]


def test_earlier_years_are_walked_from_first_year(agent: Agent) -> None:
    ledger = agent.emulator.ledger
    old = ledger.documents.pop(f"SBT-{YEAR}-1")  # issued last year, as it were
    old.number = f"SBT-{YEAR - 1}-1"
    ledger.documents[old.number] = old
    assert _numbers(agent, "invoice") == [f"SBT-{YEAR}-2", f"SBT-{YEAR}-3"]
    assert _numbers(agent, "invoice", first_year=YEAR - 1) == [
        f"SBT-{YEAR - 1}-1",
        f"SBT-{YEAR}-2",
        f"SBT-{YEAR}-3",
    ]


def test_reads_by_ids_skip_unknown_numbers_and_other_kinds(agent: Agent) -> None:
    connection = agent.connect()
    wanted = [f"SBT-{YEAR}-2", "SBT-1999-1", f"D-SBT-{YEAR}-1"]
    invoices = [
        r["szamlaszam"]
        for p in connection.fetch("invoice", query={"ids": wanted})
        for r in p.records
    ]
    assert invoices == [f"SBT-{YEAR}-2"]


def test_seeded_documents_map_in_whole(agent: Agent) -> None:
    connection = agent.connect()
    document = agent.emulator.ledger.documents[f"SBT-{YEAR}-3"]
    [page] = list(connection.fetch("invoice", query={"ids": [document.number]}))
    invoice = connection.map_in("invoice", page.records[0])
    assert isinstance(invoice, Invoice)
    assert invoice.id == invoice.number == document.number
    assert invoice.company_id == "C3"
    assert invoice.status == DocumentStatus.PAID  # the third seeded invoice is paid
    assert invoice.date == document.issued and invoice.due_date == document.due
    assert invoice.locked and not invoice.credit_note
    assert [(line.description, line.quantity, line.unit_price) for line in invoice.lines] == [
        (item.name, item.quantity, item.unit_price) for item in document.items
    ]
    assert invoice.total == document.gross
    [qpage] = list(connection.fetch("quote", query={"ids": [f"D-SBT-{YEAR}-1"]}))
    quote = connection.map_in("quote", qpage.records[0])
    assert isinstance(quote, Quote) and quote.status == DocumentStatus.SENT


def test_vat_keys_are_read_without_a_request(agent: Agent) -> None:
    connection = agent.connect()
    before = agent.emulator.requests.count()
    rates = [
        connection.map_in("vat_rate", r) for p in connection.fetch("vat_rate") for r in p.records
    ]
    assert agent.emulator.requests.count() == before
    by_id = {rate.id: rate for rate in rates if isinstance(rate, VatRate)}
    assert len(by_id) == 25
    assert by_id["27"].rate == Decimal(27) and by_id["27"].exemption_code is None
    assert by_id["AAM"].rate == Decimal(0) and by_id["AAM"].exemption_code == "AAM"
