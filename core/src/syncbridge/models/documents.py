"""Commercial documents: quotes, orders and invoices, with their lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from syncbridge.models.base import CanonicalRecord
from syncbridge.models.types import CurrencyCode, Money, Percent, Text

_LINE_REFERENCES = {
    "lines.product_id": "product",
    "lines.vat_rate_id": "vat_rate",
    "lines.unit_id": "unit",
}


class DocumentLine(BaseModel):
    """One line of a document."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: str
    quantity: Money = Decimal(1)
    unit_price: Money = Decimal(0)
    discount_percent: Percent = Decimal(0)
    product_id: str | None = None
    code: Text = None
    vat_rate_id: str | None = None
    vat_percent: Percent | None = None
    unit_id: str | None = None
    unit: Text = None

    @property
    def net_amount(self) -> Decimal:
        gross = self.quantity * self.unit_price
        return gross - gross * self.discount_percent / 100

    @property
    def tax_amount(self) -> Decimal:
        """The line's VAT at its ``vat_percent``, unrounded: 0 when it carries no percentage.

        A line that names only its VAT rate (``vat_rate_id``) says nothing about the amount
        here: a connector that knows the rate's percentage fills ``vat_percent`` too, so
        that document totals can be compared across systems (see
        :mod:`syncbridge.engine.invariants`).
        """
        if self.vat_percent is None:
            return Decimal(0)
        return self.net_amount * self.vat_percent / 100

    @property
    def gross_amount(self) -> Decimal:
        """Net amount plus VAT, unrounded."""
        return self.net_amount + self.tax_amount


class DocumentStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"


class _Document(CanonicalRecord):
    references: ClassVar[dict[str, str]] = {
        "company_id": "company",
        "contact_id": "contact",
        "payment_method_id": "payment_method",
        **_LINE_REFERENCES,
    }

    number: Text = None
    date: date
    currency: CurrencyCode = "EUR"
    company_id: str | None = None
    contact_id: str | None = None
    payment_method_id: str | None = None
    status: DocumentStatus = DocumentStatus.DRAFT
    lines: list[DocumentLine] = Field(default_factory=list)
    subject: Text = None
    notes: Text = None
    #: the document may no longer be edited on its side (issued, e-invoiced, sent to the tax
    #: authority): the engine never overwrites it and reports a change as a conflict
    locked: bool = False

    @model_validator(mode="after")
    def _has_party(self) -> _Document:
        if self.company_id is None and self.contact_id is None:
            raise ValueError("a document needs a company_id or a contact_id (its customer)")
        return self

    @property
    def net_total(self) -> Decimal:
        return sum((line.net_amount for line in self.lines), Decimal(0))

    @property
    def tax_total(self) -> Decimal:
        """The VAT of every line at its percentage, unrounded (each system rounds its own way)."""
        return sum((line.tax_amount for line in self.lines), Decimal(0))

    @property
    def gross_total(self) -> Decimal:
        """What the document comes to: net plus VAT, unrounded."""
        return self.net_total + self.tax_total


class Quote(_Document):
    entity: ClassVar[str] = "quote"

    valid_until: date | None = None


class Order(_Document):
    entity: ClassVar[str] = "order"
    references: ClassVar[dict[str, str]] = {**_Document.references, "quote_id": "quote"}

    quote_id: str | None = None


class Invoice(_Document):
    entity: ClassVar[str] = "invoice"
    references: ClassVar[dict[str, str]] = {**_Document.references, "order_id": "order"}

    due_date: date | None = None
    order_id: str | None = None
    total: Money | None = None
    balance: Money | None = None
    #: a credit note rather than an invoice
    credit_note: bool = False
