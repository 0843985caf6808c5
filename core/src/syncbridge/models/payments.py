"""Payments received against invoices."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from syncbridge.models.base import CanonicalRecord
from syncbridge.models.types import CurrencyCode, Money, Text


class Payment(CanonicalRecord):
    entity: ClassVar[str] = "payment"
    references: ClassVar[dict[str, str]] = {
        "invoice_id": "invoice",
        "company_id": "company",
        "payment_method_id": "payment_method",
    }

    amount: Money = Field(gt=0)
    date: date
    currency: CurrencyCode = "EUR"
    invoice_id: str | None = None
    company_id: str | None = None
    payment_method_id: str | None = None
    reference: Text = None
