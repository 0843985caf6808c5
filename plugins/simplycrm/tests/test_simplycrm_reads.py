"""Reads through the connector: the sync feed and its cursor (ties past 100), sessions that
end mid-read, reads by id (single-record sync), invoices whole, the custom field map."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from syncbridge import ConfigError, ConnectorError
from syncbridge.connection import Connection
from syncbridge.models import Company, Invoice
from syncbridge.records import Page
from syncbridge.rest import Cursor
from syncbridge_simplycrm import api
from syncbridge_simplycrm.auth import SessionAuth
from syncbridge_simplycrm.emulator.modules import ACCOUNTS, INVOICE

from .conftest import Crm

TIED = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def read(connection: Connection, entity: str, since: str | None = None) -> tuple[
    list[str], str | None
]:
    """The ids of a read, in order, and the cursor it ends with."""
    ids: list[str] = []
    cursor = None
    for page in connection.fetch(entity, since):
        ids += [str(r["id"]) for r in page.records]
        cursor = page.cursor or cursor
    return ids, cursor


@pytest.fixture
def tied(make_crm: Callable[..., Crm]) -> Crm:
    """150 organisations, 130 of them stamped in one second (a mass edit)."""
    crm = make_crm(records=150)
    crm.emulator.stamp("Accounts", [2 + 3 * n for n in range(130)], TIED)
    return crm


def test_a_full_read_takes_every_tied_record_once(tied: Crm) -> None:
    ids, cursor = read(tied.connect(), "company")
    assert len(ids) == 150 and len(set(ids)) == 150
    assert cursor is not None
    # every record of the tied instant was read: the cursor moves past it, without an id
    assert Cursor.parse(cursor) == Cursor(TIED.replace(second=1))


def test_a_read_resumed_inside_a_tie_goes_on_after_the_id(tied: Crm) -> None:
    """A cursor naming a record of the tied instant (a read stopped there) yields the rest
    of that instant after that id, and nothing before it."""
    connection = tied.connect()
    ids, _cursor = read(connection, "company", str(Cursor(TIED, "11x200")))
    tied_ids = {f"11x{2 + 3 * n}" for n in range(130)}
    assert set(ids) == {i for i in tied_ids if int(i[3:]) > 200}
    assert len(ids) == len([n for n in range(130) if 2 + 3 * n > 200])


def test_an_incremental_read_yields_only_later_changes(tied: Crm) -> None:
    connection = tied.connect()
    _ids, cursor = read(connection, "company")
    tied.emulator.change(ACCOUNTS, 5, {"phone": "+45 1"}, partial=True)
    again, cursor2 = read(connection, "company", cursor)
    assert again == ["11x5"]
    assert cursor2 is not None


def test_a_session_that_ends_mid_run_is_renewed_once(crm: Crm) -> None:
    connection = crm.connect()
    first, _ = read(connection, "contact")
    crm.emulator.sessions.expire_all()
    second, _ = read(connection, "contact")
    assert first == second and len(first) == 5
    auth = connection.client.auth
    assert isinstance(auth, SessionAuth) and auth.logins == 2
    assert crm.emulator.sessions.logins == 2


def test_reading_by_ids_is_the_single_record_sync(crm: Crm) -> None:
    """``fetch(query={"ids": ...})`` (``syncbridge run --record``): those records only, one
    query for all; an id the CRM does not know is left out."""
    connection = crm.connect()
    pages = list(connection.fetch("company", None, {"ids": ["11x5", "11x999", "11x2"]}))
    assert sorted(r["id"] for p in pages for r in p.records) == ["11x2", "11x5"]
    assert all(p.cursor is None for p in pages)
    queries = [e for e in crm.log if "operation=query" in e.url]
    assert len(queries) == 1


def test_invoices_are_read_whole_with_lines_currency_and_totals(crm: Crm) -> None:
    connection = crm.connect()
    pages: list[Page] = list(connection.fetch("invoice", None, {"ids": ["16x17"]}))
    records = [r for p in pages for r in p.records]
    assert [r["id"] for r in records] == ["16x17"]
    invoice = connection.map_in("invoice", records[0], pages[0].context_of("16x17"))
    assert isinstance(invoice, Invoice)
    assert invoice.currency == "DKK"
    assert invoice.company_id == "11x2"
    assert [line.product_id for line in invoice.lines] == ["14x4", "14x7"]
    assert all(line.vat_percent == Decimal(25) for line in invoice.lines)
    # the CRM keeps its grand total unrounded (1321.1); what is owed is each line's net and
    # VAT in øre, summed, as Dinero books it: 1321.11, within half an øre a line of the lines
    assert Decimal(records[0]["hdnGrandTotal"]) == Decimal("1321.1")
    assert invoice.total == invoice.balance == Decimal("1321.11")
    assert abs(invoice.gross_total - invoice.total) <= Decimal("0.005") * len(invoice.lines)


def test_the_priority_module_decides_who_an_invoice_is_for(crm: Crm) -> None:
    crm.emulator.change(INVOICE, 17, {"contact_id": "12x3"}, partial=True)
    for party, company_id, contact_id in (("organisation", "11x2", None),
                                          ("contact", None, "12x3")):
        connection = crm.connect(invoice_party=party)
        page = next(iter(connection.fetch("invoice", None, {"ids": ["16x17"]})))
        invoice = connection.map_in("invoice", page.records[0], page.context_of("16x17"))
        assert isinstance(invoice, Invoice)
        # the other party is not part of the synced invoice: one customer, as in Dinero
        assert (invoice.company_id, invoice.contact_id) == (company_id, contact_id)


def test_deletions_come_with_the_changes(crm: Crm) -> None:
    connection = crm.connect()
    _ids, cursor = read(connection, "product")
    [gone] = connection.delete("product", ["14x7"])
    assert gone.ok
    pages = list(connection.fetch("product", cursor))
    assert [p.deleted for p in pages] == [["14x7"]]
    assert [r for p in pages for r in p.records] == []


def test_a_full_invoice_read_retrieves_each_invoice(crm: Crm) -> None:
    connection = crm.connect()
    ids, _cursor = read(connection, "invoice")
    assert len(ids) == 5
    retrieves = [e for e in crm.log if "operation=retrieve" in e.url]
    assert len(retrieves) == 5


def test_the_custom_mapping_reads_custom_fields(crm: Crm) -> None:
    connection = crm.connect(fields={"company": {"vat_number": "cf_853", "notes": ""}})
    assert "vat_number" in (connection.info.entity("company").fields or ())
    assert "notes" not in (connection.info.entity("company").fields or ())
    page = next(iter(connection.fetch("company", None, {"ids": ["11x2"]})))
    company = connection.map_in("company", page.records[0], {})
    assert isinstance(company, Company)
    assert company.country == "DK"
    assert company.vat_number == "DK" + page.records[0]["cf_853"]


def test_a_bad_custom_mapping_names_the_setting(crm: Crm) -> None:
    with pytest.raises(ConfigError, match=r"settings.fields.company.lines: not a plain field"):
        crm.connect(fields={"company": {"lines": "cf_1"}})
    with pytest.raises(ConfigError, match=r"settings.fields.offer: simplycrm maps no entity"):
        crm.connect(fields={"offer": {"name": "cf_1"}})


def test_a_refused_query_stops_with_the_api_words(crm: Crm) -> None:
    connection = crm.connect()
    with pytest.raises(ConnectorError) as raised:
        api.query(connection.client, "SELECT * FROM Accounts")  # type: ignore[arg-type]
    assert str(raised.value) == (
        "Simply CRM answered operation query with QUERY_SYNTAX_ERROR: Syntax Error on line 1: "
        "token '$' Unexpected $, expected one of: ;"
    )
