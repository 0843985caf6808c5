"""The mapping on its own: VAT numbers with and without their country, names split into
first and last, units, the VAT of lines by account, and statuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from syncbridge.errors import RecordError
from syncbridge.models.documents import DocumentLine, DocumentStatus, Invoice
from syncbridge.models.parties import Company
from syncbridge_dinero import mapping
from syncbridge_dinero.settings import DineroSettings

SETTINGS = DineroSettings(organization_id=1, api_key="k", client_id="c", client_secret="s",
                          sales_account=1001, vat_free_sales_account=1020)
VAT = {"vat": {"1001": "25", "1020": "0"}}


def contact(**values: object) -> dict[str, object]:
    return {"ContactGuid": "a1b2", "CountryKey": "DK", "IsPerson": False,
            "UpdatedAt": "2026-03-05T14:03:27.512", **values}


def test_a_danish_cvr_is_kept_without_its_prefix_and_read_with_it() -> None:
    company = mapping.company_in(contact(Name="Fjord ApS", VatNumber="13585628"))
    assert company.vat_number == "DK13585628"
    assert company.updated_at is not None and company.updated_at.isoformat() == (
        "2026-03-05T14:03:27.512000+00:00")
    assert mapping.company_out(company)["VatNumber"] == "13585628"
    foreign = Company(name="Berlin GmbH", country="DE", vat_number="DE136695976")
    assert mapping.company_out(foreign)["VatNumber"] == "136695976"
    swedish_client = Company(name="X", country="DK", vat_number="SE556036079301")
    assert mapping.company_out(swedish_client)["VatNumber"] == "SE556036079301"


def test_a_person_is_split_at_the_last_space() -> None:
    person = mapping.contact_in(contact(Name="Hans Christian Andersen", IsPerson=True))
    assert (person.first_name, person.last_name) == ("Hans Christian", "Andersen")
    assert mapping.contact_out(person)["Name"] == "Hans Christian Andersen"
    with pytest.raises(RecordError, match=r"^IsPerson: this Dinero contact is a company"):
        mapping.contact_in(contact(Name="Fjord ApS"))


@pytest.mark.parametrize(("unit", "dinero"), [
    ("pcs", "parts"), ("Stk", "parts"), ("h", "hours"), ("KG", "kilogram"),
    ("squareMetre", "squareMetre"), (None, "parts"),
])
def test_units(unit: str | None, dinero: str) -> None:
    assert mapping.unit_out(unit, "unit") == dinero


def test_lines_go_to_the_account_of_their_vat_and_come_back_with_it() -> None:
    lines = [DocumentLine(description="a", unit_price=Decimal(100), vat_percent=Decimal(25)),
             DocumentLine(description="b", unit_price=Decimal(10), vat_percent=Decimal(0)),
             DocumentLine(description="c", unit_price=Decimal(1))]
    record = Invoice(date=date(2026, 1, 1), contact_id="p1", lines=lines, currency="DKK")
    context: dict[str, object] = {}
    native = mapping.invoice_out(record, SETTINGS, context)
    assert [line["AccountNumber"] for line in native["ProductLines"]] == [1001, 1020, 1001]
    assert context == {"party": "contact", "vat": VAT["vat"], "book": False}
    back = mapping.invoice_in({**native, "Guid": "g"}, context)
    assert [line.vat_percent for line in back.lines] == [Decimal(25), Decimal(0), Decimal(25)]
    assert back.contact_id == "p1" and back.company_id is None
    assert back.status is DocumentStatus.DRAFT and not back.locked


@pytest.mark.parametrize(("status", "payment", "canonical"), [
    ("Draft", "Draft", DocumentStatus.DRAFT), ("Booked", "Booked", DocumentStatus.ISSUED),
    ("Booked", "Paid", DocumentStatus.PAID), ("Booked", "Overdue", DocumentStatus.OVERDUE),
])
def test_statuses(status: str, payment: str, canonical: DocumentStatus) -> None:
    native = {"Guid": "g", "Date": "2026-01-01", "ContactGuid": "c", "Status": status,
              "PaymentStatus": payment, "ProductLines": [], "Number": 7}
    invoice = mapping.invoice_in(native, {"party": "company", **VAT})
    assert invoice.status is canonical
    assert invoice.locked is (canonical is not DocumentStatus.DRAFT)


def test_a_customer_dinero_does_not_know_fails_the_invoice() -> None:
    with pytest.raises(RecordError, match=r"^ContactGuid: the invoice's customer"):
        mapping.map_in("invoice", {"Guid": "g"}, {"error": "ContactGuid: the invoice's "
                                                             "customer x is not a Dinero contact"})


@pytest.mark.parametrize(
    ("status", "booked"),
    [(DocumentStatus.DRAFT, False), (DocumentStatus.ISSUED, True), (DocumentStatus.SENT, True),
     (DocumentStatus.PAID, True), (DocumentStatus.CANCELLED, False),
     (DocumentStatus.REJECTED, False)],
)
def test_an_invoice_past_draft_is_booked_but_a_cancelled_one_never(
    status: DocumentStatus, booked: bool,
) -> None:
    invoice = Invoice(date=date(2026, 3, 1), company_id="a1b2", status=status,
                      lines=[DocumentLine(description="x", quantity=Decimal(1),
                                          unit_price=Decimal(10))])
    context: dict[str, object] = {}
    mapping.invoice_out(invoice, SETTINGS, context)
    assert context["book"] is booked
