"""Reference data: linked between systems by value, rarely created."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from syncbridge.models.base import CanonicalRecord
from syncbridge.models.types import CurrencyCode, Money, Percent, Text


class VatRate(CanonicalRecord):
    """A VAT rate (Italian "aliquota", Danish "momssats"): 22% here is 22% there."""

    entity: ClassVar[str] = "vat_rate"

    rate: Percent
    name: Text = None
    description: Text = None
    #: a nature/exemption code where the rate is 0 (Italian "natura", e.g. N2.2)
    exemption_code: Text = None


class Currency(CanonicalRecord):
    """A currency the account uses, with its rate against the account's base currency."""

    entity: ClassVar[str] = "currency"

    code: CurrencyCode
    symbol: Text = None
    exchange_rate: Money | None = Field(default=None, gt=0)


class PaymentMethod(CanonicalRecord):
    """How a document is paid: bank transfer, card, cash, ..."""

    entity: ClassVar[str] = "payment_method"

    name: str
    type: Text = None
    iban: Text = None


class Unit(CanonicalRecord):
    """A unit of measure (pcs, kg, h)."""

    entity: ClassVar[str] = "unit"

    name: str
    description: Text = None
