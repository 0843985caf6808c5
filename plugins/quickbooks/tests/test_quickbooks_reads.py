"""Reads: query paging, the company/contact split, CDC increments with deletions, fallbacks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from syncbridge.connection import Connection
from syncbridge.models import Company, Contact
from syncbridge.rest import Cursor
from syncbridge_quickbooks import query as q
from syncbridge_quickbooks.api import api

if TYPE_CHECKING:
    from conftest import Served


def test_a_full_read_pages_with_startposition_and_maxresults(
    serve: Callable[..., Served],
) -> None:
    served = serve(records=12)  # 12 companies, 6 people, 3 jobs: 21 customers
    conn = served.connect(page_size=5)
    pages = list(conn.fetch("company"))
    statements = [s for s in served.queries() if "FROM Customer" in s and "Id IN" not in s]
    assert statements == [
        f"SELECT * FROM Customer ORDERBY Id STARTPOSITION {start} MAXRESULTS 5"
        for start in (1, 6, 11, 16, 21)
    ]
    assert len(pages) == 5
    ids = [r["Id"] for page in pages for r in page.records]
    expected = [
        c["Id"]
        for c in served.emulator.books.rendered("Customer")
        if c.get("CompanyName") or not (c.get("GivenName") or c.get("FamilyName"))
    ]
    assert ids == expected and len(ids) == 15  # each exactly once, in Id order
    # the toolkit's cursor (<UTC instant>#<Id>), saved with the last page only
    assert [page.cursor is not None for page in pages] == [False] * 4 + [True]
    assert str(Cursor.parse(pages[-1].cursor or "")) == pages[-1].cursor
    assert served.emulator.minor_versions.keys() == {"75"}  # minorversion on every request


def test_customers_split_into_companies_and_contacts_with_jobs_kept_apart(
    served: Served, qbo: Connection
) -> None:
    books = served.emulator.books
    acme = books.create(
        "Customer",
        {
            "CompanyName": "Acme Holding GmbH",
            "DisplayName": "Acme Holding GmbH",
            "BillAddr": {
                "Line1": "Hauptstraße 5",
                "City": "Köln",
                "PostalCode": "50667",
                "Country": "Germany",
            },
        },
    )
    hans = books.create(
        "Customer",
        {
            "GivenName": "Hans",
            "FamilyName": "Becker",
            "ParentRef": {"value": acme["Id"]},
            "PrimaryEmailAddr": {"Address": "hans.becker@acme-holding.de"},
        },
    )
    job = books.create(
        "Customer", {"DisplayName": "Fit-out Köln", "ParentRef": {"value": acme["Id"]}}
    )
    lea = books.create(
        "Customer", {"GivenName": "Lea", "FamilyName": "Becker", "ParentRef": {"value": hans["Id"]}}
    )
    named = books.create(
        "Customer",
        {
            "CompanyName": "Brightwater Inc",
            "GivenName": "Tom",
            "FamilyName": "Hill",
            "DisplayName": "Brightwater Inc",
        },
    )

    companies = {c.id: c for page in qbo.fetch("company") for c in qbo.map_page("company", page)}
    contacts = {c.id: c for page in qbo.fetch("contact") for c in qbo.map_page("contact", page)}
    new_companies = {
        k: v for k, v in companies.items() if k in {acme["Id"], job["Id"], named["Id"]}
    }
    assert {c.name for c in new_companies.values()} == {
        "Acme Holding GmbH",
        "Acme Holding GmbH:Fit-out Köln",  # the job, named with its parent
        "Brightwater Inc",  # a company name wins over the person's name on it
    }
    assert isinstance(companies[acme["Id"]], Company)
    assert companies[acme["Id"]].country == "DE" and companies[acme["Id"]].city == "Köln"
    assert set(contacts) >= {hans["Id"], lea["Id"]}
    assert not set(contacts) & {acme["Id"], job["Id"], named["Id"]}
    hans_contact = contacts[hans["Id"]]
    assert isinstance(hans_contact, Contact)
    assert (hans_contact.first_name, hans_contact.last_name) == ("Hans", "Becker")
    assert hans_contact.company_id == acme["Id"]  # a person filed under a company
    assert contacts[lea["Id"]].company_id is None  # under a person: no company to point at


def test_an_incremental_read_uses_cdc_and_reports_deletions(
    served: Served, qbo: Connection
) -> None:
    books = served.emulator.books
    first = list(qbo.fetch("invoice"))
    cursor = first[-1].cursor
    assert cursor is not None
    invoices = books.rendered("Invoice")
    open_invoice = next(i for i in invoices if not i.get("LinkedTxn"))
    doomed = next(i for i in invoices if not i.get("LinkedTxn") and i["Id"] != open_invoice["Id"])
    books.update(
        "Invoice",
        {
            "Id": open_invoice["Id"],
            "SyncToken": open_invoice["SyncToken"],
            "sparse": True,
            "PrivateNote": "Call before delivery",
        },
    )
    books.delete("Invoice", {"Id": doomed["Id"], "SyncToken": doomed["SyncToken"]})
    before = served.count("GET", "/cdc")

    pages = list(qbo.fetch("invoice", since=cursor))

    assert served.count("GET", "/cdc") == before + 1
    [page] = pages
    assert [r["Id"] for r in page.records] == [open_invoice["Id"]]
    assert page.deleted == [doomed["Id"]]
    assert qbo.map_page("invoice", page)[0].notes == "Call before delivery"
    assert page.cursor is not None and page.cursor >= cursor


def test_a_deactivated_customer_is_reported_as_deleted_to_its_own_entity(
    served: Served, qbo: Connection
) -> None:
    books = served.emulator.books
    cursor = list(qbo.fetch("company"))[-1].cursor
    company = next(c for c in books.rendered("Customer") if c.get("CompanyName"))
    books.update(
        "Customer",
        {"Id": company["Id"], "SyncToken": company["SyncToken"], "sparse": True, "Active": False},
    )
    [page] = list(qbo.fetch("company", since=cursor))
    assert page.deleted == [company["Id"]] and page.records == []
    [contacts] = list(qbo.fetch("contact", since=cursor))
    assert contacts.deleted == [] and contacts.records == []
    assert company["Id"] not in {r["Id"] for p in qbo.fetch("company") for r in p.records}


def test_a_cursor_older_than_30_days_is_read_by_lastupdatedtime_query(
    served: Served, qbo: Connection
) -> None:
    old = "2024-01-01T00:00:00-08:00"  # seeded data dates from January 2024
    pages = list(qbo.fetch("product", since=old))
    assert served.count("GET", "/cdc") == 0
    assert served.queries()[-1] == (
        "SELECT * FROM Item WHERE Metadata.LastUpdatedTime >= '2024-01-01T08:00:00+00:00' "
        "AND Active IN (true, false) ORDERBY Metadata.LastUpdatedTime STARTPOSITION 1 "
        "MAXRESULTS 1000"
    )
    assert len([r for p in pages for r in p.records]) == 12
    assert pages[-1].cursor is not None and pages[-1].cursor > old


def test_a_cdc_answer_at_the_cap_is_read_again_by_query(serve: Callable[..., Served]) -> None:
    served = serve(records=12)
    served.emulator.cdc_max_objects = 3
    conn = served.connect(cdc_max_objects=3)
    cursor = list(conn.fetch("product"))[-1].cursor
    books = served.emulator.books
    changed = books.rendered("Item")[:5]
    for item in changed:
        books.update(
            "Item",
            {
                "Id": item["Id"],
                "SyncToken": item["SyncToken"],
                "sparse": True,
                "Description": "Reprinted catalogue text",
            },
        )
    pages = list(conn.fetch("product", since=cursor))
    assert served.count("GET", "/cdc") == 1  # three objects: perhaps cut, so...
    assert "Metadata.LastUpdatedTime >=" in served.queries()[-1]  # ...the window by query
    assert sorted(r["Id"] for p in pages for r in p.records) == sorted(i["Id"] for i in changed)


def test_reading_by_ids_and_vat_rates_from_tax_codes(served: Served, qbo: Connection) -> None:
    [page] = list(qbo.fetch("invoice", query={"ids": ["2", "1"]}))
    assert sorted(r["Id"] for r in page.records) == ["1", "2"]
    rates = {r.name: r.rate for p in qbo.fetch("vat_rate") for r in qbo.map_page("vat_rate", p)}
    # the purchase-only code VSt 19% is no VAT rate of a sale
    assert {k: str(v) for k, v in rates.items()} == {
        "California": "7.25",
        "USt 19%": "19",
        "USt 7%": "7",
        "Steuerfrei": "0",
    }
    methods = [
        qbo.map_in("payment_method", r) for p in qbo.fetch("payment_method") for r in p.records
    ]
    assert [m.name for m in methods][:3] == ["Cash", "Check", "Visa"]
    currencies = [qbo.map_in("currency", r) for p in qbo.fetch("currency") for r in p.records]
    assert sorted(c.code for c in currencies) == ["EUR", "GBP"]


def test_a_long_statement_is_posted_as_application_text(served: Served, qbo: Connection) -> None:
    names = [f"Nonexistent item number {n}" for n in range(60)]
    statement = "SELECT * FROM Item WHERE Name IN (" + ", ".join(map(q.literal, names)) + ")"
    answer, at = api(qbo.client).query(statement)
    assert answer == {"startPosition": 1, "maxResults": 0} and at is not None
    assert served.count("POST", "/query") == 1
    assert served.log[-1].method == "POST" and "query=" not in served.log[-1].url


def test_a_voided_invoice_reads_as_cancelled(served: Served, qbo: Connection) -> None:
    books = served.emulator.books
    invoice = next(i for i in books.rendered("Invoice") if not i.get("LinkedTxn"))
    books.void("Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]})
    [page] = list(qbo.fetch("invoice", query={"ids": [invoice["Id"]]}))
    [voided] = qbo.map_page("invoice", page)
    assert (voided.status, voided.total, voided.balance) == ("cancelled", 0, 0)


def _touch(served: Served, entity: str, record: dict[str, Any], note: str) -> None:
    served.emulator.books.update(
        entity,
        {"Id": record["Id"], "SyncToken": record["SyncToken"], "sparse": True, "PrivateNote": note},
    )


def test_a_cursor_of_an_older_version_is_converted_on_read(
    served: Served, qbo: Connection
) -> None:
    # what versions before the toolkit stored: the server's time, whole seconds, an offset
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    old = moment.astimezone(timezone(timedelta(hours=-8))).isoformat()
    invoice = served.emulator.books.rendered("Invoice")[0]
    _touch(served, "Invoice", invoice, "changed since the old cursor")

    [page] = list(qbo.fetch("invoice", since=old))

    sent = [e.url for e in served.log if "/cdc?" in e.url]
    changed = parse_qs(urlsplit(sent[-1]).query)["changedSince"]
    assert changed == [moment.isoformat()]  # the same instant, "at or after", in UTC
    assert invoice["Id"] in [r["Id"] for r in page.records]
    assert page.cursor is not None and "#" not in page.cursor
    assert str(Cursor.parse(page.cursor)) == page.cursor  # stored in the toolkit's format
    assert Cursor.parse(page.cursor).at > moment


def test_the_cursor_is_never_past_the_reads_start(served: Served, qbo: Connection) -> None:
    began = datetime.now(UTC).replace(microsecond=0)
    cursor = list(qbo.fetch("invoice"))[-1].cursor
    assert cursor is not None
    assert Cursor.parse(cursor) == Cursor(Cursor.parse(cursor).at)  # at or after, no id
    assert Cursor.parse(cursor).at <= began + timedelta(seconds=1)
    # changed at once, in the very second the read ended: the next read has it
    invoice = served.emulator.books.rendered("Invoice")[0]
    _touch(served, "Invoice", invoice, "changed during the read's last second")
    [page] = list(qbo.fetch("invoice", since=cursor))
    assert [r["Id"] for r in page.records] == [invoice["Id"]]


def test_a_keyset_cursor_drops_what_was_read_at_its_instant(
    served: Served, qbo: Connection
) -> None:
    invoices = served.emulator.books.rendered("Invoice")[:3]
    for invoice in invoices:
        _touch(served, "Invoice", invoice, "bulk")
    stamps = {
        r["Id"]: r["MetaData"]["LastUpdatedTime"]
        for r in served.emulator.books.rendered("Invoice")
        if r["Id"] in {i["Id"] for i in invoices}
    }
    first = min(stamps, key=lambda id: (stamps[id], int(id)))
    at = datetime.fromisoformat(stamps[first])
    cursor = str(Cursor(at, first))  # read up to that invoice of that instant

    [page] = list(qbo.fetch("invoice", since=cursor))

    got = {r["Id"] for r in page.records}
    assert first not in got
    assert got == {id for id in stamps if (stamps[id], int(id)) > (stamps[first], int(first))}
