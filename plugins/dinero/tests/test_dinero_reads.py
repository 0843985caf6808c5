"""Reading through the connector: one contact list as companies and persons, products,
invoices read whole with their VAT and customer, payments per booked invoice, the cursor,
and the request count each read costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from dinero_testkit import ORG, Serve, Served

from syncbridge.models import MODELS
from syncbridge.models.documents import DocumentStatus
from syncbridge_dinero.emulator import seeded_guid


def read(served: Served, entity: str, since: str | None = None, **settings: Any) -> Any:
    connection = served.connect(**settings)
    pages = list(connection.fetch(entity, since=since))
    records = [record for page in pages for record in page.records]
    id_field = connection.info.entities[entity].id_field
    mapped = [
        connection.map_in(entity, record, page.context_of(record[id_field]))
        for page in pages
        for record in page.records
    ]
    return pages, records, mapped


def test_one_contact_list_serves_companies_and_persons(dinero: Served) -> None:
    _pages, _records, companies = read(dinero, "company")
    _pages, _records, persons = read(dinero, "contact")
    assert len(companies) == len(persons) == 10
    assert {c.id for c in companies} == {seeded_guid("contact", n) for n in range(1, 11)}
    assert {p.id for p in persons} == {seeded_guid("person", n) for n in range(1, 11)}
    first = companies[0]
    stored = dinero.emulator.find(dinero.emulator.contacts, "ContactGuid", first.id)
    assert stored is not None
    assert first.name == stored["Name"] and first.country == "DK"
    assert first.vat_number == "DK" + stored["VatNumber"]
    person = persons[0]
    row = dinero.emulator.find(dinero.emulator.contacts, "ContactGuid", person.id)
    assert row is not None and f"{person.first_name} {person.last_name}" == row["Name"]


def test_listings_ask_for_the_fields_the_mapping_reads_in_pages_of_the_setting(
    dinero: Served,
) -> None:
    pages, records, _mapped = read(dinero, "product", page_size=4)
    assert [len(page.records) for page in pages] == [4, 4, 2]
    asked = [e.query for e in dinero.recorder.exchanges if e.path == f"/v1/{ORG}/products"]
    assert len(asked) == 3
    assert "fields=ProductGuid%2CCreatedAt%2CUpdatedAt%2CProductNumber" in asked[0]
    assert records[0]["BaseAmountValue"] == Decimal(str(records[0]["BaseAmountValue"]))


def test_invoices_come_whole_with_vat_customer_and_totals(dinero: Served) -> None:
    _pages, records, invoices = read(dinero, "invoice")
    assert len(invoices) == 10
    by_id = {invoice.id: invoice for invoice in invoices}
    draft = by_id[seeded_guid("invoice", 1)]
    booked = by_id[seeded_guid("invoice", 3)]
    paid_in_part = by_id[seeded_guid("invoice", 6)]
    assert draft.status is DocumentStatus.DRAFT and not draft.locked and draft.number is None
    assert booked.status is DocumentStatus.ISSUED and booked.locked and booked.number == "1"
    assert paid_in_part.status is DocumentStatus.ISSUED  # half paid: still "Booked"
    assert draft.company_id == seeded_guid("contact", 1) and draft.contact_id is None
    assert draft.date == date(2026, 1, 6) and draft.due_date == date(2026, 1, 14)
    [line] = draft.lines
    assert (line.quantity, line.unit_price, line.vat_percent, line.unit) == (
        Decimal(2), Decimal(675), Decimal(25), "hours")
    native = next(r for r in records if r["Guid"] == draft.id)
    # totals equal across the trip: what Dinero computed is what the canonical lines make
    assert draft.net_total == native["TotalExclVat"] == Decimal(1350)
    assert draft.tax_total == native["TotalVat"] == Decimal("337.5")
    assert draft.gross_total == draft.total == native["TotalInclVat"]
    # a listing page, the contacts' kinds, accounts and VAT types, then one GET per invoice
    paths = [e.path for e in dinero.recorder.exchanges if e.method == "GET"]
    assert paths.count(f"/v1/{ORG}/invoices") == 1
    assert paths.count(f"/v1/{ORG}/contacts") == 1
    assert paths.count(f"/v1/{ORG}/accounts/entry") == paths.count(f"/v1/{ORG}/vatTypes") == 1
    assert sum(1 for p in paths if p.startswith(f"/v1/{ORG}/invoices/")) == 10


def test_each_invoice_says_what_is_still_owed(dinero: Served) -> None:
    # the payment history in the CRM: a draft owes its total, a booked invoice its payments'
    # remainder (one payments request each: the read model has no balance), a paid one nothing
    _pages, _records, invoices = read(dinero, "invoice")
    by_id = {invoice.id: invoice for invoice in invoices}
    draft, booked, half = (by_id[seeded_guid("invoice", n)] for n in (1, 3, 6))
    assert draft.balance == draft.total and booked.balance == booked.total
    assert half.total is not None and half.balance == half.total - (half.total / 2).quantize(
        Decimal("0.01"))
    payments = [e for e in dinero.recorder.exchanges if e.path.startswith(f"/v2/{ORG}/")]
    assert sorted(e.path for e in payments) == sorted(
        f"/v2/{ORG}/invoices/{seeded_guid('invoice', n)}/payments" for n in (3, 6, 9))
    with dinero.client() as http:
        stamp = http.get(f"/v1/{ORG}/invoices/{half.id}").json()["TimeStamp"]
        paid = http.post(f"/v1/{ORG}/invoices/{half.id}/payments", json={
            "Timestamp": stamp, "DepositAccountNumber": 55000, "RemainderIsFee": False,
            "Description": "Rest", "Amount": float(half.balance or 0)})
        assert paid.status_code == 200, paid.text
    before = len(dinero.recorder.exchanges)
    _pages, _records, invoices = read(dinero, "invoice")
    settled = next(i for i in invoices if i.id == half.id)
    assert (settled.status, settled.balance) == (DocumentStatus.PAID, 0)
    again = dinero.recorder.exchanges[before:]
    assert len([e for e in again if e.path.startswith(f"/v2/{ORG}/")]) == 2  # 3 and 9


def test_an_invoice_to_a_person_names_a_contact(dinero: Served) -> None:
    with dinero.client() as http:
        guid = http.post(f"/v1/{ORG}/invoices", json={
            "ContactGuid": seeded_guid("person", 3), "Date": "2026-03-01",
            "ProductLines": [{"Description": "x", "Quantity": 1, "BaseAmountValue": 10,
                              "AccountNumber": 1010, "Unit": "parts", "Discount": 10}]},
        ).json()["Guid"]
    _pages, _records, invoices = read(dinero, "invoice")
    invoice = next(i for i in invoices if i.id == guid)
    assert invoice.contact_id == seeded_guid("person", 3) and invoice.company_id is None
    assert invoice.lines[0].vat_percent == 0 and invoice.total == Decimal(9)


def test_payments_are_read_per_booked_invoice(dinero: Served) -> None:
    _pages, _records, payments = read(dinero, "payment")
    assert len(payments) == 1  # invoice 6: booked and paid in part
    [payment] = payments
    assert isinstance(payment, MODELS["payment"])
    assert payment.invoice_id == seeded_guid("invoice", 6)
    assert payment.company_id == seeded_guid("contact", 6)
    assert payment.currency == "DKK" and payment.reference == "Delbetaling"
    history = [e for e in dinero.recorder.exchanges if e.path.endswith("/payments")]
    assert len(history) == 3  # the three booked invoices, drafts skipped


def test_incremental_reads_take_what_changed_at_or_after_the_cursor(serve: Serve) -> None:
    served = serve(records=5)
    pages, _records, _mapped = read(served, "product")
    cursor = pages[-1].cursor
    assert cursor == "2024-01-02T09:00:15.000000+00:00"  # past the newest seeded second
    assert read(served, "product", since=cursor)[1] == []
    guid = seeded_guid("product", 2)
    row = served.emulator.find(served.emulator.products, "ProductGuid", guid)
    assert row is not None
    served.emulator.products.update(int(row["id"]), {"Name": "Ny pris"})
    _pages, records, _mapped = read(served, "product", since=cursor)
    assert [r["Name"] for r in records] == ["Ny pris"]
    asked = [e.query for e in served.recorder.exchanges if e.path.endswith("/products")]
    assert "changesSince=2024-01-02T09%3A00%3A15Z" in asked[-1]


def test_an_incremental_read_reports_deletions(serve: Serve) -> None:
    served = serve(records=4)
    connection = served.connect()
    cursor = list(connection.fetch("company"))[-1].cursor
    gone = seeded_guid("contact", 2)
    [deleted] = connection.delete("company", [gone])
    assert deleted.ok
    pages = list(connection.fetch("company", since=cursor))
    assert [p.deleted for p in pages] == [[], [gone]]
    asked = [e.query for e in served.recorder.exchanges if e.path.endswith("/contacts")]
    assert "deletedOnly=true" in asked[-1] and "IsPerson+eq+%27false%27" in asked[-1]
    persons = list(connection.fetch("contact", since=cursor))
    assert all(p.deleted == [] for p in persons)  # a company's deletion is no person's
