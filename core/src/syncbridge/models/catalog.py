"""Products and services."""

from __future__ import annotations

from typing import ClassVar

from syncbridge.models.base import CanonicalRecord
from syncbridge.models.types import CurrencyCode, Money, Text


class Product(CanonicalRecord):
    """A catalog item. ``code`` is the article code most systems match on."""

    entity: ClassVar[str] = "product"
    references: ClassVar[dict[str, str]] = {"vat_rate_id": "vat_rate", "unit_id": "unit"}

    name: str
    code: Text = None
    description: Text = None
    category: Text = None
    price: Money | None = None
    cost: Money | None = None
    currency: CurrencyCode | None = None
    vat_rate_id: str | None = None
    unit_id: str | None = None
    unit: Text = None
