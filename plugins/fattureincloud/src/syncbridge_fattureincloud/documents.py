"""Issued documents (quotes, orders, invoices) <-> canonical documents.

- Lines are ``items_list``: the item's ``name`` is the line's description (the spec's item has
  no separate description), ``net_price`` the unit price, ``vat.id`` the VAT type,
  ``measure`` the unit.
- An invoice's payment status comes from ``payments_list``: all paid -> ``paid``, some paid ->
  ``partially_paid``, else ``issued`` (an invoice in Fatture in Cloud is issued once saved);
  ``balance`` is the gross total minus what was paid, ``due_date`` the last instalment's.
- A document is ``locked`` when the API says so or when it is an e-invoice already sent to the
  tax authority (SDI): the engine then never overwrites it.
- A document whose client was typed into it but never saved in the registry (``entity``
  without ``id``) cannot be linked to a company: it is not synced, with that reason.
- Numbers: ``number`` + ``numeration`` ("12" + "/A") are the canonical ``number`` "12/A";
  writing, a number that does not start with digits is left for Fatture in Cloud to assign.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from syncbridge.mapping import text
from syncbridge.models import DocumentLine, DocumentStatus, Invoice, Order, Quote
from syncbridge.records import NativeRecord
from syncbridge_fattureincloud.mapping import (
    NotSyncable,
    money,
    native_id,
    parse_time,
    percent,
    ref,
)

#: e-invoice states after the invoice left for the SDI: it may no longer be edited
E_INVOICE_SENT = frozenset(
    {
        "sent",
        "pending",
        "processing",
        "not_delivered",
        "accepted",
        "rejected",
        "no_response",
        "manual_accepted",
        "manual_rejected",
    }
)
Document = Quote | Order | Invoice
MODELS: dict[str, type[Quote] | type[Order] | type[Invoice]] = {
    "quote": Quote,
    "order": Order,
    "invoice": Invoice,
}
_BASE_FIELDS = frozenset(
    {
        "number",
        "date",
        "currency",
        "company_id",
        "payment_method_id",
        "lines",
        "subject",
        "notes",
        "locked",
    }
)
FIELDS: dict[str, frozenset[str]] = {
    "quote": _BASE_FIELDS,
    "order": _BASE_FIELDS,
    "invoice": _BASE_FIELDS | {"status", "due_date", "total", "balance"},
}
CLEARABLE = frozenset({"subject", "notes"})
_NUMBER = re.compile(r"^\s*(\d+)\s*(.*?)\s*$")


def is_locked(native: NativeRecord) -> bool:
    """Locked by the API, or an e-invoice already sent: never to be overwritten."""
    if native.get("locked"):
        return True
    return bool(native.get("e_invoice")) and native.get("ei_status") in E_INVOICE_SENT


def _number_in(native: NativeRecord) -> str | None:
    number = native.get("number")
    if number is None:
        return None
    return f"{number}{native.get('numeration') or ''}"


def _number_out(number: str | None) -> dict[str, Any]:
    found = _NUMBER.match(number or "")
    if found is None:
        return {}
    out: dict[str, Any] = {"number": int(found.group(1))}
    if found.group(2):
        out["numeration"] = found.group(2)
    return out


def _object(value: Any) -> dict[str, Any]:
    """A nested object of the API, or an empty one when it is null or absent."""
    return value if isinstance(value, dict) else {}


def _line_in(item: NativeRecord) -> DocumentLine:
    vat = _object(item.get("vat"))
    measure = text(item.get("measure"))
    qty = money(item.get("qty"))
    return DocumentLine(
        description=text(item.get("name")) or text(item.get("code")) or "",
        quantity=qty if qty is not None else Decimal(1),
        unit_price=money(item.get("net_price")) or Decimal(0),
        discount_percent=percent(item.get("discount")) or Decimal(0),
        product_id=ref(item.get("product_id")),
        code=item.get("code"),
        vat_rate_id=ref(vat.get("id")),
        vat_percent=percent(vat.get("value")),
        unit_id=measure,
        unit=measure,
    )


def _line_out(line: DocumentLine) -> NativeRecord:
    item: NativeRecord = {
        "name": line.description,
        "qty": float(line.quantity),
        "net_price": float(line.unit_price),
        "discount": float(line.discount_percent),
    }
    if line.product_id is not None:
        item["product_id"] = native_id(line.product_id)
    if line.code:
        item["code"] = line.code
    if line.unit_id or line.unit:
        item["measure"] = line.unit_id or line.unit
    if line.vat_rate_id is not None:
        item["vat"] = {"id": native_id(line.vat_rate_id)}
        if line.vat_percent is not None:
            item["vat"]["value"] = float(line.vat_percent)
    elif line.vat_percent is not None:
        # a rate without a linked VAT type: the writer looks the type up by its value
        item["vat"] = {"value": float(line.vat_percent)}
    return item


def _payment_state(native: NativeRecord) -> dict[str, Any]:
    payments = [p for p in native.get("payments_list") or [] if isinstance(p, dict)]
    gross = money(native.get("amount_gross"))
    paid = sum(
        (money(p.get("amount")) or Decimal(0) for p in payments if p.get("status") == "paid"),
        Decimal(0),
    )
    if payments and all(p.get("status") == "paid" for p in payments):
        status = DocumentStatus.PAID
    elif paid > 0:
        status = DocumentStatus.PARTIALLY_PAID
    else:
        status = DocumentStatus.ISSUED
    dues = [str(p["due_date"]) for p in payments if p.get("due_date")]
    return {
        "status": status,
        "total": gross,
        "balance": None if gross is None else gross - paid,
        "due_date": max(dues) if dues else None,
    }


def document_in(kind: str, native: NativeRecord) -> Document:
    party = _object(native.get("entity"))
    if party.get("id") is None:
        who = text(party.get("name")) or "no client"
        raise NotSyncable(
            f"its client ({who}) is not saved in the Fatture in Cloud registry (anagrafica): "
            "there is no client record to link it to"
        )
    payment_method = native.get("payment_method")
    currency = _object(native.get("currency"))
    values: dict[str, Any] = {
        "id": ref(native.get("id")),
        "updated_at": parse_time(native.get("updated_at")),
        "number": _number_in(native),
        "date": native.get("date"),
        "currency": currency.get("id") or "EUR",
        "company_id": ref(party.get("id")),
        "payment_method_id": ref(payment_method.get("id"))
        if isinstance(payment_method, dict)
        else None,
        "lines": [_line_in(item) for item in native.get("items_list") or []],
        "subject": native.get("subject"),
        "notes": native.get("notes"),
        "locked": is_locked(native),
    }
    if kind == "invoice":
        values.update(_payment_state(native))
    return MODELS[kind].model_validate(values)


def document_out(kind: str, record: Any) -> NativeRecord:
    if not isinstance(record, MODELS[kind]):
        raise TypeError(f"map(out) of {kind} needs a canonical {kind}")
    if record.company_id is None:
        raise ValueError("a Fatture in Cloud document needs its client (company_id)")
    native: NativeRecord = {
        "type": kind,
        "entity": {"id": native_id(record.company_id)},
        "date": record.date.isoformat(),
        "currency": {"id": record.currency},
        "subject": record.subject,
        "notes": record.notes,
        "items_list": [_line_out(line) for line in record.lines],
        **_number_out(record.number),
    }
    if record.payment_method_id is not None:
        native["payment_method"] = {"id": native_id(record.payment_method_id)}
    if isinstance(record, Invoice) and record.due_date is not None:
        # one instalment for the whole amount: Fatture in Cloud fills it in (fix_payments)
        native["payments_list"] = [
            {"due_date": record.due_date.isoformat(), "amount": 0, "status": "not_paid"}
        ]
    return native
