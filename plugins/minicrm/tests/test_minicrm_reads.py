"""Reads: contacts with their addresses, the customer filter pushed down, the cursor, invoices,
tax numbers checked, and what each record costs in requests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import pytest

from syncbridge import ConnectorError, RecordError
from syncbridge.http import LoggedRequest
from syncbridge.models import Company, Contact, DocumentStatus, Invoice, Quote

if TYPE_CHECKING:
    from conftest import Crm


def path(entry: LoggedRequest) -> str:
    """The path and query of a logged request."""
    url = urlsplit(entry.url)
    return url.path + (f"?{unquote(url.query)}" if url.query else "")


def test_companies_read_with_their_addresses_and_tax_numbers(crm: Crm) -> None:
    connection = crm.connect()
    pages = list(connection.fetch("company"))
    companies = [c for page in pages for c in connection.map_page("company", page)]
    assert [c.id for c in companies] == ["1", "2", "3", "4", "5", "6"]
    first, second = companies[0], companies[1]
    assert isinstance(first, Company) and isinstance(second, Company)
    office = crm.table("address").list(lambda a: a["ContactId"] == 2 and a["Type"] == "Székhely")
    mailing = crm.table("address").list(lambda a: a["ContactId"] == 2 and a["Type"] != "Székhely")
    assert (second.address, second.city, second.postal_code, second.country) == (
        office[0]["Address"],
        office[0]["City"],
        office[0]["PostalCode"],
        "HU",
    )
    assert (second.mailing_address, second.mailing_city) == (
        mailing[0]["Address"],
        mailing[0]["City"],
    )
    assert first.mailing_address is None  # every other company has a mailing address
    raw = crm.table("contact").get(1)
    assert first.tax_code == raw["VatNumber"] and first.vat_number == raw["EUVatNumber"]
    assert first.status is None  # no customer filter: no card is read
    # a list page, then a detail and an address list per company
    assert [path(entry).split("?")[0] for entry in crm.log[:3]] == [
        "/Api/R3/Contact",
        "/Api/R3/Contact/1",
        "/Api/R3/AddressList/1",
    ]
    assert len(crm.log) == 1 + 2 * 6


def test_persons_read_with_their_company(crm: Crm) -> None:
    connection = crm.connect()
    people = [
        c for page in connection.fetch("contact") for c in connection.map_page("contact", page)
    ]
    assert [p.id for p in people] == ["7", "8", "9", "10", "11", "12"]
    person = people[0]
    assert isinstance(person, Contact)
    raw = crm.table("contact").get(7)
    assert (person.first_name, person.last_name, person.company_id) == (
        raw["FirstName"],
        raw["LastName"],
        "1",
    )


def test_the_customer_filter_is_pushed_down_to_the_cards(crm: Crm) -> None:
    connection = crm.connect(customer_category=23, statuses=["Customer"])
    pages = list(connection.fetch("company"))
    companies = [c for page in pages for c in connection.map_page("company", page)]
    # seeded Sales cards cycle Customer, Customer, Lead, Lost: companies 1, 2, 5, 6
    assert [c.id for c in companies] == ["1", "2", "5", "6"]
    assert {c.status for c in companies if isinstance(c, Company)} == {"Customer"}
    asked = [path(entry) for entry in crm.log if path(entry).startswith("/Api/R3/Project")]
    assert asked == ["/Api/R3/Project?CategoryId=23&StatusId=2501&Page=0"]
    assert not any(path(entry) == "/Api/R3/Contact/3" for entry in crm.log)


def test_an_unknown_status_names_the_ones_there_are(crm: Crm) -> None:
    connection = crm.connect(customer_category=23, statuses=["Vevő"])
    with pytest.raises(ConnectorError, match="has no status 'Vevő'; it has Lead, Customer, Lost"):
        list(connection.fetch("company"))


def test_incremental_reads_follow_updated_at(crm: Crm) -> None:
    connection = crm.connect()
    cursor = [page.cursor for page in connection.fetch("company")][-1]
    assert cursor is not None
    crm.table("contact").update(4, {"Phone": "+36 1 234 5678"})
    changed = [r["Id"] for page in connection.fetch("company", since=cursor) for r in page.records]
    assert changed == [4]
    assert any("UpdatedSince=" in path(entry) for entry in crm.log)


def test_a_contact_that_becomes_a_customer_is_read_since_the_cursor(crm: Crm) -> None:
    connection = crm.connect(customer_category=23, statuses=["Customer"])
    cursor = [page.cursor for page in connection.fetch("company")][-1]
    assert cursor is not None
    card = crm.table("project").list(lambda p: p["ContactId"] == 3 and p["CategoryId"] == 23)[0]
    crm.table("project").update(card["id"], {"StatusId": 2501})  # Lead -> Customer
    pages = list(connection.fetch("company", since=cursor))
    found = [c for page in pages for c in connection.map_page("company", page)]
    # company 3's card changed; company 6's card was seeded after company 6 itself, the
    # newest contact the cursor names, so it counts as changed since then too
    assert [(c.id, getattr(c, "status", None)) for c in found] == [
        ("3", "Customer"),
        ("6", "Customer"),
    ]
    assert [
        r["Id"] for page in connection.fetch("company", since=cursor) for r in page.records
    ] == [
        3,
        6,
    ]


def test_invoices_read_with_customer_and_amounts(make_crm: Callable[..., Crm]) -> None:
    crm = make_crm(records=2)
    with crm.http() as http:
        made = http.post(
            "/Api/Invoice",
            json={
                "CustomerId": 3,  # a person
                "Type": "Proforma",
                "Issued": "2026-03-02",
                "Prompt": "2026-03-10",
                "Items": [{"Name": "Tanácsadás", "PriceNet": "12500", "Quantity": 100}],
            },
        ).json()
    connection = crm.connect()
    pages = list(connection.fetch("invoice"))
    invoices = {i.id: i for page in pages for i in connection.map_page("invoice", page)}
    assert str(made["Id"]) not in invoices  # a proforma is no invoice: it reads as a quote
    quote_pages = list(connection.fetch("quote"))
    quotes = {q.id: q for page in quote_pages for q in connection.map_page("quote", page)}
    assert list(quotes) == [str(made["Id"])]
    proforma = quotes[str(made["Id"])]
    assert isinstance(proforma, Quote)
    assert (proforma.contact_id, proforma.company_id) == ("3", None)
    assert proforma.valid_until == date(2026, 3, 10)
    assert proforma.net_total == Decimal("1250000") and proforma.status == DocumentStatus.SENT
    line = proforma.lines[0]
    assert (line.quantity, line.unit_price, line.vat_percent) == (
        Decimal(100),
        Decimal(12500),
        Decimal(27),
    )
    seeded = invoices["1"]
    assert isinstance(seeded, Invoice) and seeded.company_id == "1" and seeded.locked
    assert seeded.total == Decimal(crm.table("invoice").get(1)["Amount"])
    assert quote_pages[0].context_of(made["Id"]) == {
        "customer_type": "Person",
        "document_type": "Proforma",
    }
    assert set(invoices) == {str(row["id"]) for row in crm.table("invoice").list()} - {
        str(made["Id"])
    }


def test_a_bad_tax_number_fails_its_record_naming_the_field(crm: Crm) -> None:
    crm.table("contact").update(2, {"VatNumber": "12345678-2-41"})
    crm.table("contact").update(3, {"EUVatNumber": "HU1234"})
    connection = crm.connect()
    page = next(iter(connection.fetch("company", query={"ids": ["2", "3"]})))
    with pytest.raises(RecordError) as bad_tax:
        connection.map_in("company", page.records[0], page.context_of(2))
    with pytest.raises(RecordError) as bad_vat:
        connection.map_in("company", page.records[1], page.context_of(3))
    assert str(bad_tax.value) == (
        "VatNumber: '12345678-2-41' is not a valid Hungarian tax number (adószám): The "
        "number's checksum or check digit is invalid.; correct it on the contact in MiniCRM "
        "(8+1+2 digits, e.g. 12345676-2-41) or clear the field"
    )
    assert str(bad_vat.value).startswith("EUVatNumber: 'HU1234' is not a valid EU VAT number")
    assert "correct it on the contact in MiniCRM" in str(bad_vat.value)


def test_reading_by_ids_skips_the_other_kind_and_the_missing(crm: Crm) -> None:
    connection = crm.connect()
    pages = list(connection.fetch("company", query={"ids": ["1", "8", "999", "x"]}))
    assert [r["Id"] for page in pages for r in page.records] == [1]
