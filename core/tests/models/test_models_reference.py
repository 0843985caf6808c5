"""Reference data (VAT rates, currencies, payment methods, units) and products."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from syncbridge.models import Currency, PaymentMethod, Product, Unit, VatRate


def _errors(model: type[Any], **data: Any) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        model(**data)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


# --------------------------------------------------------------------------- VAT rates


def test_vat_rate_fields() -> None:
    rate = VatRate(rate=0, name=" Esente ", description="art. 10", exemption_code=" N4 ")
    assert rate.rate == Decimal(0)
    assert rate.name == "Esente"
    assert rate.exemption_code == "N4"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, [(("rate",), "Field required")]),
        ({"rate": None}, [(("rate",), "Decimal input should be an integer, float, string or "
                                      "Decimal object")]),
        ({"rate": 101}, [(("rate",), "Input should be less than or equal to 100")]),
        ({"rate": -0.5}, [(("rate",), "Input should be greater than or equal to 0")]),
        ({"rate": 22, "percent": 22}, [(("percent",), "Extra inputs are not permitted")]),
    ],
)
def test_vat_rate_rejected(data: dict[str, Any], errors: list[Any]) -> None:
    assert _errors(VatRate, **data) == errors


def test_vat_rates_equal_by_value() -> None:
    """22% here is 22% there, however each side writes it."""
    ours = VatRate(id="1", rate="22.00", name="IVA 22%")
    theirs = VatRate(id="x9", rate=22, name="IVA 22%")
    assert ours.fingerprint() == theirs.fingerprint()
    assert ours.content()["rate"] == "22"


# --------------------------------------------------------------------------- currencies


def test_currency_fields() -> None:
    currency = Currency(code="huf", symbol=" Ft ", exchange_rate=0.0025)
    assert currency.code == "HUF"
    assert currency.symbol == "Ft"
    assert currency.exchange_rate == Decimal("0.0025")
    assert currency.model_dump(mode="json")["exchange_rate"] == "0.0025"
    assert Currency(code="EUR").exchange_rate is None


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"code": "EUR", "exchange_rate": 0},
         [(("exchange_rate",), "Input should be greater than 0")]),
        ({"code": "EUR", "exchange_rate": "-1.5"},
         [(("exchange_rate",), "Input should be greater than 0")]),
        ({"code": "EUR", "exchange_rate": "0.0000001"},
         [(("exchange_rate",), "Decimal input should have no more than 6 decimal places")]),
        ({"code": "EURO"},
         [(("code",), "Value error, 'EURO' is not an ISO 4217 currency code "
                      "(e.g. EUR, HUF, DKK)")]),
    ],
)
def test_currency_rejected(data: dict[str, Any], errors: list[Any]) -> None:
    assert _errors(Currency, **data) == errors


# --------------------------------------------------------------------------- payment methods, units


def test_payment_method_fields() -> None:
    method = PaymentMethod(
        name=" Bonifico ", type="bank_transfer", iban=" IT60X0542811101000000123456 "
    )
    assert method.name == "Bonifico"
    assert method.iban == "IT60X0542811101000000123456"
    assert _errors(PaymentMethod) == [(("name",), "Field required")]
    assert _errors(PaymentMethod, name="Cash", bic="x") == [
        (("bic",), "Extra inputs are not permitted"),
    ]


def test_unit_fields() -> None:
    unit = Unit(name="h", description=" hour ")
    assert unit.description == "hour"
    assert _errors(Unit) == [(("name",), "Field required")]
    assert _errors(Unit, name=3) == [(("name",), "Input should be a valid string")]


# --------------------------------------------------------------------------- products


def test_product_fields() -> None:
    product = Product(
        name="Widget", code=" W-1 ", description="", category="tools", price=0.1, cost="0.05",
        currency="dkk", vat_rate_id="v22", unit_id="u1", unit="pcs",
    )
    assert product.code == "W-1"
    assert product.description is None
    assert product.price == Decimal("0.1")
    assert product.cost == Decimal("0.05")
    assert product.currency == "DKK"
    dumped = product.model_dump(mode="json")
    assert (dumped["price"], dumped["cost"]) == ("0.1", "0.05")


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, [(("name",), "Field required")]),
        ({"name": "x", "currency": "EURO"},
         [(("currency",), "Value error, 'EURO' is not an ISO 4217 currency code "
                          "(e.g. EUR, HUF, DKK)")]),
        ({"name": "x", "price": "1.0000001"},
         [(("price",), "Decimal input should have no more than 6 decimal places")]),
        ({"name": "x", "cost": "free"}, [(("cost",), "Input should be a valid decimal")]),
        ({"name": "x", "sku": "1"}, [(("sku",), "Extra inputs are not permitted")]),
    ],
)
def test_product_rejected(data: dict[str, Any], errors: list[Any]) -> None:
    assert _errors(Product, **data) == errors


# --------------------------------------------------------------------------- references


def test_reference_data_has_no_references() -> None:
    for model in (VatRate, Currency, PaymentMethod, Unit):
        assert model.references == {}


def test_product_references() -> None:
    assert Product.references == {"vat_rate_id": "vat_rate", "unit_id": "unit"}
    assert set(Product.references) <= set(Product.model_fields)


def test_entities() -> None:
    assert [m.entity for m in (VatRate, Currency, PaymentMethod, Unit, Product)] == [
        "vat_rate", "currency", "payment_method", "unit", "product",
    ]
