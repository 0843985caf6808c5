"""content() and fingerprint(): equal for equal content, different when any field differs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from syncbridge.models import (
    META_FIELDS,
    MODELS,
    CanonicalRecord,
    Company,
    Contact,
    Invoice,
    Product,
    VatRate,
)

_LINE: dict[str, Any] = {
    "description": "Widget", "quantity": "2", "unit_price": "12.50", "discount_percent": "10",
    "product_id": "p1", "code": "W-1", "vat_rate_id": "v22", "vat_percent": "22",
    "unit_id": "u1", "unit": "pcs",
}
_DOCUMENT: dict[str, Any] = {
    "number": "2024/1", "date": "2024-05-01", "currency": "EUR", "company_id": "c1",
    "contact_id": "p1", "payment_method_id": "pm1", "status": "sent", "lines": [_LINE],
    "subject": "Offer", "notes": "Thanks", "locked": False,
}
_PARTY: dict[str, Any] = {
    "country": "IT", "address": "Via Roma 1", "postal_code": "20100", "city": "Milano",
    "province": "MI", "mailing_address": "Casella 5", "mailing_postal_code": "20121",
    "mailing_city": "Milano", "mailing_country": "IT", "email": "info@acme.example",
    "phone": "02 1234", "vat_number": "IT00743110157", "tax_code": "00743110157",
    "external_id": "mc-1", "notes": "note",
}
_PARTY_CHANGES: dict[str, Any] = {
    "country": "FR", "address": "Via Roma 2", "postal_code": "20101", "city": "Roma",
    "province": "RM", "mailing_address": "Casella 6", "mailing_postal_code": "20122",
    "mailing_city": "Roma", "mailing_country": "GB", "email": "sales@acme.example",
    "phone": "02 9999", "vat_number": "DE136695976", "tax_code": "RSSMRA85T10A562S",
    "external_id": "mc-2", "notes": "other note",
}
_DOCUMENT_CHANGES: dict[str, Any] = {
    "number": "2024/2", "date": "2024-05-02", "currency": "HUF", "company_id": "c2",
    "contact_id": "p2", "payment_method_id": "pm2", "status": "accepted",
    "lines": [{**_LINE, "quantity": "3"}], "subject": "Offer 2", "notes": "Thanks!",
    "locked": True,
}

#: per entity: a record with every content field set, and another value for each of them
SAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "vat_rate": (
        {"rate": "22", "name": "IVA 22%", "description": "ordinaria", "exemption_code": "N2.2"},
        {"rate": "10", "name": "IVA 10%", "description": "ridotta", "exemption_code": "N4"},
    ),
    "currency": (
        {"code": "HUF", "symbol": "Ft", "exchange_rate": "0.0025"},
        {"code": "DKK", "symbol": "kr", "exchange_rate": "0.0026"},
    ),
    "payment_method": (
        {"name": "Bonifico", "type": "bank_transfer", "iban": "IT60X0542811101000000123456"},
        {"name": "Carta", "type": "card", "iban": "IT60X0542811101000000654321"},
    ),
    "unit": ({"name": "h", "description": "hour"}, {"name": "d", "description": "day"}),
    "product": (
        {"name": "Widget", "code": "W-1", "description": "A widget", "category": "tools",
         "price": "12.5", "cost": "7", "currency": "EUR", "vat_rate_id": "v22",
         "unit_id": "u1", "unit": "pcs"},
        {"name": "Gadget", "code": "W-2", "description": "A gadget", "category": "toys",
         "price": "12.51", "cost": "7.01", "currency": "HUF", "vat_rate_id": "v10",
         "unit_id": "u2", "unit": "kg"},
    ),
    "sector": ({"code": "HOS", "name": "Hostelería"}, {"code": "CON", "name": "Construcción"}),
    "company": (
        {**_PARTY, "name": "ACME", "status": "customer", "currency": "EUR",
         "website": "https://acme.example", "sector_id": "s1"},
        {**_PARTY_CHANGES, "name": "ACME Ltd", "status": "lead", "currency": "GBP",
         "website": "https://acme.example/en", "sector_id": "s2"},
    ),
    "contact": (
        {**_PARTY, "first_name": "Mario", "last_name": "Rossi", "company_id": "c1",
         "job_title": "CFO", "mobile": "333 1"},
        {**_PARTY_CHANGES, "first_name": "Maria", "last_name": "Bianchi", "company_id": "c2",
         "job_title": "CEO", "mobile": "333 2"},
    ),
    "sales_data": (
        {"company_id": "c1", "year": 2026, "sales_current": "61234.5",
         "sales_previous": "9999.99", "pyramid_current": "A", "pyramid_previous": "C",
         "statistics_date": "2026-12-01"},
        {"company_id": "c2", "year": 2025, "sales_current": "61234.51",
         "sales_previous": "10000", "pyramid_current": "B", "pyramid_previous": "B",
         "statistics_date": "2026-12-02"},
    ),
    "quote": (
        {**_DOCUMENT, "valid_until": "2024-06-01"},
        {**_DOCUMENT_CHANGES, "valid_until": "2024-06-02"},
    ),
    "order": ({**_DOCUMENT, "quote_id": "q1"}, {**_DOCUMENT_CHANGES, "quote_id": "q2"}),
    "invoice": (
        {**_DOCUMENT, "due_date": "2024-05-31", "order_id": "o1", "total": "24.75",
         "balance": "24.75", "credit_note": False},
        {**_DOCUMENT_CHANGES, "due_date": "2024-06-30", "order_id": "o2", "total": "24.76",
         "balance": "0", "credit_note": True},
    ),
    "payment": (
        {"amount": "24.75", "date": "2024-05-10", "currency": "EUR", "invoice_id": "i1",
         "company_id": "c1", "payment_method_id": "pm1", "reference": "CRO 1"},
        {"amount": "24.76", "date": "2024-05-11", "currency": "DKK", "invoice_id": "i2",
         "company_id": "c2", "payment_method_id": "pm2", "reference": "CRO 2"},
    ),
}

FIELD_CASES = [
    (entity, field) for entity, (base, _changes) in SAMPLES.items() for field in base
]
#: the fields that default to None, which leaving out must show in the fingerprint
OPTIONAL_CASES = [
    (entity, field) for entity, field in FIELD_CASES
    if not MODELS[entity].model_fields[field].is_required()
    and MODELS[entity].model_fields[field].default is None
    and MODELS[entity].model_fields[field].default_factory is None
]
LINE_CHANGES: dict[str, Any] = {
    "description": "Gadget", "quantity": "2.5", "unit_price": "12.51", "discount_percent": "0",
    "product_id": "p2", "code": "W-2", "vat_rate_id": "v10", "vat_percent": "10",
    "unit_id": "u2", "unit": "kg",
}


def _record(entity: str, **data: Any) -> CanonicalRecord:
    return MODELS[entity](**data)


def test_samples_cover_every_content_field() -> None:
    for entity, (base, changes) in SAMPLES.items():
        content_fields = set(MODELS[entity].model_fields) - META_FIELDS
        assert set(base) == content_fields, entity
        assert set(changes) == content_fields, entity
    assert set(LINE_CHANGES) == set(_LINE)


@pytest.mark.parametrize("entity", list(SAMPLES))
def test_fingerprint_ignores_id_and_updated_at(entity: str) -> None:
    base, _ = SAMPLES[entity]
    ours = _record(entity, id="1", updated_at=datetime(2024, 1, 1, tzinfo=UTC), **base)
    theirs = _record(entity, id="abc-99", updated_at="2025-06-30T18:00:00+02:00", **base)
    bare = _record(entity, **base)
    assert ours.fingerprint() == theirs.fingerprint() == bare.fingerprint()
    assert "id" not in ours.content()
    assert "updated_at" not in ours.content()


@pytest.mark.parametrize("entity", list(SAMPLES))
def test_fingerprint_is_stable_and_hex(entity: str) -> None:
    base, _ = SAMPLES[entity]
    fingerprint = _record(entity, **base).fingerprint()
    assert fingerprint == _record(entity, **dict(reversed(base.items()))).fingerprint()
    assert len(fingerprint) == 32
    int(fingerprint, 16)
    digest, data = _record(entity, **base).snapshot()
    # what the state store keeps: the content as JSON, and the fingerprint is of it
    assert digest == fingerprint
    assert orjson.loads(data) == _record(entity, **base).content()


@pytest.mark.parametrize(("entity", "field"), FIELD_CASES)
def test_fingerprint_changes_when_any_field_changes(entity: str, field: str) -> None:
    base, changes = SAMPLES[entity]
    original = _record(entity, **base)
    changed = _record(entity, **{**base, field: changes[field]})
    assert changed.content()[field] != original.content()[field]
    assert changed.fingerprint() != original.fingerprint()


@pytest.mark.parametrize(("entity", "field"), OPTIONAL_CASES)
def test_fingerprint_changes_when_an_optional_field_is_left_out(entity: str, field: str) -> None:
    # a contact keeps its other name and a document its other party, so each stays valid
    base, _ = SAMPLES[entity]
    cleared = {key: value for key, value in base.items() if key != field}
    record = _record(entity, **cleared)
    assert getattr(record, field) is None
    assert record.fingerprint() != _record(entity, **base).fingerprint()


@pytest.mark.parametrize("field", list(_LINE))
def test_fingerprint_changes_when_a_line_field_changes(field: str) -> None:
    base, _ = SAMPLES["invoice"]
    changed_line = {**_LINE, field: LINE_CHANGES[field]}
    original = Invoice(**base)
    changed = Invoice(**{**base, "lines": [changed_line]})
    assert changed.fingerprint() != original.fingerprint()


def test_fingerprint_depends_on_line_order_and_count() -> None:
    base, _ = SAMPLES["invoice"]
    other = {**_LINE, "description": "Other"}
    one_two = Invoice(**{**base, "lines": [_LINE, other]})
    two_one = Invoice(**{**base, "lines": [other, _LINE]})
    one = Invoice(**base)
    assert len({one_two.fingerprint(), two_one.fingerprint(), one.fingerprint()}) == 3


def test_fingerprint_equal_for_equal_content_written_differently() -> None:
    """Normalisation makes equal content hash equal: decimals, case, prefixes, whitespace."""
    a = Company(name="ACME", country="it", vat_number="00743110157", currency="eur",
                email="info@ACME.example", city="  Milano ", phone="")
    b = Company(name=" ACME ", country="IT", vat_number="IT 00743110157", currency="EUR",
                email="info@acme.example", city="Milano", phone=None)
    assert a.fingerprint() == b.fingerprint()
    p = Product(name="Widget", price="12.50", cost=7)
    q = Product(name="Widget", price=12.5, cost=Decimal("7.000"))
    assert p.fingerprint() == q.fingerprint()


def test_fingerprint_differs_between_values_that_only_look_alike() -> None:
    assert VatRate(rate="22").fingerprint() != VatRate(rate="22.01").fingerprint()
    assert Product(name="Widget").fingerprint() != Product(name="widget").fingerprint()
    assert Contact(first_name="Mario").fingerprint() != Contact(last_name="Mario").fingerprint()


def test_fingerprint_follows_assignment() -> None:
    company = Company(name="ACME")
    before = company.fingerprint()
    company.city = "Milano"
    assert company.fingerprint() != before
    company.city = None
    assert company.fingerprint() == before


def test_content_is_json_ready() -> None:
    base, _ = SAMPLES["invoice"]
    content = Invoice(id="i1", updated_at="2024-05-01T10:00:00", **base).content()
    assert content["date"] == "2024-05-01"
    assert content["status"] == "sent"
    assert content["total"] == "24.75"
    assert content["lines"][0]["unit_price"] == "12.5"
    assert content["lines"][0]["quantity"] == "2"
    assert set(content) == set(Invoice.model_fields) - META_FIELDS



def _types_in(annotation: Any) -> list[Any]:
    from typing import get_args, get_origin

    found = [get_origin(annotation) or annotation]
    for arg in get_args(annotation):
        found += _types_in(arg)
    return found


@pytest.mark.parametrize("entity", sorted(MODELS))
def test_no_model_has_a_dict_field(entity: str) -> None:
    """snapshot() relies on field order: a dict's key order would make equal content differ."""
    def walk(model: type[Any]) -> None:
        for name, field in model.model_fields.items():
            for kind in _types_in(field.annotation):
                assert kind is not dict, f"{model.__name__}.{name} is a dict"
                if isinstance(kind, type) and issubclass(kind, CanonicalRecord | BaseModel):
                    walk(kind)

    walk(MODELS[entity])
