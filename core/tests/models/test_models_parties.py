"""Companies and contacts: required fields, e-mail, names, references."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from syncbridge.models import Company, Contact


def _errors(model: type[Any], **data: Any) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        model(**data)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


def _assign_errors(record: Any, field: str, value: Any) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        setattr(record, field, value)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


NO_NAME = [(("last_name",), "Value error, a contact needs a first_name or a last_name")]


# --------------------------------------------------------------------------- company


def test_company_full_record() -> None:
    company = Company(
        id="42", name=" ACME S.p.A. ", country="it", address="Via Roma 1", postal_code="20100",
        city="Milano", province="MI", mailing_address="Casella 5", mailing_postal_code="20121",
        mailing_city="Milano", mailing_country="uk", email="info@acme.example",
        phone="+39 02 1234567", vat_number="00743110157", tax_code="00743110157",
        external_id="mc-7", notes="  good payer ", status="customer", currency="eur",
        website="https://acme.example",
    )
    assert company.name == "ACME S.p.A."
    assert company.country == "IT"
    assert company.mailing_country == "GB"
    assert company.vat_number == "IT00743110157"
    assert company.tax_code == "00743110157"
    assert company.currency == "EUR"
    assert company.notes == "good payer"


def test_company_needs_a_name() -> None:
    assert _errors(Company) == [(("name",), "Field required")]
    assert _errors(Company, name=None) == [(("name",), "Input should be a valid string")]


def test_company_minimal_record_defaults_to_none() -> None:
    company = Company(name="ACME")
    optional = set(Company.model_fields) - {"name"}
    assert all(getattr(company, field) is None for field in optional)


def test_company_rejects_unknown_fields() -> None:
    assert _errors(Company, name="ACME", fax="123") == [
        (("fax",), "Extra inputs are not permitted"),
    ]


def test_company_assignment_is_validated() -> None:
    company = Company(name="ACME")
    company.country = "dk"
    assert company.country == "DK"
    assert _assign_errors(company, "country", "XX") == [
        (("country",),
         "Value error, 'XX' is not an ISO 3166-1 alpha-2 country code (e.g. IT, HU, DK)"),
    ]
    assert company.country == "DK"
    assert _assign_errors(company, "currency", "EURO") == [
        (("currency",),
         "Value error, 'EURO' is not an ISO 4217 currency code (e.g. EUR, HUF, DKK)"),
    ]


def test_company_assignment_strips_text() -> None:
    company = Company(name="ACME")
    company.city = "  Milano  "
    assert company.city == "Milano"
    company.city = "   "
    assert company.city is None


# --------------------------------------------------------------------------- e-mail


@pytest.mark.parametrize("model", [Company, Contact])
@pytest.mark.parametrize("blank", ["", "   ", "\t", None])
def test_blank_email_becomes_none(model: type[Any], blank: str | None) -> None:
    names: dict[str, str] = {"name": "ACME"} if model is Company else {"first_name": "Mario"}
    assert model(email=blank, **names).email is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mario.rossi@example.com", "mario.rossi@example.com"),
        ("  mario.rossi@example.com  ", "mario.rossi@example.com"),
        # the domain is normalised to lower case, the local part is kept
        ("Mario.Rossi@Example.COM", "Mario.Rossi@example.com"),
        ("ufficio+fatture@acme.it", "ufficio+fatture@acme.it"),
    ],
)
def test_valid_email(value: str, expected: str) -> None:
    assert Contact(first_name="Mario", email=value).email == expected
    assert Company(name="ACME", email=value).email == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("not-an-email", "An email address must have an @-sign."),
        ("mario@", "There must be something after the @-sign."),
        ("@example.com", "There must be something before the @-sign."),
        ("mario@example", "The part after the @-sign is not valid. It should have a period."),
        ("mario rossi@example.com",
         "The email address contains invalid characters before the @-sign: SPACE."),
    ],
)
def test_invalid_email(value: str, reason: str) -> None:
    message = f"value is not a valid email address: {reason}"
    assert _errors(Contact, first_name="Mario", email=value) == [(("email",), message)]
    assert _errors(Company, name="ACME", email=value) == [(("email",), message)]


def test_assigned_blank_email_becomes_none() -> None:
    contact = Contact(first_name="Mario", email="mario@example.com")
    contact.email = "  "
    assert contact.email is None


# --------------------------------------------------------------------------- contact names


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ({"first_name": "Mario", "last_name": "Rossi"}, "Mario Rossi"),
        ({"first_name": "Mario"}, "Mario"),
        ({"last_name": "Rossi"}, "Rossi"),
        ({"first_name": "  Mario ", "last_name": "  "}, "Mario"),
        ({"first_name": "", "last_name": "Rossi"}, "Rossi"),
    ],
)
def test_contact_name(data: dict[str, str], name: str) -> None:
    assert Contact(**data).name == name


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"first_name": None, "last_name": None},
        {"first_name": "   "},
        {"last_name": ""},
        {"first_name": "", "last_name": " "},
        {"email": "mario@example.com", "company_id": "c1"},
    ],
)
def test_contact_needs_a_first_or_last_name(data: dict[str, Any]) -> None:
    assert _errors(Contact, **data) == NO_NAME


def test_contact_cannot_lose_its_last_name_when_it_has_no_first_name() -> None:
    contact = Contact(last_name="Rossi")
    assert _assign_errors(contact, "last_name", "  ") == NO_NAME
    assert contact.last_name == "Rossi"


def test_contact_may_lose_its_last_name_when_it_has_a_first_name() -> None:
    contact = Contact(first_name="Mario", last_name="Rossi")
    contact.last_name = None
    assert contact.name == "Mario"


def test_contact_name_and_other_errors_are_reported_together() -> None:
    assert _errors(Contact, country="XX") == [
        (("country",),
         "Value error, 'XX' is not an ISO 3166-1 alpha-2 country code (e.g. IT, HU, DK)"),
        *NO_NAME,
    ]


def test_contact_full_record() -> None:
    contact = Contact(
        first_name="Mario", last_name="Rossi", company_id="c1", job_title="CFO",
        mobile="+39 333 1234567", phone="02 1234", email="m.rossi@acme.example",
        country="IT", tax_code="RSSMRA85T10A562S",
    )
    assert contact.company_id == "c1"
    assert contact.tax_code == "RSSMRA85T10A562S"
    assert contact.job_title == "CFO"


def test_contact_rejects_company_only_fields() -> None:
    assert _errors(Contact, first_name="Mario", website="x") == [
        (("website",), "Extra inputs are not permitted"),
    ]


# --------------------------------------------------------------------------- references


def test_party_entities_and_references() -> None:
    assert Company.entity == "company"
    assert Company.references == {"sector_id": "sector"}
    assert Contact.entity == "contact"
    assert Contact.references == {"company_id": "company"}


def test_references_point_at_fields_that_exist() -> None:
    for model in (Company, Contact):
        assert set(model.references) <= set(model.model_fields)
