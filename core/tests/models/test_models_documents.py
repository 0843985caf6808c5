"""Quotes, orders, invoices with their lines, and payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from syncbridge.models import (
    DocumentLine,
    DocumentStatus,
    Invoice,
    Order,
    Payment,
    Quote,
)

DOCUMENTS: list[type[Any]] = [Quote, Order, Invoice]
NO_PARTY = [((), "Value error, a document needs a company_id or a contact_id (its customer)")]


def _errors(model: type[Any], **data: Any) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        model(**data)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


# --------------------------------------------------------------------------- lines


def test_line_defaults() -> None:
    line = DocumentLine(description="Consulting")
    assert line.quantity == Decimal(1)
    assert line.unit_price == Decimal(0)
    assert line.discount_percent == Decimal(0)
    assert line.vat_percent is None
    assert line.product_id is None
    assert line.net_amount == Decimal(0)


@pytest.mark.parametrize(
    ("data", "net"),
    [
        ({"quantity": 2, "unit_price": "10.50"}, Decimal("21.00")),
        ({"quantity": "3", "unit_price": "10.50", "discount_percent": 10}, Decimal("28.35")),
        ({"quantity": 0.5, "unit_price": 0.1}, Decimal("0.05")),
        ({"quantity": 1, "unit_price": 100, "discount_percent": 100}, Decimal(0)),
        ({"quantity": "-1", "unit_price": "40"}, Decimal(-40)),
    ],
)
def test_line_net_amount(data: dict[str, Any], net: Decimal) -> None:
    assert DocumentLine(description="x", **data).net_amount == net


def test_line_strips_text_and_keeps_references() -> None:
    line = DocumentLine(
        description="  Widget  ", code=" W-1 ", product_id="p1", vat_rate_id="v22",
        vat_percent="22", unit_id="u1", unit=" pcs ",
    )
    assert line.description == "Widget"
    assert line.code == "W-1"
    assert line.unit == "pcs"
    assert line.vat_percent == Decimal(22)
    assert (line.product_id, line.vat_rate_id, line.unit_id) == ("p1", "v22", "u1")


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, [(("description",), "Field required")]),
        ({"description": "x", "discount_percent": 101},
         [(("discount_percent",), "Input should be less than or equal to 100")]),
        ({"description": "x", "discount_percent": "-5"},
         [(("discount_percent",), "Input should be greater than or equal to 0")]),
        ({"description": "x", "vat_percent": 100.5},
         [(("vat_percent",), "Input should be less than or equal to 100")]),
        ({"description": "x", "vat_percent": -1},
         [(("vat_percent",), "Input should be greater than or equal to 0")]),
        ({"description": "x", "quantity": "1.1234567"},
         [(("quantity",), "Decimal input should have no more than 6 decimal places")]),
        ({"description": "x", "unit_price": "twelve"},
         [(("unit_price",), "Input should be a valid decimal")]),
        ({"description": "x", "vat": 22}, [(("vat",), "Extra inputs are not permitted")]),
    ],
)
def test_line_rejected(data: dict[str, Any], errors: list[Any]) -> None:
    assert _errors(DocumentLine, **data) == errors


def test_line_json_money_as_strings() -> None:
    line = DocumentLine(description="x", quantity="2.000", unit_price=12.50, vat_percent="22.00")
    dumped = line.model_dump(mode="json")
    assert dumped["quantity"] == "2"
    assert dumped["unit_price"] == "12.5"
    assert dumped["discount_percent"] == "0"
    assert dumped["vat_percent"] == "22"


# --------------------------------------------------------------------------- documents


@pytest.mark.parametrize("model", DOCUMENTS)
@pytest.mark.parametrize("party", [{"company_id": "c1"}, {"contact_id": "p1"},
                                   {"company_id": "c1", "contact_id": "p1"}])
def test_document_with_a_party(model: type[Any], party: dict[str, str]) -> None:
    document = model(date="2024-05-01", **party)
    assert document.date == date(2024, 5, 1)
    assert document.currency == "EUR"
    assert document.status is DocumentStatus.DRAFT
    assert document.lines == []
    assert document.locked is False
    assert document.net_total == Decimal(0)


@pytest.mark.parametrize("model", DOCUMENTS)
def test_document_needs_company_or_contact(model: type[Any]) -> None:
    assert _errors(model, date="2024-05-01") == NO_PARTY
    assert _errors(model, date="2024-05-01", company_id=None, contact_id=None) == NO_PARTY


@pytest.mark.parametrize("model", DOCUMENTS)
def test_document_removing_the_last_party_is_rejected(model: type[Any]) -> None:
    document = model(date="2024-05-01", company_id="c1")
    with pytest.raises(ValidationError) as caught:
        document.company_id = None
    assert [(e["loc"], e["msg"]) for e in caught.value.errors()] == NO_PARTY


@pytest.mark.parametrize("model", DOCUMENTS)
def test_document_field_errors_come_before_the_party_check(model: type[Any]) -> None:
    # the party check is a model check: it only runs once every field is valid
    assert _errors(model, company_id="c1") == [(("date",), "Field required")]
    assert _errors(model, date="2024-05-01", company_id="c1", currency="EURO") == [
        (("currency",),
         "Value error, 'EURO' is not an ISO 4217 currency code (e.g. EUR, HUF, DKK)"),
    ]


@pytest.mark.parametrize("model", DOCUMENTS)
def test_document_currency_normalised(model: type[Any]) -> None:
    assert model(date="2024-05-01", company_id="c1", currency="huf").currency == "HUF"


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("2024-13-01",
         [(("date",), "Input should be a valid date or datetime, month value is outside "
                      "expected range of 1-12")]),
        ("2024-05-01T10:00:00",
         [(("date",), "Datetimes provided to dates should have zero time - e.g. be exact "
                      "dates")]),
        (None, [(("date",), "Input should be a valid date")]),
    ],
)
def test_document_date_rejected(value: Any, errors: list[Any]) -> None:
    assert _errors(Invoice, date=value, company_id="c1") == errors


def test_document_date_accepts_midnight_datetime_and_date() -> None:
    assert Quote(date=date(2024, 5, 1), company_id="c1").date == date(2024, 5, 1)
    assert Quote(date="2024-05-01T00:00:00", company_id="c1").date == date(2024, 5, 1)


@pytest.mark.parametrize("status", list(DocumentStatus))
def test_document_status_values(status: DocumentStatus) -> None:
    invoice = Invoice(date="2024-05-01", company_id="c1", status=status.value)
    assert invoice.status is status
    assert invoice.model_dump(mode="json")["status"] == status.value


def test_document_status_rejected() -> None:
    assert _errors(Quote, date="2024-05-01", company_id="c1", status="approved") == [
        (("status",),
         "Input should be 'draft', 'sent', 'accepted', 'rejected', 'issued', "
         "'partially_paid', 'paid', 'overdue' or 'cancelled'"),
    ]


def test_document_lines_and_net_total() -> None:
    quote = Quote(
        date="2024-05-01", company_id="c1",
        lines=[
            {"description": "a", "quantity": "2", "unit_price": "5"},
            {"description": "b", "unit_price": "3", "discount_percent": 50},
            DocumentLine(description="c", quantity=0.1, unit_price=0.2),
        ],
    )
    assert [line.description for line in quote.lines] == ["a", "b", "c"]
    assert quote.net_total == Decimal("11.52")


def test_document_line_error_located_inside_the_list() -> None:
    assert _errors(
        Order, date="2024-05-01", company_id="c1",
        lines=[{"description": "ok"}, {"description": "bad", "discount_percent": 150}],
    ) == [(("lines", 1, "discount_percent"), "Input should be less than or equal to 100")]


def test_quote_fields() -> None:
    quote = Quote(date="2024-05-01", contact_id="p1", valid_until="2024-06-01", number=" Q-7 ")
    assert quote.valid_until == date(2024, 6, 1)
    assert quote.number == "Q-7"
    assert _errors(Quote, date="2024-05-01", contact_id="p1", due_date="2024-06-01") == [
        (("due_date",), "Extra inputs are not permitted"),
    ]


def test_order_fields() -> None:
    order = Order(date="2024-05-01", company_id="c1", quote_id="q1")
    assert order.quote_id == "q1"
    assert _errors(Order, date="2024-05-01", company_id="c1", valid_until="2024-06-01") == [
        (("valid_until",), "Extra inputs are not permitted"),
    ]


def test_invoice_fields() -> None:
    invoice = Invoice(
        date="2024-05-01", company_id="c1", due_date="2024-05-31", order_id="o1",
        total=0.1, balance="0.10", credit_note=True, locked=True, status="issued",
    )
    assert invoice.due_date == date(2024, 5, 31)
    assert invoice.order_id == "o1"
    assert invoice.total == Decimal("0.1")
    assert invoice.balance == Decimal("0.10")
    assert invoice.credit_note is True
    assert invoice.locked is True
    dumped = invoice.model_dump(mode="json")
    assert (dumped["total"], dumped["balance"], dumped["due_date"]) == ("0.1", "0.1", "2024-05-31")
    assert _errors(Invoice, date="2024-05-01", company_id="c1", total="1.0000001") == [
        (("total",), "Decimal input should have no more than 6 decimal places"),
    ]


def test_invoice_json_round_trip() -> None:
    invoice = Invoice(
        id="i1", updated_at=datetime(2024, 5, 1, 8), date="2024-05-01", company_id="c1",
        lines=[{"description": "a", "quantity": "2", "unit_price": "12.50", "vat_percent": 22}],
        total="30.50",
    )
    again = Invoice.model_validate_json(invoice.model_dump_json())
    assert again == invoice
    assert again.fingerprint() == invoice.fingerprint()


# --------------------------------------------------------------------------- payments


def test_payment_fields() -> None:
    payment = Payment(
        amount=0.1, date="2024-05-02", currency="dkk", invoice_id="i1", company_id="c1",
        payment_method_id="pm1", reference="  CRO 123 ",
    )
    assert payment.amount == Decimal("0.1")
    assert payment.currency == "DKK"
    assert payment.reference == "CRO 123"
    assert payment.model_dump(mode="json")["amount"] == "0.1"


def test_payment_defaults() -> None:
    payment = Payment(amount="10.00", date="2024-05-02")
    assert payment.currency == "EUR"
    assert payment.invoice_id is None
    assert payment.reference is None


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"amount": 0, "date": "2024-05-02"}, [(("amount",), "Input should be greater than 0")]),
        ({"amount": "-1", "date": "2024-05-02"},
         [(("amount",), "Input should be greater than 0")]),
        ({"amount": "1.0000001", "date": "2024-05-02"},
         [(("amount",), "Decimal input should have no more than 6 decimal places")]),
        ({"date": "2024-05-02"}, [(("amount",), "Field required")]),
        ({"amount": 1}, [(("date",), "Field required")]),
        ({"amount": 1, "date": "2024-05-02", "currency": "euro"},
         [(("currency",),
           "Value error, 'euro' is not an ISO 4217 currency code (e.g. EUR, HUF, DKK)")]),
        ({"amount": 1, "date": "2024-05-02", "contact_id": "p1"},
         [(("contact_id",), "Extra inputs are not permitted")]),
    ],
)
def test_payment_rejected(data: dict[str, Any], errors: list[Any]) -> None:
    assert _errors(Payment, **data) == errors


# --------------------------------------------------------------------------- references


_DOCUMENT_REFERENCES = {
    "company_id": "company",
    "contact_id": "contact",
    "payment_method_id": "payment_method",
    "lines.product_id": "product",
    "lines.vat_rate_id": "vat_rate",
    "lines.unit_id": "unit",
}


def test_document_references() -> None:
    assert Quote.references == _DOCUMENT_REFERENCES
    assert Order.references == {**_DOCUMENT_REFERENCES, "quote_id": "quote"}
    assert Invoice.references == {**_DOCUMENT_REFERENCES, "order_id": "order"}
    assert Payment.references == {
        "invoice_id": "invoice",
        "company_id": "company",
        "payment_method_id": "payment_method",
    }


@pytest.mark.parametrize("model", [*DOCUMENTS, Payment])
def test_reference_paths_name_real_fields(model: type[Any]) -> None:
    for path in model.references:
        head, _, tail = path.partition(".")
        assert head in model.model_fields
        if tail:
            assert head == "lines"
            assert tail in DocumentLine.model_fields


def test_document_entities() -> None:
    assert (Quote.entity, Order.entity, Invoice.entity, Payment.entity) == (
        "quote", "order", "invoice", "payment",
    )
