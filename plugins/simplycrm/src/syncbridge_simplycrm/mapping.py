"""Native (vtiger) <-> canonical records: the "Default" presets, and the "Custom" field map.

Each entity's plain fields are a table, canonical field -> Simply CRM field (:data:`PRESETS`);
a connection's ``fields`` setting overrides it per field (:func:`field_map`), which is how a
custom field (``cf_853``) takes a canonical field's place or a preset field is left out. How a
value is converted follows from the canonical field (money, country, date, text), whichever
native field holds it. What is not a plain field is written here: ids and references
(composite ``11x5`` ids, kept as they are), an invoice's ``LineItems``, its status, its totals
and its payments (``received``/``balance``), and its currency (``currency_id`` <-> ISO code,
through the context).

vtiger sends every value as a string: ``""`` is no value, money comes with eight decimals
(``"10.50000000"``), countries as the names the CRM's forms hold (``Denmark``), which are read
with pycountry and written as English names.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, overload

import pycountry

from syncbridge import CanonicalRecord, ConfigError, NativeRecord, RecordError
from syncbridge.mapping import text
from syncbridge.models import MODELS
from syncbridge.models.documents import DocumentStatus, Invoice
from syncbridge_simplycrm.settings import SimplyCrmSettings

#: canonical entity -> Simply CRM module
MODULES = {
    "company": "Accounts",
    "contact": "Contacts",
    "product": "Products",
    "invoice": "Invoice",
}

#: the "Default" mapping: canonical field -> Simply CRM field, per entity
PRESETS: dict[str, dict[str, str]] = {
    "company": {
        "name": "accountname",
        "phone": "phone",
        "email": "email1",
        "website": "website",
        "address": "bill_street",
        "postal_code": "bill_code",
        "city": "bill_city",
        "province": "bill_state",
        "country": "bill_country",
        "mailing_address": "ship_street",
        "mailing_postal_code": "ship_code",
        "mailing_city": "ship_city",
        "mailing_country": "ship_country",
        "notes": "description",
    },
    "contact": {
        "first_name": "firstname",
        "last_name": "lastname",
        "email": "email",
        "phone": "phone",
        "mobile": "mobile",
        "job_title": "title",
        "company_id": "account_id",
        "address": "mailingstreet",
        "postal_code": "mailingzip",
        "city": "mailingcity",
        "province": "mailingstate",
        "country": "mailingcountry",
        "mailing_address": "otherstreet",
        "mailing_postal_code": "otherzip",
        "mailing_city": "othercity",
        "mailing_country": "othercountry",
        "notes": "description",
    },
    "product": {
        "name": "productname",
        "code": "productcode",
        "description": "description",
        "category": "productcategory",
        "price": "unit_price",
        "cost": "purchase_cost",
        "unit": "usageunit",
    },
    "invoice": {
        "subject": "subject",
        "date": "invoicedate",
        "due_date": "duedate",
        "company_id": "account_id",
        "contact_id": "contact_id",
        "notes": "description",
    },
}

#: canonical fields converted as money, countries, dates
MONEY = frozenset({"price", "cost", "total", "balance", "amount"})
COUNTRIES = frozenset({"country", "mailing_country"})
DATES = frozenset({"date", "due_date", "valid_until"})
#: canonical fields that are not plain (written in this module, never re-mapped)
STRUCTURED = frozenset({"id", "updated_at", "lines", "status", "currency", "locked", "total",
                        "balance", "number", "credit_note"})
#: the line fields an invoice maps
LINE_FIELDS = ("description", "quantity", "unit_price", "discount_percent", "product_id",
               "vat_percent")
#: context keys
CURRENCY = "currency"

#: Simply CRM invoice status <-> canonical status
STATUS_IN: dict[str, DocumentStatus] = {
    "AutoCreated": DocumentStatus.DRAFT,
    "Created": DocumentStatus.DRAFT,
    "Approved": DocumentStatus.ISSUED,
    "Sent": DocumentStatus.SENT,
    "Credit Invoice": DocumentStatus.ISSUED,
    "Paid": DocumentStatus.PAID,
    "Cancel": DocumentStatus.CANCELLED,
}
STATUS_OUT: dict[DocumentStatus, str] = {
    DocumentStatus.DRAFT: "Created",
    DocumentStatus.ISSUED: "Approved",
    DocumentStatus.ACCEPTED: "Approved",
    DocumentStatus.SENT: "Sent",
    DocumentStatus.PARTIALLY_PAID: "Sent",
    DocumentStatus.OVERDUE: "Sent",
    DocumentStatus.PAID: "Paid",
    DocumentStatus.CANCELLED: "Cancel",
    DocumentStatus.REJECTED: "Cancel",
}
_CENT = Decimal("0.01")


def field_map(entity: str, settings: SimplyCrmSettings | None) -> dict[str, str]:
    """The entity's plain fields, canonical -> native: the preset with the connection's
    ``fields`` applied; a ConfigError naming the setting when an override cannot be."""
    preset = dict(PRESETS[entity])
    overrides = settings.fields if settings is not None else {}
    for name in overrides:
        if name not in PRESETS:
            raise ConfigError(
                f"settings.fields.{name}: simplycrm maps no entity {name!r}; map fields of "
                f"{', '.join(PRESETS)}"
            )
    model = MODELS[entity]
    for canonical, native in overrides.get(entity, {}).items():
        if canonical not in model.model_fields or canonical in STRUCTURED:
            plain = sorted(set(model.model_fields) - STRUCTURED)
            raise ConfigError(
                f"settings.fields.{entity}.{canonical}: not a plain field of {entity}; "
                f"re-map one of: {', '.join(plain)}"
            )
        if native:
            preset[canonical] = native
        else:
            preset.pop(canonical, None)
    return preset


def fields_of(entity: str, settings: SimplyCrmSettings | None) -> frozenset[str]:
    """The canonical fields a connection maps (for ``EntityInfo.fields``)."""
    plain = set(field_map(entity, settings))
    if entity == "invoice":
        plain |= {"status", "currency", "total", "balance",
                  *{"lines", *(f"lines.{f}" for f in LINE_FIELDS)}}
    return frozenset(plain)


# -- values -----------------------------------------------------------------------------------
def money(value: Any) -> Decimal | None:
    """``"10.50000000"`` -> ``Decimal("10.5")``; None for no value."""
    raw = text(value)
    if raw is None:
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise RecordError(f"{raw!r} is not a number") from None
    normal = number.normalize()  # "10.50000000" -> 10.5; but 100 -> 1E+2, so back to 100
    exponent = normal.as_tuple().exponent
    return normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal


@overload
def cents(value: Decimal) -> Decimal: ...
@overload
def cents(value: None) -> None: ...
def cents(value: Decimal | None) -> Decimal | None:
    """An amount rounded half up to the cent (``75.3075`` -> ``75.31``)."""
    return None if value is None else value.quantize(_CENT, rounding=ROUND_HALF_UP)


def owed(grand_total: Decimal | None, lines: list[dict[str, Any]]) -> Decimal | None:
    """The invoice's total as it is owed, in øre: each line's net and its VAT rounded to the
    cent, then summed, as the invoice prints its lines and as Dinero books them (README,
    "Payments"). The CRM keeps its grand total unrounded (eight decimals of the exact line
    sums), so that total is taken with its lines' exact amounts replaced by their rounded
    ones; what is not a line (an overall discount, shipping) stays as the CRM has it."""
    if grand_total is None:
        return None
    exact = booked = Decimal(0)
    for line in lines:
        net = line["quantity"] * line["unit_price"] * (1 - line["discount_percent"] / 100)
        rate = (line["vat_percent"] or Decimal(0)) / 100
        exact += net * (1 + rate)
        booked += cents(net) + cents(cents(net) * rate)
    return cents(grand_total - exact + booked)


def country_in(value: Any) -> str | None:
    """A country as the CRM holds it (a name, or a code) -> ISO 3166 alpha-2."""
    raw = text(value)
    if raw is None:
        return None
    try:
        found = pycountry.countries.lookup(raw)
    except LookupError:
        raise RecordError(
            f"country {raw!r} is neither a country name nor an ISO code; correct it in "
            "Simply CRM"
        ) from None
    return str(found.alpha_2)


def country_out(code: str | None) -> str:
    if not code:
        return ""
    found = pycountry.countries.get(alpha_2=code)
    return str(getattr(found, "common_name", None) or found.name) if found else code


def _in(canonical: str, value: Any) -> Any:
    if canonical in MONEY:
        return money(value)
    if canonical in COUNTRIES:
        return country_in(value)
    if canonical in DATES:
        raw = text(value)
        return date.fromisoformat(raw[:10]) if raw else None
    return text(value)


def _out(canonical: str, value: Any) -> str:
    if value is None:
        return ""
    if canonical in COUNTRIES:
        return country_out(str(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def modified(record: NativeRecord) -> datetime | None:
    raw = text(record.get("modifiedtime"))
    if raw is None:
        return None
    return datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


# -- in -----------------------------------------------------------------------------------------
def map_in(
    entity: str, native: NativeRecord, settings: SimplyCrmSettings | None, context: dict[str, Any]
) -> CanonicalRecord:
    if "error" in context:
        raise RecordError(str(context["error"]))
    values: dict[str, Any] = {
        canonical: _in(canonical, native.get(field))
        for canonical, field in field_map(entity, settings).items()
    }
    values["id"] = str(native.get("id"))
    values["updated_at"] = modified(native)
    if entity == "invoice":
        values.update(_invoice_in(native, context))
        # the "Priority module": an invoice naming both an organisation and a contact is the
        # organisation's, or a personal invoice of the contact; the other party is not part
        # of the synced invoice (an accounting system's invoice has one customer), and
        # writing leaves it as the CRM has it
        personal = settings is not None and settings.invoice_party == "contact"
        if personal and values.get("contact_id"):
            values["company_id"] = None
        elif not personal and values.get("company_id"):
            values["contact_id"] = None
    return MODELS[entity].model_validate(values)


def _invoice_in(native: NativeRecord, context: dict[str, Any]) -> dict[str, Any]:
    if "LineItems" not in native:
        raise RecordError(f"invoice {native.get('id')} came without its LineItems")
    status = str(native.get("invoicestatus") or "")
    lines = [_line_in(line) for line in native.get("LineItems") or []]
    total = owed(money(native.get("hdnGrandTotal")), lines)
    received = money(native.get("received"))
    balance = money(native.get("balance"))
    values: dict[str, Any] = {
        "number": text(native.get("invoice_no")),
        "status": STATUS_IN.get(status, DocumentStatus.DRAFT),
        "credit_note": status == "Credit Invoice",
        "total": total,
        "balance": total - received if total is not None and received is not None else (
            cents(balance)),
        "lines": lines,
    }
    if context.get(CURRENCY):
        values["currency"] = context[CURRENCY]
    return values


def _line_in(line: dict[str, Any]) -> dict[str, Any]:
    quantity = money(line.get("quantity")) or Decimal(0)
    price = money(line.get("listprice")) or Decimal(0)
    percent = money(line.get("discount_percent"))
    amount = money(line.get("discount_amount"))
    if percent is None and amount and quantity and price:
        percent = (amount * 100 / (quantity * price)).quantize(Decimal("0.0001"))
    return {
        "description": text(line.get("comment")) or "",
        "quantity": quantity,
        "unit_price": price,
        "discount_percent": percent or Decimal(0),
        "product_id": text(line.get("productid")),
        "vat_percent": money(line.get("tax1")),
    }


# -- out ----------------------------------------------------------------------------------------
def map_out(
    entity: str,
    record: CanonicalRecord,
    settings: SimplyCrmSettings | None,
    context: dict[str, Any],
) -> NativeRecord:
    native: NativeRecord = {
        field: _out(canonical, getattr(record, canonical, None))
        for canonical, field in field_map(entity, settings).items()
    }
    if isinstance(record, Invoice):
        native.update(_invoice_out(record, context))
        # the party the "Priority module" leaves out is kept as the CRM has it
        for canonical in ("company_id", "contact_id"):
            field = field_map(entity, settings).get(canonical)
            if field and getattr(record, canonical) is None:
                native.pop(field, None)
    return native


def _owed_lines(record: Invoice) -> Decimal:
    """The lines' total as :func:`owed` counts it: each line's net and VAT in øre."""
    total = Decimal(0)
    for line in record.lines:
        net = cents(line.quantity * line.unit_price * (1 - line.discount_percent / 100))
        total += net + cents(net * (line.vat_percent or Decimal(0)) / 100)
    return total


def _invoice_out(record: Invoice, context: dict[str, Any]) -> NativeRecord:
    lines = []
    for number, line in enumerate(record.lines, start=1):
        if not line.product_id:
            raise RecordError(
                f"lines.{number - 1}.product_id: Simply CRM invoice lines must name a product; "
                "sync the product first or give the line a product"
            )
        lines.append({
            "productid": line.product_id,
            "quantity": format(line.quantity, "f"),
            "listprice": format(line.unit_price, "f"),
            "discount_percent": format(line.discount_percent, "f"),
            "comment": line.description,
            "tax1": "" if line.vat_percent is None else format(line.vat_percent, "f"),
        })
    native: NativeRecord = {
        "subject": record.subject or record.number or f"Invoice {record.date.isoformat()}",
        "invoicestatus": "Credit Invoice" if record.credit_note else STATUS_OUT[record.status],
        "hdnTaxType": "individual",
        "LineItems": lines,
    }
    if record.balance is not None:
        # payments registered elsewhere (Dinero) show in the CRM as the amount received: what
        # is owed (the record's total, else its lines in øre, as read) less what is left
        owed_total = record.total if record.total is not None else _owed_lines(record)
        received = owed_total - record.balance
        native["received"] = format(max(received, Decimal(0)), "f")
    context[CURRENCY] = record.currency
    return native
