"""Which Bitrix24 methods serve each canonical entity, and how they page, filter and write.

One table instead of per-entity code: the old-style methods (``crm.contact.*`` and friends) and
the universal ``crm.item.*`` differ in casing, in how results are wrapped and in the extra
``entityTypeId``, and those differences are the columns here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from syncbridge.describe import Capability
from syncbridge.errors import ConnectorError
from syncbridge_bitrix24.batch import MAX_COMMANDS

#: smart invoices in the universal item methods (``api-reference/crm/universal/invoice.md``)
INVOICE_TYPE = 31
#: product rows of smart invoices (``ownerType`` of ``crm.item.productrow.*``)
INVOICE_OWNER = "SI"

READ = frozenset({Capability.READ})
WRITE = frozenset({Capability.CREATE, Capability.UPDATE, Capability.BATCH})


@dataclass(frozen=True)
class Spec:
    """How one entity is read and written."""

    entity: str
    #: method prefix: ``crm.contact`` -> ``crm.contact.list``, ``.add``, ``.update``, ...
    prefix: str
    id_field: str
    capabilities: frozenset[Capability]
    #: universal item methods (camelCase, ``entityTypeId``, results wrapped) or old-style
    style: Literal["old", "item"] = "old"
    #: the modification time filtered on for incremental reads (None: always read in full)
    modified: str | None = None
    #: page by ``>ID`` with ``start=-1`` (big lists) rather than by ``start``/``next``
    keyset: bool = False
    select: tuple[str, ...] = ("*",)
    #: where the idempotency key of a create is written and looked up (None: nowhere)
    key_field: str | None = None
    #: extra parameters of every call (``entityTypeId``)
    extra: dict[str, Any] = field(default_factory=dict)
    #: batch commands one record takes (an invoice: the item, then its product rows)
    commands: int = 1
    notes: str = ""

    def method(self, action: str) -> str:
        return f"{self.prefix}.{action}"

    @property
    def batch_size(self) -> int:
        return MAX_COMMANDS // self.commands


SPECS: dict[str, Spec] = {
    "contact": Spec(
        entity="contact",
        prefix="crm.contact",
        id_field="ID",
        capabilities=READ | WRITE | {Capability.INCREMENTAL, Capability.DELETE, Capability.LOOKUP},
        modified="DATE_MODIFY",
        keyset=True,
        select=("*", "PHONE", "EMAIL"),
        key_field="ORIGIN_ID",
        notes="crm.contact.*; the idempotency key goes to ORIGIN_ID (ORIGINATOR_ID = "
        "settings.originator_id)",
    ),
    "company": Spec(
        entity="company",
        prefix="crm.company",
        id_field="ID",
        capabilities=READ | WRITE | {Capability.INCREMENTAL, Capability.DELETE, Capability.LOOKUP},
        modified="DATE_MODIFY",
        keyset=True,
        select=("*", "PHONE", "EMAIL", "WEB"),
        key_field="ORIGIN_ID",
        notes="crm.company.*; VAT ids live in requisites (crm.requisite.*), not mapped",
    ),
    "product": Spec(
        entity="product",
        prefix="crm.product",
        id_field="ID",
        capabilities=READ | WRITE | {Capability.INCREMENTAL, Capability.DELETE},
        modified="TIMESTAMP_X",
        keyset=True,
        notes="crm.product.* (deprecated but working); code = XML_ID, prices net (VAT_INCLUDED=N)",
    ),
    "invoice": Spec(
        entity="invoice",
        prefix="crm.item",
        id_field="id",
        capabilities=READ | WRITE | {Capability.INCREMENTAL, Capability.DELETE, Capability.LOOKUP},
        style="item",
        modified="updatedTime",
        keyset=True,
        key_field="xmlId",
        extra={"entityTypeId": INVOICE_TYPE},
        commands=2,
        notes="smart invoices (crm.item.*, entityTypeId 31) with crm.item.productrow.*; status "
        "through settings.stage_map; the idempotency key goes to xmlId",
    ),
    "vat_rate": Spec(
        entity="vat_rate",
        prefix="crm.vat",
        id_field="ID",
        capabilities=READ | WRITE,
        notes="crm.vat.*; RATE null ('No VAT') reads as 0",
    ),
    "currency": Spec(
        entity="currency",
        prefix="crm.currency",
        id_field="CURRENCY",
        capabilities=READ | WRITE,
        notes="crm.currency.*; the id is the ISO code; rate = AMOUNT / AMOUNT_CNT",
    ),
    "unit": Spec(
        entity="unit",
        prefix="crm.measure",
        id_field="ID",
        capabilities=READ,
        notes="crm.measure.list (read only); name = SYMBOL_INTL",
    ),
}

#: canonical entities Bitrix24 has no counterpart for here, with the reason shown at config time
UNSUPPORTED = {
    "quote": "Bitrix24 quotes (crm.quote.*, entityTypeId 7) are not mapped by this connector",
    "order": "the Bitrix24 CRM has no order entity (deals are not orders)",
    "payment": "smart-invoice payments (crm.item.payment.*) are not mapped by this connector",
    "payment_method": "payment systems (sale.paysystem.*) are not mapped by this connector",
}


def spec_for(entity: str) -> Spec:
    try:
        return SPECS[entity]
    except KeyError:
        reason = UNSUPPORTED.get(entity, f"no entity {entity!r}")
        raise ConnectorError(f"bitrix24: {reason}") from None
