"""Native <-> canonical for every entity, and what each write may touch.

Parties are in :mod:`~syncbridge_quickbooks.parties`, documents in
:mod:`~syncbridge_quickbooks.documents`; products and reference data are here. Each entity
also has a :class:`WriteSpec`: which QuickBooks properties a canonical field becomes (so a
sparse update sends exactly the changed ones), which of them a full update owns (so it
clears what the other side cleared and keeps what syncbridge does not map), and which can
only be set when the object is created.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from syncbridge.mapping import text
from syncbridge.models import CanonicalRecord, Currency, PaymentMethod, Product, VatRate
from syncbridge.records import NativeRecord
from syncbridge_quickbooks import documents, parties
from syncbridge_quickbooks.native import compact, decimal, make_ref, ref, updated_at
from syncbridge_quickbooks.taxes import PSEUDO_TAX_CODES

#: PaymentMethod.Type values; anything else a canonical ``type`` holds is not written
_PAYMENT_TYPES = frozenset({"CREDIT_CARD", "NON_CREDIT_CARD"})


def product_in(record: Mapping[str, Any], context: Mapping[str, Any]) -> Product:
    code = ref(record.get("SalesTaxCodeRef"))
    return Product(
        id=text(record.get("Id")),
        updated_at=updated_at(record),
        name=text(record.get("Name")) or "",
        code=text(record.get("Sku")),
        description=text(record.get("Description")),
        price=decimal(record.get("UnitPrice")),
        cost=decimal(record.get("PurchaseCost")),
        vat_rate_id=None if code in PSEUDO_TAX_CODES else code,
    )


def product_out(product: Product, context: dict[str, Any]) -> dict[str, Any]:
    return compact(
        {
            "Name": product.name,
            "Sku": product.code,
            "Description": product.description,
            "UnitPrice": product.price,
            "PurchaseCost": product.cost,
            "SalesTaxCodeRef": make_ref(product.vat_rate_id),
        }
    )


def vat_rate_in(record: Mapping[str, Any], context: Mapping[str, Any]) -> VatRate:
    """A TaxCode with the sum of its sales rates, which ``fetch`` gave as ``rate``."""
    rate = context.get("rate")
    if rate is None:
        raise ValueError("the tax code's rate is unknown (read it through fetch)")
    return VatRate(
        id=text(record.get("Id")),
        updated_at=updated_at(record),
        rate=Decimal(str(rate)),
        name=text(record.get("Name")),
        description=text(record.get("Description")),
    )


def vat_rate_out(rate: VatRate, context: dict[str, Any]) -> dict[str, Any]:
    return compact({"Name": rate.name, "Description": rate.description})


def currency_in(record: Mapping[str, Any], context: Mapping[str, Any]) -> Currency:
    return Currency(
        id=text(record.get("Id")), updated_at=updated_at(record), code=record.get("Code")
    )


def currency_out(currency: Currency, context: dict[str, Any]) -> dict[str, Any]:
    return {"Code": currency.code}


def payment_method_in(record: Mapping[str, Any], context: Mapping[str, Any]) -> PaymentMethod:
    return PaymentMethod(
        id=text(record.get("Id")),
        updated_at=updated_at(record),
        name=text(record.get("Name")) or "",
        type=text(record.get("Type")),
    )


def payment_method_out(method: PaymentMethod, context: dict[str, Any]) -> dict[str, Any]:
    kind = (method.type or "").upper()
    return compact({"Name": method.name, "Type": kind if kind in _PAYMENT_TYPES else None})


@dataclass(frozen=True)
class WriteSpec:
    """What writing one entity touches in QuickBooks."""

    #: canonical field -> properties a sparse update of it sends (() = nothing: computed)
    fields: Mapping[str, tuple[str, ...]]
    #: properties that can be set only when the object is created
    create_only: frozenset[str] = frozenset()
    #: properties a full update keeps from the stored object even when the mapped record
    #: lacks them (a contact's place in the customer tree is QuickBooks' to keep)
    keep: frozenset[str] = frozenset()

    @property
    def owned(self) -> frozenset[str]:
        """Every property the mapping writes: a full update replaces (or clears) these."""
        return frozenset(p for props in self.fields.values() for p in props) - self.keep


#: (native record, its context) -> canonical; (canonical, the context to fill) -> native
_In = Callable[[Mapping[str, Any], Mapping[str, Any]], CanonicalRecord]
_Out = Callable[[Any, dict[str, Any]], dict[str, Any]]

MAPPERS: dict[str, tuple[_In, _Out]] = {
    "company": (parties.company_in, parties.company_out),
    "contact": (parties.contact_in, parties.contact_out),
    "product": (product_in, product_out),
    "invoice": (documents.invoice_in, documents.invoice_out),
    "quote": (documents.quote_in, documents.quote_out),
    "payment": (documents.payment_in, documents.payment_out),
    "payment_method": (payment_method_in, payment_method_out),
    "vat_rate": (vat_rate_in, vat_rate_out),
    "currency": (currency_in, currency_out),
}

SPECS: dict[str, WriteSpec] = {
    "company": WriteSpec(parties.COMPANY_FIELDS, create_only=frozenset({"CurrencyRef"})),
    "contact": WriteSpec(parties.CONTACT_FIELDS, keep=frozenset({"ParentRef", "Job"})),
    "product": WriteSpec(
        {
            "name": ("Name",),
            "code": ("Sku",),
            "description": ("Description",),
            "price": ("UnitPrice",),
            "cost": ("PurchaseCost",),
            "vat_rate_id": ("SalesTaxCodeRef",),
        }
    ),
    "invoice": WriteSpec(documents.INVOICE_FIELDS, keep=frozenset({"EmailStatus"})),
    "quote": WriteSpec(documents.QUOTE_FIELDS, keep=frozenset({"EmailStatus"})),
    # a payment from a person has no company_id: its payer stays what QuickBooks holds
    "payment": WriteSpec(documents.PAYMENT_FIELDS, keep=frozenset({"CustomerRef"})),
    "payment_method": WriteSpec({"name": ("Name",), "type": ("Type",)}),
    "currency": WriteSpec({"code": ("Code",)}, create_only=frozenset({"Code"})),
}

#: the canonical fields each entity maps (``EntityInfo.fields``)
FIELDS: dict[str, frozenset[str]] = {
    **{
        entity: frozenset(spec.fields)
        | (documents.LINE_FIELDS if "lines" in spec.fields else frozenset())
        for entity, spec in SPECS.items()
    },
    "vat_rate": frozenset({"rate", "name", "description"}),
}


def map_in(entity: str, record: NativeRecord, context: Mapping[str, Any]) -> CanonicalRecord:
    """``record`` read with its context (see :mod:`~syncbridge_quickbooks.native`)."""
    return MAPPERS[entity][0](record, context)


def map_out(entity: str, record: CanonicalRecord, context: dict[str, Any]) -> NativeRecord:
    """``record`` as QuickBooks holds it; what ``upsert`` needs besides goes in ``context``."""
    return MAPPERS[entity][1](record, context)
