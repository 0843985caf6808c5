"""Mapping rules that need no server: kinds, names, countries, lines, statuses, payments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from syncbridge.models import Company, Contact, DocumentLine, DocumentStatus
from syncbridge_quickbooks import documents, mapping, parties
from syncbridge_quickbooks.native import country_code

META = {"MetaData": {"LastUpdatedTime": "2024-03-04T05:06:07-08:00"}}


@pytest.mark.parametrize(
    ("record", "kind"),
    [
        ({"CompanyName": "Acme", "DisplayName": "Acme"}, "company"),
        ({"CompanyName": "Acme", "GivenName": "Tom", "FamilyName": "Hill"}, "company"),
        ({"GivenName": "Tom", "DisplayName": "Tom"}, "contact"),
        ({"FamilyName": "Hill", "ParentRef": {"value": "3"}}, "contact"),
        ({"DisplayName": "Website relaunch", "ParentRef": {"value": "3"}, "Job": True}, "company"),
        ({"DisplayName": "Cool Cars"}, "company"),
    ],
)
def test_the_kind_of_a_customer(record: dict[str, Any], kind: str) -> None:
    assert parties.customer_kind(record) == kind


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("USA", "US"),
        ("Germany", "DE"),
        ("DE", "DE"),
        ("deu", "DE"),
        ("Deutschland", "DE"),
        ("United Kingdom", "GB"),
        ("Atlantis", None),
        ("", None),
        (None, None),
    ],
)
def test_country_names_become_iso_codes(text: str | None, code: str | None) -> None:
    assert country_code(text) == code


def test_a_job_is_named_with_its_parent_and_written_back_by_its_own_name() -> None:
    job = {
        "Id": "9",
        "DisplayName": "Fit-out",
        "FullyQualifiedName": "Acme:Fit-out",
        "ParentRef": {"value": "3"},
        "Job": True,
        **META,
    }
    company = parties.company_in(job, {})
    assert company.name == "Acme:Fit-out"
    assert parties.company_out(company, {}) == {"DisplayName": "Fit-out"}
    plain = parties.company_out(Company(name="Acme", email="a@acme.com", city="Austin"), {})
    assert plain == {
        "DisplayName": "Acme",
        "CompanyName": "Acme",
        "PrimaryEmailAddr": {"Address": "a@acme.com"},
        "BillAddr": {"City": "Austin"},
    }


def test_a_masked_tax_id_is_left_out_and_a_real_one_normalised() -> None:
    masked = {"Id": "1", "CompanyName": "A", "PrimaryTaxIdentifier": "XXXXXX6976", **META}
    assert parties.company_in(masked, {}).vat_number is None
    real = {**masked, "PrimaryTaxIdentifier": "de 136 695 976"}
    assert parties.company_in(real, {}).vat_number == "DE136695976"


def test_a_contact_knows_its_company_only_when_its_parent_is_one() -> None:
    person = {
        "Id": "5",
        "GivenName": "Hans",
        "FamilyName": "Becker",
        "ParentRef": {"value": "3"},
        **META,
    }
    assert parties.contact_in(person, {"parent": "company"}).company_id == "3"
    assert parties.contact_in(person, {"parent": "contact"}).company_id is None
    assert parties.contact_in(person, {}).company_id is None
    context: dict[str, Any] = {}
    out = parties.contact_out(
        Contact(first_name="Hans", last_name="Becker", company_id="3"), context
    )
    assert out == {
        "GivenName": "Hans",
        "FamilyName": "Becker",
        "DisplayName": "Hans Becker",
        "ParentRef": {"value": "3"},
        "Job": True,
    }
    assert context == {"parent": "company"}


def test_lines_read_every_kind_quickbooks_has() -> None:
    record = {
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": Decimal("30.00"),
                "SalesItemLineDetail": {
                    "ItemRef": {"value": "4", "name": "Bolt"},
                    "Qty": 3,
                    "UnitPrice": Decimal("10.00"),
                    "TaxCodeRef": {"value": "TAX"},
                },
            },
            {
                "DetailType": "GroupLineDetail",
                "GroupLineDetail": {
                    "Line": [
                        {
                            "DetailType": "SalesItemLineDetail",
                            "Amount": 8,
                            "Description": "Nut",
                            "SalesItemLineDetail": {"Qty": 4},
                        }
                    ]
                },
            },
            {
                "DetailType": "DiscountLineDetail",
                "Amount": Decimal("5.00"),
                "DiscountLineDetail": {"PercentBased": False},
            },
            {"DetailType": "DescriptionOnly", "Description": "Thank you!"},
            {"DetailType": "SubTotalLineDetail", "Amount": Decimal("38.00")},
        ]
    }
    lines = documents.lines_in(record, {})
    assert [
        (x.description, x.quantity, x.unit_price, x.product_id, x.vat_rate_id) for x in lines
    ] == [
        ("Bolt", 3, Decimal("10.00"), "4", None),  # US pseudo code TAX: no VAT rate to link
        ("Nut", 4, Decimal("2"), None, None),
        ("Discount", 1, Decimal("-5.00"), None, None),
        ("Thank you!", 0, 0, None, None),
    ]
    assert [documents.line_out(x)["DetailType"] for x in lines] == [
        "SalesItemLineDetail",
        "SalesItemLineDetail",
        "DiscountLineDetail",
        "DescriptionOnly",
    ]
    assert documents.line_out(
        DocumentLine(description="x", quantity=Decimal("1.5"), unit_price=Decimal("3.333"))
    )["Amount"] == Decimal("5.00")


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"TotalAmt": 100, "Balance": 0, "EmailStatus": "EmailSent"}, DocumentStatus.PAID),
        ({"TotalAmt": 100, "Balance": 40}, DocumentStatus.PARTIALLY_PAID),
        ({"TotalAmt": 100, "Balance": 100, "EmailStatus": "EmailSent"}, DocumentStatus.SENT),
        ({"TotalAmt": 100, "Balance": 100, "EmailStatus": "NeedToSend"}, DocumentStatus.ISSUED),
        ({"TotalAmt": 0, "Balance": 0, "PrivateNote": "Voided"}, DocumentStatus.CANCELLED),
    ],
)
def test_invoice_status(fields: dict[str, Any], status: DocumentStatus) -> None:
    assert documents.invoice_status(fields) == status


def test_a_document_needs_to_know_its_customer_kind() -> None:
    invoice = {
        "Id": "1",
        "TxnDate": "2024-01-02",
        "CurrencyRef": {"value": "USD"},
        "CustomerRef": {"value": "8"},
        "Line": [],
        **META,
    }
    with pytest.raises(ValueError, match="CustomerRef 8: whether this customer is a company"):
        documents.invoice_in(invoice, {})
    assert documents.invoice_in(invoice, {"customer": "contact"}).contact_id == "8"


def test_a_payment_over_several_invoices_is_refused_with_the_reason() -> None:
    payment = {
        "Id": "3",
        "TxnDate": "2024-01-02",
        "TotalAmt": 50,
        "CurrencyRef": {"value": "USD"},
        "CustomerRef": {"value": "8"},
        **META,
        "Line": [
            {"Amount": 20, "LinkedTxn": [{"TxnId": "1", "TxnType": "Invoice"}]},
            {"Amount": 30, "LinkedTxn": [{"TxnId": "2", "TxnType": "Invoice"}]},
        ],
    }
    customer = {"customer": "company"}
    with pytest.raises(ValueError, match=r"applied to 2 invoices \(1, 2\)"):
        documents.payment_in(payment, customer)
    single = {**payment, "Line": payment["Line"][:1]}
    mapped = documents.payment_in(single, customer)
    assert (mapped.invoice_id, mapped.company_id, mapped.amount) == ("1", "8", Decimal(50))
    with pytest.raises(ValidationError):
        documents.payment_in({**single, "TotalAmt": 0}, customer)


def test_sparse_properties_cover_every_mapped_field() -> None:
    for entity, spec in mapping.SPECS.items():
        top_level = {name for name in mapping.FIELDS[entity] if "." not in name}
        assert top_level == set(spec.fields), entity
    assert mapping.SPECS["contact"].owned.isdisjoint({"ParentRef", "Job"})


def _taxed(code: str | None, **extra: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {"ItemRef": {"value": "4", "name": "Bolt"}, "Qty": 2,
                              "UnitPrice": Decimal("10.00")}
    if code is not None:
        detail["TaxCodeRef"] = {"value": code}
    return {"DetailType": "SalesItemLineDetail", "Amount": Decimal("20.00"),
            "SalesItemLineDetail": detail, **extra}


def test_a_line_carries_its_tax_code_and_the_codes_percentage() -> None:
    """A line names its VAT only by tax code; fetch gives each code's percentage."""
    record = {
        "Line": [_taxed("3"), _taxed("4"), _taxed("NON"), _taxed("TAX"), _taxed(None),
                 _taxed("9")],
        "TxnTaxDetail": {"TxnTaxCodeRef": {"value": "2"}},
    }
    rates = {"tax_rates": {"2": "7.25", "3": "19", "4": "7"}}
    assert [(x.vat_rate_id, x.vat_percent) for x in documents.lines_in(record, rates)] == [
        ("3", Decimal(19)),
        ("4", Decimal(7)),
        (None, Decimal(0)),  # NON: not taxable
        (None, Decimal("7.25")),  # TAX: US sales tax at the transaction's code
        (None, None),  # no code: nothing said about VAT
        ("9", None),  # a code fetch did not note
    ]
    # US sales tax without a transaction code: the location's rates QuickBooks charged
    us = {"Line": [_taxed("TAX"), _taxed("NON")], "TxnTaxDetail": {"TotalTax": Decimal("1.78"),
          "TaxLine": [{"DetailType": "TaxLineDetail", "Amount": Decimal("1.20"),
                       "TaxLineDetail": {"TaxPercent": Decimal(6)}},
                      {"DetailType": "TaxLineDetail", "Amount": Decimal("0.58"),
                       "TaxLineDetail": {"TaxPercent": Decimal("2.875")}}]}}
    assert [x.vat_percent for x in documents.lines_in(us, {})] == [Decimal("8.875"), Decimal(0)]


def test_a_lines_percentage_survives_map_out_and_in() -> None:
    """map(out) notes the percentages by position in the context for upsert (which writes
    each line with its percentage's tax code), and map(in) with that context reads them
    back: the round trip keeps VAT."""
    invoice = documents.invoice_in({
        "Id": "7", "TxnDate": "2026-11-23", "CurrencyRef": {"value": "EUR"},
        "CustomerRef": {"value": "58"}, **META,
        "Line": [_taxed("3", Description="Braugerste"), _taxed(None, Description="Hopfen"),
                 {"DetailType": "DescriptionOnly", "Description": "Prost"}],
    }, {"customer": "company"})
    lines = [invoice.lines[0].model_copy(update={"vat_percent": Decimal(19)}),
             invoice.lines[1].model_copy(update={"vat_percent": Decimal(7)}), invoice.lines[2]]
    invoice = invoice.model_copy(update={"lines": lines})
    context: dict[str, Any] = {}
    native = documents.invoice_out(invoice, context)
    assert context == {"customer": "company", "vat_percents": ["19", "7", None]}
    assert not [key for key in native if key.startswith("_")]
    assert "TaxCodeRef" not in native["Line"][1]["SalesItemLineDetail"]  # upsert picks it
    back = documents.invoice_in({**native, "Id": "7"}, context)
    assert [(x.vat_rate_id, x.vat_percent) for x in back.lines] == [
        ("3", Decimal(19)), (None, Decimal(7)), (None, None)]
    assert back.tax_total == invoice.tax_total == Decimal("5.20")
    assert mapping.FIELDS["invoice"] >= {"lines.vat_rate_id", "lines.vat_percent"}
