"""Writes: documents round-trip, sparse and full updates, stale SyncTokens, batches, requestid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from syncbridge.connection import Connection
from syncbridge.models import Company, DocumentLine, Invoice, Payment, Product
from syncbridge.records import UpsertItem

if TYPE_CHECKING:
    from conftest import Served


def item(conn: Connection, entity: str, record: Any, key: str) -> UpsertItem:
    """``record`` mapped out, with the context map(out) gives it, as the engine sends it."""
    context: dict[str, Any] = {}
    native = conn.map_out(entity, record, context)
    return UpsertItem(key=key, record=native, context=context)


def create(conn: Connection, entity: str, record: Any, key: str) -> str:
    [result] = conn.upsert(entity, [item(conn, entity, record, key)])
    assert result.ok, result.error
    assert result.id is not None
    return result.id


def read(conn: Connection, entity: str, id: str) -> Any:
    [page] = list(conn.fetch(entity, query={"ids": [id]}))
    [record] = conn.map_page(entity, page)
    return record


def test_an_invoice_with_lines_round_trips_and_its_status_follows_quickbooks(
    serve: Callable[..., Served],
) -> None:
    served = serve(records=0)
    conn = served.connect()
    company = create(
        conn,
        "company",
        Company(
            name="Wagner Bau GmbH",
            city="München",
            country="DE",
            currency="EUR",
            email="rechnung@wagner-bau.de",
            vat_number="DE136695976",
        ),
        "c-1",
    )
    product = create(
        conn, "product", Product(name="Montagestunde", code="MS-1", price=Decimal("85.00")), "p-1"
    )
    invoice = Invoice(
        number="2024-0042",
        date=date(2024, 6, 3),
        due_date=date(2024, 6, 17),
        currency="EUR",
        company_id=company,
        notes="Baustelle Nord",
        lines=[
            DocumentLine(
                description="Montage",
                quantity=Decimal(8),
                unit_price=Decimal("85.00"),
                product_id=product,
                vat_rate_id="3",
            ),
            DocumentLine(
                description="Anfahrt",
                quantity=Decimal("1.5"),
                unit_price=Decimal("40.00"),
                product_id=product,
                vat_rate_id="3",
            ),
            DocumentLine(
                description="Treuerabatt", quantity=Decimal(1), unit_price=Decimal("-50.00")
            ),
            DocumentLine(
                description="Lieferung frei Haus", quantity=Decimal(0), unit_price=Decimal(0)
            ),
        ],
    )
    invoice_id = create(conn, "invoice", invoice, "i-1")

    stored = read(conn, "invoice", invoice_id)
    assert isinstance(stored, Invoice)
    for name in ("number", "date", "due_date", "currency", "company_id", "notes"):
        assert getattr(stored, name) == getattr(invoice, name), name
    # each taxed line reads back with its tax code's percentage too (USt 19%)
    assert stored.lines == [
        line.model_copy(update={"vat_percent": Decimal(19)}) if line.vat_rate_id else line
        for line in invoice.lines
    ]
    # 680 + 60 = 740 net of VAT 19 % = 140.60, less the 50 discount: QuickBooks' arithmetic
    assert stored.total == Decimal("830.60")
    assert stored.balance == Decimal("830.60")
    assert stored.status == "issued"

    served.emulator.books.send("Invoice", invoice_id, "rechnung@wagner-bau.de")
    assert read(conn, "invoice", invoice_id).status == "sent"

    half = Payment(
        amount=Decimal("400.00"),
        date=date(2024, 6, 10),
        currency="EUR",
        invoice_id=invoice_id,
        company_id=company,
        reference="SEPA 7731",
    )
    payment_id = create(conn, "payment", half, "pay-1")
    partly = read(conn, "invoice", invoice_id)
    assert (partly.status, partly.balance) == ("partially_paid", Decimal("430.60"))
    rest = Payment(
        amount=Decimal("430.60"), date=date(2024, 6, 12), currency="EUR", invoice_id=invoice_id
    )  # no company: the payer comes from the invoice
    create(conn, "payment", rest, "pay-2")
    assert read(conn, "invoice", invoice_id).status == "paid"
    paid = read(conn, "payment", payment_id)
    assert (paid.invoice_id, paid.company_id, paid.amount) == (invoice_id, company, Decimal("400"))


def test_an_update_with_known_changes_is_sparse_and_needs_no_read(
    served: Served, qbo: Connection
) -> None:
    books = served.emulator.books
    made = books.create(
        "Customer",
        {
            "CompanyName": "Lake Shore Deli",
            "DisplayName": "Lake Shore Deli",
            "AcctNum": "K-1001",
            "PrimaryPhone": {"FreeFormNumber": "+1 312 555 0100"},
        },
    )
    [native] = next(iter(qbo.fetch("company", query={"ids": [made["Id"]]}))).records
    company = qbo.map_in("company", native)
    changed = company.model_copy(update={"phone": "+1 312 555 0199"})
    reads_before = served.count("GET", f"/customer/{made['Id']}")

    [result] = qbo.upsert(
        "company",
        [
            UpsertItem(
                key="u-1",
                id=made["Id"],
                record=qbo.map_out("company", changed),
                changed=frozenset({"phone"}),
            )
        ],
    )

    assert result.ok, result.error
    _path, _query, body = served.emulator.bodies[-1]
    assert body == {
        "PrimaryPhone": {"FreeFormNumber": "+1 312 555 0199"},
        "Id": made["Id"],
        "SyncToken": "0",
        "sparse": True,
    }
    assert served.count("GET", f"/customer/{made['Id']}") == reads_before
    stored = books.read("Customer", made["Id"])
    assert stored["AcctNum"] == "K-1001" and stored["SyncToken"] == "1"
    assert result.record is not None and result.record["SyncToken"] == "1"


def test_a_full_update_keeps_what_syncbridge_does_not_map(served: Served, qbo: Connection) -> None:
    books = served.emulator.books
    made = books.create(
        "Customer",
        {
            "CompanyName": "Elm Street Bakery",
            "DisplayName": "Elm Street Bakery",
            "AcctNum": "K-2002",
            "Notes": "old note",
        },
    )
    company = Company(name="Elm Street Bakery", city="Springfield", country="US")
    [result] = qbo.upsert(
        "company", [UpsertItem(key="u-2", id=made["Id"], record=qbo.map_out("company", company))]
    )
    assert result.ok, result.error
    _path, _query, body = served.emulator.bodies[-1]
    assert "sparse" not in body or body["sparse"] is False
    stored = books.read("Customer", made["Id"])
    assert stored["AcctNum"] == "K-2002"  # unmapped: kept
    assert "Notes" not in stored  # mapped and now empty: cleared
    assert stored["BillAddr"] == {"City": "Springfield", "Country": "US"}


def test_a_stale_synctoken_is_read_again_and_retried_once(served: Served, qbo: Connection) -> None:
    books = served.emulator.books
    made = books.create(
        "Customer", {"CompanyName": "Oak Avenue Dental", "DisplayName": "Oak Avenue Dental"}
    )
    [native] = next(iter(qbo.fetch("company", query={"ids": [made["Id"]]}))).records
    # meanwhile the accountant edits the customer: the token the connector saw is stale
    books.update(
        "Customer", {"Id": made["Id"], "SyncToken": "0", "sparse": True, "Notes": "VIP since 2019"}
    )
    company = qbo.map_in("company", native).model_copy(update={"email": "office@oak-dental.com"})
    posts = served.count("POST", "/customer")

    [result] = qbo.upsert(
        "company",
        [
            UpsertItem(
                key="u-3",
                id=made["Id"],
                record=qbo.map_out("company", company),
                changed=frozenset({"email"}),
            )
        ],
    )

    assert result.ok, result.error
    assert served.count("POST", "/customer") == posts + 2
    assert served.count("GET", f"/customer/{made['Id']}") == 1
    stored = books.read("Customer", made["Id"])
    assert stored["PrimaryEmailAddr"] == {"Address": "office@oak-dental.com"}
    assert stored["Notes"] == "VIP since 2019"  # the accountant's change survives

    served.emulator.force_stale = 2  # stale again after the re-read: reported, not looped
    again = company.model_copy(update={"email": "info@oak-dental.com"})
    [failed] = qbo.upsert(
        "company",
        [
            UpsertItem(
                key="u-4",
                id=made["Id"],
                record=qbo.map_out("company", again),
                changed=frozenset({"email"}),
            )
        ],
    )
    assert not failed.ok
    assert failed.error is not None
    assert "HTTP 400 Bad Request: 5010 Stale Object Error" in failed.error
    assert "sent again with the current SyncToken" in failed.error
    assert served.count("POST", "/customer") == posts + 4


def test_65_creates_go_in_three_batches_and_two_bad_ones_fail_alone(
    serve: Callable[..., Served],
) -> None:
    served = serve(records=0)
    conn = served.connect()
    served.emulator.books.create(
        "Customer", {"CompanyName": "Taken Name", "DisplayName": "Taken Name"}
    )
    items = []
    for n in range(65):
        record = conn.map_out(
            "company", Company(name=f"Batch Company {n:02d}", city="Austin", country="US")
        )
        if n == 10:
            record = conn.map_out("company", Company(name="Taken Name"))
        if n == 40:
            record = {"Notes": "no name at all"}
        items.append(UpsertItem(key=f"batch-{n}", record=record))

    results = conn.upsert("company", items)

    assert served.count("POST", "/batch") == 3
    assert [r.key for r in results] == [i.key for i in items]
    failed = {r.key: r.error for r in results if not r.ok}
    assert set(failed) == {"batch-10", "batch-40"}
    assert str(failed["batch-10"]).startswith("6240 Duplicate Name Exists Error")
    assert str(failed["batch-40"]).startswith("2020 Required param missing")
    assert "DisplayName" in str(failed["batch-40"])
    assert len(served.emulator.books.tables["Customer"]) == 1 + 63
    ok = [r for r in results if r.ok]
    assert all(r.record is not None and r.record["DisplayName"].startswith("Batch") for r in ok)


def test_a_create_resent_after_a_lost_answer_is_not_duplicated(
    serve: Callable[..., Served],
) -> None:
    served = serve(records=0)
    conn = served.connect(max_retries=2)
    item = UpsertItem(
        key="sb-0f3a9c", record=conn.map_out("company", Company(name="Maple Drive Florist"))
    )
    served.emulator.faults.drop_rate = 1.0  # every answer lost after the create happened

    [lost] = conn.upsert("company", [item])

    assert not lost.ok and lost.error is not None and "no answer" in lost.error
    customers = served.emulator.books.tables["Customer"]
    assert len(customers) == 1  # three attempts, one customer
    assert served.count("POST", "/customer") == 3
    sent = [e.url.partition("?")[2] for e in served.log if e.method == "POST"]
    assert sent == ["requestid=sb-0f3a9c&minorversion=75"] * 3  # the same requestid each time
    assert len(served.emulator.bodies) == 1  # the repeats were answered, not carried out

    served.emulator.faults.drop_rate = 0.0  # the next run sends the same create again
    [result] = conn.upsert("company", [item])
    assert result.ok and result.id == str(next(iter(customers))["id"])
    assert len(customers) == 1


def test_deletes_remove_transactions_and_deactivate_name_lists(
    served: Served, qbo: Connection
) -> None:
    books = served.emulator.books
    invoice = next(i for i in books.rendered("Invoice") if not i.get("LinkedTxn"))
    company = next(c for c in books.rendered("Customer") if c.get("CompanyName"))
    assert [r.ok for r in qbo.delete("invoice", [invoice["Id"]])] == [True]
    assert books.row("Invoice", invoice["Id"]) is None
    assert [r.ok for r in qbo.delete("company", [company["Id"]])] == [True]
    assert books.read("Customer", company["Id"])["Active"] is False
    assert [r.ok for r in qbo.delete("invoice", [invoice["Id"]])] == [True]  # already gone


def test_read_only_and_fixed_fields_are_reported(served: Served, qbo: Connection) -> None:
    [rate] = qbo.upsert("vat_rate", [UpsertItem(key="v", record={"Name": "X"})])
    assert not rate.ok and rate.error == "QuickBooks TaxCode objects are read-only"
    company = next(c for c in served.emulator.books.rendered("Customer") if c.get("CompanyName"))
    record = qbo.map_out("company", Company(name=company["CompanyName"], currency="GBP"))
    [result] = qbo.upsert(
        "company",
        [UpsertItem(key="cur", id=company["Id"], record=record, changed=frozenset({"currency"}))],
    )
    assert not result.ok and result.error is not None
    assert "does not let CurrencyRef of a Customer change" in result.error


def test_a_stale_item_in_a_batch_is_retried_alone(served: Served, qbo: Connection) -> None:
    books = served.emulator.books
    natives = {r["Id"]: r for p in qbo.fetch("product") for r in p.records}
    first, second = sorted(natives, key=int)[:2]
    books.update("Item", {"Id": second, "SyncToken": "0", "sparse": True, "Sku": "MOVED-1"})
    items = [
        UpsertItem(
            key=f"price-{id}",
            id=id,
            record=qbo.map_out(
                "product",
                qbo.map_in("product", natives[id]).model_copy(update={"price": Decimal("9.99")}),
            ),
            changed=frozenset({"price"}),
        )
        for id in (first, second)
    ]

    results = qbo.upsert("product", items)

    assert [r.ok for r in results] == [True, True], [r.error for r in results]
    assert served.count("POST", "/batch") == 1
    assert served.count("GET", f"/item/{second}") == 1 and served.count("POST", "/item") == 1
    assert books.read("Item", second)["Sku"] == "MOVED-1"  # the other change survives
    assert {books.read("Item", id)["UnitPrice"] for id in (first, second)} == {Decimal("9.99")}


def test_lines_with_a_vat_percentage_are_written_with_its_tax_code(
    serve: Callable[..., Served],
) -> None:
    """A line from a system that knows VAT only by percentage (a Bitrix24 row's taxRate) gets
    the tax code of that percentage; one whose code charges another, or a percentage no code
    has, is refused with the reason and nothing is written."""
    served = serve(records=0)
    conn = served.connect()
    customer = create(conn, "company", Company(name="Brauhaus Ansbach GmbH", currency="EUR",
                                               country="DE"), "c-1")

    def invoice(number: str, *lines: tuple[str, str, str | None, str | None]) -> Invoice:
        return Invoice(number=number, date=date(2026, 11, 23), currency="EUR",
                       company_id=customer, lines=[
                           DocumentLine(description=text, quantity=Decimal(2),
                                        unit_price=Decimal(price), vat_rate_id=code,
                                        vat_percent=None if percent is None else Decimal(percent))
                           for text, price, code, percent in lines])

    wanted = invoice("1121", ("Braugerste", "3963.43", None, "19"),
                     ("Hopfen", "2716.19", None, "7"), ("Pfand", "5.00", None, "0"),
                     ("Versand", "10.00", "3", "19"))
    [result] = conn.upsert("invoice", [item(conn, "invoice", wanted, "i-1")])
    assert result.ok and result.record is not None, result.error
    assert [line["SalesItemLineDetail"]["TaxCodeRef"] for line in result.record["Line"][:4]] == [
        {"value": "3"}, {"value": "4"}, {"value": "5"}, {"value": "3"}]  # USt 19/7 %, Steuerfrei
    assert result.record["TxnTaxDetail"]["TotalTax"] == Decimal("1890.17")
    assert result.context == {"customer": "company", "tax_rates": {"3": "19", "4": "7", "5": "0"}}
    stored = conn.map_in("invoice", result.record, result.context)
    assert stored == read(conn, "invoice", result.id)  # what the next read gives
    assert [(x.vat_rate_id, x.vat_percent) for x in stored.lines] == [
        ("3", 19), ("4", 7), ("5", 0), ("3", 19)]
    assert (stored.tax_total, stored.total) == (Decimal("1890.1700"), Decimal("15279.41"))

    before = served.count("POST", "/invoice") + served.count("POST", "/batch")
    refused = [
        (invoice("1122", ("Hopfen", "2716.19", "4", "19")),
         "line 1: QuickBooks tax code 4 (USt 7%) is 7 %, the line carries 19 %"),
        (invoice("1123", ("Wein", "8.00", None, "5.5")),
         "line 1: QuickBooks has no active sales tax code of 5.5 %; add one there, or change "
         "the line's VAT"),
    ]
    results = conn.upsert("invoice", [
        item(conn, "invoice", record, f"r-{n}") for n, (record, _why) in enumerate(refused)])
    assert [(r.ok, r.error) for r in results] == [(False, why) for _record, why in refused]
    assert served.count("POST", "/invoice") + served.count("POST", "/batch") == before
