"""``/Api/Invoice`` documents <-> canonical invoices and quotes.

An invoice is issued elsewhere (Számlázz.hu) and loaded into MiniCRM onto its customer's
card: ``CustomerId`` is a contact, a Business (canonical ``company_id``) or a Person
(``contact_id``); which one travels as the context ``customer_type``. ``Type`` is
``Invoice`` (a canonical ``invoice``) or ``Proforma`` (a *díjbekérő*: a request for payment
that is not a tax invoice, a canonical ``quote`` whose ``valid_until`` is its payment
deadline, as Számlázz.hu's connector reads proformas); the type is also kept as the context
``document_type``. Issued documents cannot be changed through the API (only paid or
cancelled), so every document read is ``locked``.

Amounts come back as text, header amounts as ``"2000.00"`` and item amounts localized
(``"1 000,00"``): :func:`amount` reads both.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from syncbridge import NativeRecord, RecordError
from syncbridge.mapping import text
from syncbridge.models import DocumentLine, DocumentStatus, Invoice, Quote
from syncbridge_minicrm.parties import updated_at

CUSTOMER_TYPE, DOCUMENT_TYPE = "customer_type", "document_type"
DOCUMENT_TYPES = ("Invoice", "Proforma")
#: canonical entity -> the ``Type`` of its documents in ``/Api/Invoice``
TYPE_OF = {"invoice": "Invoice", "quote": "Proforma"}
NO_DATE = "0000-00-00"
_SPACES = re.compile(r"[\s\u00a0\u202f]")

INVOICE_FIELDS = frozenset(
    {
        "number",
        "date",
        "due_date",
        "currency",
        "company_id",
        "contact_id",
        "status",
        "lines",
        "subject",
        "total",
        "locked",
    }
    | {
        f"lines.{name}"
        for name in ("description", "quantity", "unit_price", "vat_percent", "unit", "code")
    }
)


QUOTE_FIELDS = (INVOICE_FIELDS - {"due_date", "total"}) | {"valid_until"}


def amount(raw: Any, field: str) -> Decimal:
    """A MiniCRM amount (``"1 000,00"``, ``"2000.00"``, ``"1599.0000"``, a number)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Decimal(str(raw))
    cleaned = _SPACES.sub("", str(raw or ""))
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise RecordError(f"{field}: {raw!r} is not an amount") from None
    if not value.is_finite():
        raise RecordError(f"{field}: {raw!r} is not an amount")
    return value


def _day(raw: Any) -> date | None:
    value = text(raw)
    if value is None or value == NO_DATE:
        return None
    return date.fromisoformat(value[:10])


def _status(native: NativeRecord) -> DocumentStatus:
    if native.get("StatusGroup") == "Failed" or native.get("StornedId"):
        return DocumentStatus.CANCELLED
    if _day(native.get("Paid")) is not None:
        return DocumentStatus.PAID
    return DocumentStatus.SENT if native.get("Type") == "Proforma" else DocumentStatus.ISSUED


def _line(item: dict[str, Any], number: int) -> DocumentLine:
    where = f"Items[{number}]"
    vat = text(item.get("VAT"))
    return DocumentLine(
        description=text(item.get("Name")) or text(item.get("Description")) or "",
        quantity=amount(item.get("Quantity", 1), f"{where}.Quantity"),
        unit_price=amount(item.get("PriceNet"), f"{where}.PriceNet"),
        vat_percent=amount(vat.rstrip("%"), f"{where}.VAT") if vat else None,
        unit=text(item.get("Unit")),
        code=text(item.get("SKU")),
    )


def _common_in(native: NativeRecord, context: dict[str, Any]) -> dict[str, Any]:
    if "error" in context:
        raise RecordError(str(context["error"]))
    customer = str(native.get("CustomerId"))
    person = context.get(CUSTOMER_TYPE) == "Person"
    issued = _day(native.get("Issued"))
    if issued is None:
        raise RecordError("Issued: the document has no issue date")
    items = native.get("Items") or []
    return {
        "id": str(native["Id"]),
        "updated_at": updated_at(native.get("UpdatedAt")),
        "number": text(native.get("Number")),
        "date": issued,
        "currency": text(native.get("CurrencyCode")) or "HUF",
        "company_id": None if person else customer,
        "contact_id": customer if person else None,
        "status": _status(native),
        "subject": text(native.get("Subject")),
        "lines": [_line(item, number) for number, item in enumerate(items)],
        "locked": True,
    }


def invoice_in(native: NativeRecord, context: dict[str, Any]) -> Invoice:
    return Invoice(
        **_common_in(native, context),
        due_date=_day(native.get("Prompt")),
        total=amount(native["Amount"], "Amount")
        if native.get("Amount") not in (None, "")
        else None,
    )


def quote_in(native: NativeRecord, context: dict[str, Any]) -> Quote:
    """A proforma (díjbekérő); its payment deadline (``Prompt``) is ``valid_until``."""
    return Quote(**_common_in(native, context), valid_until=_day(native.get("Prompt")))


def _quantity(value: Decimal) -> str:
    return f"{value.normalize():f}"


def invoice_out(record: Invoice | Quote, context: dict[str, Any]) -> NativeRecord:
    """An invoice, or a quote as a proforma: the document to put on the customer's card."""
    customer = record.company_id or record.contact_id
    if customer is None or not customer.isdigit():
        raise RecordError(
            f"company_id/contact_id: {customer!r} is no MiniCRM contact id; sync the customer "
            "to MiniCRM first"
        )
    context[CUSTOMER_TYPE] = "Business" if record.company_id else "Person"
    kind = TYPE_OF[record.entity]
    context[DOCUMENT_TYPE] = kind
    items = []
    for number, line in enumerate(record.lines):
        if line.discount_percent:
            raise RecordError(
                f"lines[{number}].discount_percent: MiniCRM invoice items carry no discount; "
                "put the discounted price in unit_price"
            )
        item: dict[str, Any] = {
            "Name": line.description,
            "PriceNet": _quantity(line.unit_price),
            "Quantity": _quantity(line.quantity),
        }
        if line.vat_percent is not None:
            item["VAT"] = f"{_quantity(line.vat_percent)}%"
        if line.unit:
            item["Unit"] = line.unit
        if line.code:
            item["SKU"] = line.code
        items.append(item)
    native: NativeRecord = {
        "CustomerId": int(customer),
        "Type": kind,
        "Issued": record.date.isoformat(),
        "Performance": record.date.isoformat(),
        "Paid": record.date.isoformat()
        if isinstance(record, Invoice) and record.status == DocumentStatus.PAID
        else NO_DATE,
        "CurrencyCode": record.currency,
        "Subject": record.subject or "",
        "Items": items,
    }
    due = record.due_date if isinstance(record, Invoice) else record.valid_until
    if due is not None:
        native["Prompt"] = due.isoformat()
    if record.number:
        native["Number"] = record.number
    return native
