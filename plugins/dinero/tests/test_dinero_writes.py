"""Writing through the connector: contacts as companies or persons, products, draft and
booked invoices, the Timestamp race (error code 58), lookup by ExternalReference, deletes,
and bad input refused with the field and the fix."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from dinero_testkit import ORG, Served
from starlette.types import ASGIApp, Receive, Scope, Send

from syncbridge.errors import RecordError
from syncbridge.models.catalog import Product
from syncbridge.models.documents import DocumentLine, DocumentStatus, Invoice
from syncbridge.models.parties import Company, Contact
from syncbridge.records import UpsertItem
from syncbridge_dinero.emulator import seeded_guid
from syncbridge_dinero.mapping import company_in


def write(served: Served, entity: str, record: Any, key: str, native_id: str | None = None,
          **settings: Any) -> Any:
    connection = served.connect(**settings)
    context: dict[str, Any] = {}
    native = connection.map_out(entity, record, context)
    [result] = connection.upsert(
        entity, [UpsertItem(key=key, record=native, id=native_id, context=context)]
    )
    return result


def stored(served: Served, table: str, key: str, guid: str) -> Any:
    row = served.emulator.find(served.emulator.store.table(table), key, guid)
    assert row is not None
    return row


def invoice(**changes: Any) -> Invoice:
    values: dict[str, Any] = {
        "date": date(2026, 4, 1), "due_date": date(2026, 4, 15), "currency": "DKK",
        "company_id": seeded_guid("contact", 4), "subject": "April",
        "lines": [DocumentLine(description="Rådgivning", quantity=Decimal(3),
                               unit_price=Decimal("850.00"), vat_percent=Decimal(25),
                               unit="hours"),
                  DocumentLine(description="Eksport", quantity=Decimal(1),
                               unit_price=Decimal("99.99"), discount_percent=Decimal(10),
                               vat_percent=Decimal(0), unit="pcs")],
    }
    return Invoice(**{**values, **changes})


def test_a_company_is_created_as_a_contact_that_is_no_person(dinero: Served) -> None:
    company = Company(name="Havn & Co ApS", country="DK", city="Aarhus",
                      vat_number="DK13585628", email="info@havn.dk", currency="EUR")
    result = write(dinero, "company", company, key="company-key-1")
    assert result.ok and result.record is not None
    row = stored(dinero, "contacts", "ContactGuid", result.id)
    # the record given back is what Dinero holds: read in, it is the company written
    assert company_in(result.record).content() == company.content()
    assert (row["Name"], row["IsPerson"], row["VatNumber"], row["ExternalReference"]) == (
        "Havn & Co ApS", False, "13585628", "company-key-1")
    assert row["PreferredInvoiceCurrencyKey"] == "EUR"
    assert dinero.emulator.requests.count("POST", f"/v1/{ORG}/contacts") == 1


def test_a_contact_is_a_person_named_first_then_last(dinero: Served) -> None:
    result = write(dinero, "contact", Contact(first_name="Karen", last_name="Blixen",
                                              country="DK"), key="person-key")
    row = stored(dinero, "contacts", "ContactGuid", result.id)
    assert (row["Name"], row["IsPerson"]) == ("Karen Blixen", True)


def test_an_update_keeps_what_the_mapping_does_not_cover(dinero: Served) -> None:
    guid = seeded_guid("contact", 2)
    row = stored(dinero, "contacts", "ContactGuid", guid)
    dinero.emulator.contacts.update(int(row["id"]), {"EanNumber": "5790000000005"})
    company = Company(name="Omdøbt A/S", country="DK")
    result = write(dinero, "company", company, key="k", native_id=guid)
    assert result.ok and result.id == guid
    after = stored(dinero, "contacts", "ContactGuid", guid)
    assert after["Name"] == "Omdøbt A/S" and after["EanNumber"] == "5790000000005"
    assert after["PaymentConditionType"] == "Netto"


def test_products_take_dinero_units(dinero: Served) -> None:
    product = Product(name="Kaffe", code="K-1", price=Decimal("45.50"), unit="kg")
    result = write(dinero, "product", product, key="p1")
    row = stored(dinero, "products", "ProductGuid", result.id)
    assert (row["Unit"], row["AccountNumber"], row["BaseAmountValue"]) == (
        "kilogram", 1000, 45.5)
    connection = dinero.connect()
    with pytest.raises(RecordError, match=r"^unit: 'crate' is not a Dinero unit; use one of "):
        connection.map_out("product", Product(name="X", unit="crate"), {})


def test_a_draft_invoice_keeps_its_totals(dinero: Served) -> None:
    canonical = invoice()
    result = write(dinero, "invoice", canonical, key="inv-1")
    assert result.ok
    with dinero.client() as http:
        native = http.get(f"/v1/{ORG}/invoices/{result.id}").json()
    assert native["Status"] == "Draft" and native["ExternalReference"] == "inv-1"
    assert [line["AccountNumber"] for line in native["ProductLines"]] == [1000, 1010]
    assert [line["Unit"] for line in native["ProductLines"]] == ["hours", "parts"]
    assert native["PaymentConditionNumberOfDays"] == 14
    # net, VAT and gross as the canonical record computes them, rounded to øre by Dinero
    assert Decimal(str(native["TotalExclVat"])) == canonical.net_total.quantize(Decimal("0.01"))
    assert Decimal(str(native["TotalVat"])) == canonical.tax_total.quantize(Decimal("0.01"))
    assert Decimal(str(native["TotalInclVat"])) == Decimal("3277.49")


def test_an_issued_invoice_is_booked_and_then_locked(dinero: Served) -> None:
    result = write(dinero, "invoice", invoice(status=DocumentStatus.ISSUED), key="inv-2")
    assert result.ok
    row = stored(dinero, "invoices", "Guid", result.id)
    assert row["Status"] == "Booked" and row["Number"] == 4
    again = write(dinero, "invoice", invoice(subject="changed"), key="inv-2b",
                  native_id=result.id)
    assert not again.ok
    assert again.error == (
        "invoice 4 is booked: Dinero does not let it change (credit it in Dinero instead)"
    )


def test_a_draft_update_names_the_current_timestamp(dinero: Served) -> None:
    guid = seeded_guid("invoice", 2)
    before = stored(dinero, "invoices", "Guid", guid)
    result = write(dinero, "invoice", invoice(subject="Opdateret"), key="k", native_id=guid)
    assert result.ok and result.id == guid
    after = stored(dinero, "invoices", "Guid", guid)
    assert after["Description"] == "Opdateret" and after["TimeStamp"] != before["TimeStamp"]
    puts = [e for e in dinero.recorder.exchanges if e.method == "PUT"]
    assert [e.path for e in puts] == [f"/v1.2/{ORG}/invoices/{guid}"]
    assert b'"Timestamp": "' + before["TimeStamp"].encode() + b'"' in puts[0].body


class ConcurrentEdit:
    """Someone changes the invoice in Dinero between the connector's read and its update."""

    def __init__(self, app: ASGIApp, served: Served) -> None:
        self.app, self.served = app, served

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "PUT":
            guid = scope["path"].rsplit("/", 1)[1]
            row = stored(self.served, "invoices", "Guid", guid)
            self.served.emulator.invoices.update(
                int(row["id"]), {"TimeStamp": self.served.emulator.next_timestamp()}
            )
        await self.app(scope, receive, send)


def test_a_lost_race_fails_the_record_with_code_58(dinero: Served) -> None:
    dinero.recorder.app = ConcurrentEdit(dinero.recorder.app, dinero)
    result = write(dinero, "invoice", invoice(), key="k", native_id=seeded_guid("invoice", 4))
    assert not result.ok and not result.unknown
    assert result.error == (
        "HTTP 400 Bad Request: code 58: Timestamp outdated: the entity was changed by someone "
        "else. Fetch it again and retry with its current Timestamp."
    )


def test_lookup_finds_creates_by_their_external_reference(dinero: Served) -> None:
    created = write(dinero, "product", Product(name="Te", unit="parts"), key="lost-create")
    connection = dinero.connect()
    found = connection.lookup("product", ["lost-create", "never-sent"])
    assert found == {"lost-create": created.id}
    listings = [e for e in dinero.recorder.exchanges
                if e.method == "GET" and e.path == f"/v1/{ORG}/products"]
    assert len(listings) == 1 and "fields=ProductGuid%2CExternalReference" in listings[0].query


def test_delete_removes_and_a_gone_record_counts_as_deleted(dinero: Served) -> None:
    guid = seeded_guid("product", 3)
    connection = dinero.connect()
    results = list(connection.delete("product", [guid, guid]))
    assert [r.ok for r in results] == [True, True]
    assert dinero.emulator.find(dinero.emulator.products, "ProductGuid", guid) is None


def test_bad_input_names_the_field_and_the_fix(dinero: Served) -> None:
    connection = dinero.connect()
    with pytest.raises(RecordError, match=r"^lines\[0\]\.vat_percent: 12% is not a Danish VAT"):
        connection.map_out("invoice", invoice(lines=[DocumentLine(
            description="x", vat_percent=Decimal(12))]), {})
    with pytest.raises(RecordError, match=r"^country: Dinero needs every contact's country"):
        connection.map_out("company", Company(name="Nowhere"), {})
    refused = write(dinero, "invoice", invoice(company_id=seeded_guid("contact", 999)), key="x")
    assert not refused.ok
    assert refused.error is not None and "ContactGuid: Contact " in refused.error


class RefuseBooking:
    """Dinero refuses the booking (say, a closed accounting year) after the create."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/book"):
            body = b'{"code": 42, "message": "The accounting year is closed"}'
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def test_a_create_whose_booking_fails_is_held_for_lookup_not_sent_again(dinero: Served) -> None:
    dinero.recorder.app = RefuseBooking(dinero.recorder.app)
    result = write(dinero, "invoice", invoice(status=DocumentStatus.ISSUED), key="held")
    assert not result.ok and result.unknown and result.id is not None
    assert result.error == (
        f"written as draft {result.id}, but not booked: HTTP 400 Bad Request: code 42: The "
        "accounting year is closed"
    )
    assert dinero.connect().lookup("invoice", ["held"]) == {"held": result.id}
