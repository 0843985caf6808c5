"""The shared field types: countries, currencies, money, percentages, datetimes, text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ValidationError

from syncbridge.models import Company, Currency, DocumentLine, Product, VatRate
from syncbridge.models.types import AwareDatetime, CountryCode, CurrencyCode, Money, Percent, Text


class _Probe(BaseModel):
    """One field of each shared type, to test the types apart from any model."""

    country: CountryCode | None = None
    currency: CurrencyCode | None = None
    money: Money | None = None
    percent: Percent | None = None
    at: AwareDatetime | None = None
    text: Text = None


def _errors(model: type[BaseModel], **data: Any) -> list[tuple[tuple[int | str, ...], str, str]]:
    with pytest.raises(ValidationError) as caught:
        model(**data)
    return [(error["loc"], error["msg"], error["type"]) for error in caught.value.errors()]


# --------------------------------------------------------------------------- countries


@pytest.mark.parametrize(
    ("value", "expected"),
    [("IT", "IT"), ("it", "IT"), (" hu ", "HU"), ("Dk", "DK"), ("UK", "GB"), ("uk", "GB"),
     ("GB", "GB"), ("US", "US"), ("GR", "GR")],
)
def test_country_codes_normalised(value: str, expected: str) -> None:
    assert _Probe(country=value).country == expected
    assert Company(name="ACME", country=value).country == expected
    assert Company(name="ACME", mailing_country=value).mailing_country == expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [("XX", "'XX'"), ("ITA", "'ITA'"), ("Italy", "'Italy'"), ("I", "'I'"), ("EU", "'EU'"),
     ("", "''"), ("1T", "'1T'")],
)
def test_country_codes_rejected(value: str, shown: str) -> None:
    message = f"Value error, {shown} is not an ISO 3166-1 alpha-2 country code (e.g. IT, HU, DK)"
    assert _errors(Company, name="ACME", country=value) == [(("country",), message, "value_error")]
    assert _errors(Company, name="ACME", mailing_country=value) == [
        (("mailing_country",), message, "value_error"),
    ]


def test_country_message_quotes_the_stripped_value() -> None:
    # the model strips whitespace before the country check runs
    assert _errors(Company, name="ACME", country=" XX ") == [
        (("country",),
         "Value error, 'XX' is not an ISO 3166-1 alpha-2 country code (e.g. IT, HU, DK)",
         "value_error"),
    ]


def test_country_must_be_a_string() -> None:
    assert _errors(_Probe, country=39) == [
        (("country",), "Input should be a valid string", "string_type"),
    ]


# --------------------------------------------------------------------------- currencies


@pytest.mark.parametrize(
    ("value", "expected"),
    [("EUR", "EUR"), ("eur", "EUR"), (" huf ", "HUF"), ("Dkk", "DKK"), ("gbp", "GBP"),
     ("USD", "USD")],
)
def test_currency_codes_normalised(value: str, expected: str) -> None:
    assert _Probe(currency=value).currency == expected
    assert Currency(code=value).code == expected
    assert Company(name="ACME", currency=value).currency == expected


@pytest.mark.parametrize("value", ["EURO", "EU", "€", "XYZ", "", "usd$"])
def test_currency_codes_rejected(value: str) -> None:
    assert _errors(Currency, code=value) == [
        (("code",),
         f"Value error, {value!r} is not an ISO 4217 currency code (e.g. EUR, HUF, DKK)",
         "value_error"),
    ]


def test_currency_code_is_required() -> None:
    assert _errors(Currency) == [(("code",), "Field required", "missing")]


# --------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, Decimal("0.1")),  # via repr: not Decimal(0.1) = 0.1000000000000000055511...
        (12.5, Decimal("12.5")),
        (1.1, Decimal("1.1")),
        (1e-6, Decimal("0.000001")),
        (-2.75, Decimal("-2.75")),
    ],
)
def test_money_from_float_goes_through_repr(value: float, expected: Decimal) -> None:
    money = _Probe(money=value).money
    assert isinstance(money, Decimal)
    assert money == expected
    assert money == Decimal(repr(value))


def test_money_from_float_never_carries_binary_noise() -> None:
    assert Product(name="x", price=0.1).price == Decimal("0.1")
    assert Product(name="x", price=0.1).price != Decimal.from_float(0.1)


def test_money_from_a_float_that_already_lost_precision_is_rejected_not_rounded() -> None:
    # 0.1 + 0.2 is 0.30000000000000004: its repr has more places than money may have
    assert _errors(Product, name="x", price=0.1 + 0.2) == [
        (("price",), "Decimal input should have no more than 6 decimal places",
         "decimal_max_places"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12.50", Decimal("12.50")), (Decimal("3.14"), Decimal("3.14")), (7, Decimal(7)),
     ("-5", Decimal(-5)), ("0.000001", Decimal("0.000001")),
     ("999999999999.999999", Decimal("999999999999.999999"))],
)
def test_money_accepts_decimal_int_and_str(value: Any, expected: Decimal) -> None:
    assert _Probe(money=value).money == expected


@pytest.mark.parametrize(
    ("value", "message", "kind"),
    [
        ("1.1234567", "Decimal input should have no more than 6 decimal places",
         "decimal_max_places"),
        (1e-7, "Decimal input should have no more than 6 decimal places", "decimal_max_places"),
        ("1234567890123.123456", "Decimal input should have no more than 18 digits in total",
         "decimal_max_digits"),
        (1e20, "Decimal input should have no more than 18 digits in total", "decimal_max_digits"),
        ("abc", "Input should be a valid decimal", "decimal_parsing"),
        ("NaN", "Input should be a finite number", "finite_number"),
        (float("nan"), "Input should be a finite number", "finite_number"),
        (float("inf"), "Input should be a finite number", "finite_number"),
        ("Infinity", "Input should be a finite number", "finite_number"),
        (True, "Decimal input should be an integer, float, string or Decimal object",
         "decimal_type"),
    ],
)
def test_money_rejected(value: Any, message: str, kind: str) -> None:
    assert _errors(Product, name="x", price=value) == [(("price",), message, kind)]


@pytest.mark.parametrize(
    ("value", "serialised"),
    [("12.50", "12.5"), ("12.5", "12.5"), ("100.000", "100"), (Decimal("1E+2"), "100"),
     ("0.00", "0"), ("0.000001", "0.000001"), (12, "12"), (0.1, "0.1"), ("-3.10", "-3.1"),
     ("1234567890.5", "1234567890.5")],
)
def test_money_json_is_a_plain_string_without_trailing_zeros(value: Any, serialised: str) -> None:
    probe = _Probe(money=value)
    assert probe.model_dump(mode="json")["money"] == serialised
    assert orjson.loads(probe.model_dump_json())["money"] == serialised
    # python mode keeps the Decimal untouched
    assert isinstance(probe.model_dump()["money"], Decimal)


def test_money_json_round_trips() -> None:
    product = Product(name="x", price="12.50", cost=0.1)
    again = Product.model_validate_json(product.model_dump_json())
    assert again.price == Decimal("12.5")
    assert again.cost == Decimal("0.1")
    assert again == Product(name="x", price="12.5", cost="0.1")


# --------------------------------------------------------------------------- percentages


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, Decimal(0)), (100, Decimal(100)), ("22", Decimal(22)), (5.5, Decimal("5.5")),
     ("27.0000", Decimal(27)), ("99.9999", Decimal("99.9999")), (0.1, Decimal("0.1"))],
)
def test_percent_in_range(value: Any, expected: Decimal) -> None:
    assert VatRate(rate=value).rate == expected
    assert DocumentLine(description="x", discount_percent=value).discount_percent == expected


@pytest.mark.parametrize(
    ("value", "message", "kind"),
    [
        (-1, "Input should be greater than or equal to 0", "greater_than_equal"),
        ("-0.0001", "Input should be greater than or equal to 0", "greater_than_equal"),
        (100.01, "Input should be less than or equal to 100", "less_than_equal"),
        ("101", "Input should be less than or equal to 100", "less_than_equal"),
        ("22.12345", "Decimal input should have no more than 4 decimal places",
         "decimal_max_places"),
        ("ventidue", "Input should be a valid decimal", "decimal_parsing"),
    ],
)
def test_percent_out_of_range(value: Any, message: str, kind: str) -> None:
    assert _errors(VatRate, rate=value) == [(("rate",), message, kind)]


def test_percent_json_is_a_plain_string() -> None:
    assert VatRate(rate="22.00").model_dump(mode="json")["rate"] == "22"
    assert VatRate(rate=5.5).model_dump(mode="json")["rate"] == "5.5"


# --------------------------------------------------------------------------- datetimes


def test_naive_datetime_is_taken_as_utc() -> None:
    probe = _Probe(at=datetime(2024, 3, 1, 10, 30))
    assert probe.at == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
    assert probe.at is not None and probe.at.utcoffset() == timedelta(0)


def test_naive_iso_string_is_taken_as_utc() -> None:
    company = Company(name="ACME", updated_at="2024-03-01T10:30:00")
    assert company.updated_at == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
    assert company.updated_at is not None and company.updated_at.tzinfo is not None


def test_aware_datetime_keeps_its_offset() -> None:
    rome = timezone(timedelta(hours=2))
    company = Company(name="ACME", updated_at=datetime(2024, 3, 1, 12, 30, tzinfo=rome))
    assert company.updated_at is not None
    assert company.updated_at.utcoffset() == timedelta(hours=2)
    assert company.updated_at == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)


def test_aware_iso_string_keeps_its_offset() -> None:
    company = Company(name="ACME", updated_at="2024-03-01T12:30:00+02:00")
    assert company.updated_at == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
    assert company.updated_at is not None
    assert company.updated_at.utcoffset() == timedelta(hours=2)


def test_naive_and_aware_datetimes_compare() -> None:
    a = Company(name="ACME", updated_at=datetime(2024, 3, 1, 10, 30))
    b = Company(name="ACME", updated_at="2024-03-01T11:00:00+00:00")
    assert a.updated_at is not None and b.updated_at is not None
    assert a.updated_at < b.updated_at


def test_assigned_naive_datetime_is_taken_as_utc() -> None:
    company = Company(name="ACME")
    company.updated_at = datetime(2024, 3, 1, 10, 30)  # type: ignore[assignment]
    assert company.updated_at == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)


def test_datetime_rejected() -> None:
    assert _errors(Company, name="ACME", updated_at="yesterday") == [
        (("updated_at",), "Input should be a valid datetime or date, input is too short",
         "datetime_from_date_parsing"),
    ]


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("  Milano ", "Milano"), ("", None), ("   ", None), ("\t\n", None), (None, None),
     ("Via Roma 1", "Via Roma 1")],
)
def test_text_is_stripped_and_blank_becomes_none(value: str | None, expected: str | None) -> None:
    assert _Probe(text=value).text == expected
    assert Company(name="ACME", city=value).city == expected
