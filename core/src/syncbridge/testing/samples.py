"""Default canonical sample data for every entity: what the contract suite writes.

The contract suite needs new records to create, and different ones to update them with. A
connector's test class can override :meth:`~syncbridge.testing.ConnectorContract.sample`; these
defaults are what it gets otherwise. They are chosen to survive any reasonable system:

- every value is already in its canonical form (an ``IT`` VAT number with a valid check digit,
  money with two decimals, ISO codes), so a connector that normalises cannot make them differ;
- two different indexes give different values in every free-text field, so an update is always
  visible whichever field a connector maps;
- reference fields (``company_id``, ``invoice_id``) hold ``"1"``: right for a database without
  foreign keys; a connector whose system checks references overrides ``sample`` for those
  entities and points them at records it knows exist. Optional references (a company's
  ``sector_id``) are left out, so every connector mapping the entity can store the sample.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from stdnum import luhn

from syncbridge.models import MODELS

__all__ = ["default_sample", "italian_vat_number"]

_FIRST_DAY = date(2024, 1, 1)
#: enough distinct ISO 4217 codes that samples rarely repeat one
_CURRENCIES = ("EUR", "USD", "GBP", "HUF", "DKK", "CHF", "SEK", "NOK", "PLN", "CZK", "JPY", "CAD")


def italian_vat_number(index: int) -> str:
    """A valid Italian VAT number (``IT`` + 11 digits), different for each ``index`` >= 0.

    Seven digits of company number (never all zero), office code ``001``, Luhn check digit:
    the layout python-stdnum (and so the canonical model) accepts.
    """
    body = f"{index % 9_999_999 + 1:07d}001"
    return f"IT{body}{luhn.calc_check_digit(body)}"


def _day(index: int) -> date:
    return _FIRST_DAY + timedelta(days=index % 3650)


def _money(index: int, base: str = "10.50") -> Decimal:
    return Decimal(base) + Decimal(index % 100_000)


def _vat_rate(index: int) -> dict[str, Any]:
    return {
        "rate": Decimal(index % 30 + 1),
        "name": f"VAT {index}",
        "description": f"Contract VAT rate {index}",
    }


def _currency(index: int) -> dict[str, Any]:
    return {
        "code": _CURRENCIES[index % len(_CURRENCIES)],
        "symbol": f"S{index}",
        "exchange_rate": Decimal("1.25") + Decimal(index % 1000) / 100,
    }


def _payment_method(index: int) -> dict[str, Any]:
    return {"name": f"Payment method {index}", "type": "bank_transfer"}


def _unit(index: int) -> dict[str, Any]:
    return {"name": f"unit-{index}", "description": f"Contract unit {index}"}


def _sector(index: int) -> dict[str, Any]:
    return {"code": f"S{index:06d}", "name": f"Contract sector {index}"}


def _product(index: int) -> dict[str, Any]:
    return {
        "name": f"Contract product {index}",
        "code": f"CP-{index:06d}",
        "description": f"Product {index} made by the contract suite",
        "price": _money(index),
        "currency": "EUR",
        "unit": "pcs",
    }


def _company(index: int) -> dict[str, Any]:
    return {
        "name": f"Contract Company {index}",
        "country": "IT",
        "address": f"Via Roma {index + 1}",
        "postal_code": f"{20100 + index % 900:05d}",
        "city": "Milano",
        "email": f"company{index}@contract.example.com",
        "phone": f"+39 02 {index % 10_000_000:07d}",
        "vat_number": italian_vat_number(index),
        "currency": "EUR",
    }


def _contact(index: int) -> dict[str, Any]:
    return {
        "first_name": f"Ada{index}",
        "last_name": f"Lovelace{index}",
        "country": "GB",
        "email": f"contact{index}@contract.example.com",
        "phone": f"+44 20 {index % 100_000_000:08d}",
        "job_title": f"Engineer {index}",
    }


def _sales_data(index: int) -> dict[str, Any]:
    current = _money(index, "1500.00")
    return {
        "company_id": "1",
        "year": 2000 + index % 100,
        "sales_current": current,
        "sales_previous": _money(index, "900.25"),
        # whatever the integration's thresholds, these are values a system must keep
        "pyramid_current": ("A", "B", "C")[index % 3],
        "pyramid_previous": ("C", "A", "B")[index % 3],
        "statistics_date": _day(index),
    }


def _document(index: int) -> dict[str, Any]:
    return {
        "number": f"CT-{index:06d}",
        "date": _day(index),
        "currency": "EUR",
        "company_id": "1",
        "subject": f"Contract document {index}",
        "lines": [
            {
                "description": f"Consulting {index}",
                "quantity": Decimal(2),
                "unit_price": _money(index, "50.00"),
            }
        ],
    }


def _payment(index: int) -> dict[str, Any]:
    return {
        "amount": _money(index),
        "date": _day(index),
        "currency": "EUR",
        "invoice_id": "1",
        "reference": f"PAY-{index:06d}",
    }


_SAMPLES: dict[str, Callable[[int], dict[str, Any]]] = {
    "vat_rate": _vat_rate,
    "currency": _currency,
    "payment_method": _payment_method,
    "unit": _unit,
    "sector": _sector,
    "product": _product,
    "company": _company,
    "contact": _contact,
    "sales_data": _sales_data,
    "quote": _document,
    "order": _document,
    "invoice": _document,
    "payment": _payment,
}


def default_sample(entity: str, index: int) -> dict[str, Any]:
    """Canonical field values for the ``index``-th new ``entity`` record (a fresh dict).

    Raises KeyError for an entity that is not canonical.
    """
    if entity not in MODELS:
        raise KeyError(f"no canonical entity {entity!r}; entities are: {', '.join(MODELS)}")
    sample = _SAMPLES.get(entity)
    if sample is None:  # a canonical entity added after this module: say so plainly
        raise KeyError(f"no default sample for {entity!r}: override sample() in the test class")
    return sample(index)
