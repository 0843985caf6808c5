"""The model registry: MODELS, REFERENCE_DATA, DEPENDENCY_ORDER and model_for."""

from __future__ import annotations

import pytest

from syncbridge.models import (
    DEPENDENCY_ORDER,
    META_FIELDS,
    MODELS,
    REFERENCE_DATA,
    CanonicalRecord,
    Company,
    Contact,
    Currency,
    Invoice,
    Order,
    Payment,
    PaymentMethod,
    Product,
    Quote,
    SalesData,
    Sector,
    Unit,
    VatRate,
    model_for,
)

ENTITIES = (
    "vat_rate", "currency", "payment_method", "unit", "sector", "company", "product", "contact",
    "sales_data", "quote", "order", "invoice", "payment",
)


def _position(entity: str) -> int:
    return DEPENDENCY_ORDER.index(entity)


def test_models_registry() -> None:
    expected: dict[str, type[CanonicalRecord]] = {
        "vat_rate": VatRate, "currency": Currency, "payment_method": PaymentMethod,
        "unit": Unit, "sector": Sector, "company": Company, "product": Product,
        "contact": Contact, "sales_data": SalesData, "quote": Quote, "order": Order,
        "invoice": Invoice, "payment": Payment,
    }
    assert expected == MODELS
    assert tuple(MODELS) == ENTITIES
    for name, model in MODELS.items():
        assert model.entity == name
        assert issubclass(model, CanonicalRecord)


def test_reference_data() -> None:
    assert frozenset({"vat_rate", "currency", "payment_method", "unit"}) == REFERENCE_DATA
    # sectors have no references either, but a sync line creates them on the other side
    assert "sector" not in REFERENCE_DATA
    for name in REFERENCE_DATA:
        assert MODELS[name].references == {}


def test_meta_fields() -> None:
    assert frozenset({"id", "updated_at"}) == META_FIELDS
    for model in MODELS.values():
        assert set(model.model_fields) >= META_FIELDS


def test_dependency_order_lists_every_entity_once() -> None:
    assert sorted(DEPENDENCY_ORDER) == sorted(ENTITIES)
    assert len(DEPENDENCY_ORDER) == len(set(DEPENDENCY_ORDER))


def test_dependency_order_exactly() -> None:
    assert DEPENDENCY_ORDER == (
        "vat_rate", "currency", "payment_method", "unit", "sector", "company", "product",
        "contact", "sales_data", "quote", "order", "invoice", "payment",
    )
    # listed in the order a run goes in
    assert tuple(MODELS) == DEPENDENCY_ORDER


@pytest.mark.parametrize("reference", ["vat_rate", "currency", "payment_method", "unit"])
@pytest.mark.parametrize("dependent", ["product", "company", "sector"])
def test_reference_data_comes_first(reference: str, dependent: str) -> None:
    assert _position(reference) < _position(dependent)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("company", "contact"),
        ("product", "quote"), ("product", "order"), ("product", "invoice"),
        ("company", "quote"), ("company", "order"), ("company", "invoice"),
        ("contact", "quote"), ("contact", "order"), ("contact", "invoice"),
        ("quote", "order"), ("order", "invoice"),
        ("invoice", "payment"), ("company", "payment"), ("payment_method", "payment"),
        ("sector", "company"), ("company", "sales_data"),
    ],
)
def test_dependency_pairs(before: str, after: str) -> None:
    assert _position(before) < _position(after)


def test_every_reference_points_backwards() -> None:
    """Nothing is written before what it points at."""
    for name, model in MODELS.items():
        for path, target in model.references.items():
            assert target in MODELS, f"{name}.{path} points at unknown entity {target!r}"
            assert _position(target) < _position(name), f"{name}.{path} -> {target}"


@pytest.mark.parametrize("entity", ENTITIES)
def test_model_for(entity: str) -> None:
    assert model_for(entity) is MODELS[entity]


def test_model_for_unknown_entity() -> None:
    with pytest.raises(KeyError) as caught:
        model_for("lead")
    assert caught.value.args[0] == (
        "unknown entity 'lead'; canonical entities are: vat_rate, currency, payment_method, "
        "unit, sector, company, product, contact, sales_data, quote, order, invoice, payment"
    )
