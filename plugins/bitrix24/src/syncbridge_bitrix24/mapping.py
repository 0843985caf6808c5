"""Native Bitrix24 records <-> canonical records: the connector's default preset.

Old-style CRM methods (``crm.contact``, ``crm.company``, ``crm.product``, ``crm.vat``,
``crm.currency``, ``crm.measure``) speak UPPER_CASE fields with every value a string, ``Y``/``N``
flags and ``"0"`` or null for "no link"; the universal ``crm.item`` methods (smart invoices)
speak camelCase with real numbers. Contacts and companies keep e-mail, phone and website as
*multi-fields*, lists of ``{ID, VALUE_TYPE, VALUE}``; a canonical field is one *slot* of such a
list (the first e-mail, the first phone that is not a mobile, the first mobile), and
:func:`multi_update` writes a slot back without touching the others.

An invoice's product rows are not in the item as read: ``fetch`` reads them with it (one
``batch`` a page) and puts them under ``productRows``, the field ``upsert`` writes them from.
Its canonical status comes from its ``stageId`` through the connection's ``stage_map`` (the
``settings`` ``map`` receives), both ways; a stage the map does not name reads as what the
portal's own semantics of it say (success: paid, failure: cancelled, else sent), which
``fetch`` looks up and gives as the record's context (``stage_semantics``). A record ``fetch``
could not read whole (its rows failed to load) has the reason as its context's ``error``, and
``map`` fails it with that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from syncbridge.describe import item_fields
from syncbridge.errors import ConnectorError, RecordError
from syncbridge.mapping import text
from syncbridge.models import (
    CanonicalRecord,
    Company,
    Contact,
    Currency,
    DocumentLine,
    DocumentStatus,
    Invoice,
    Product,
    Unit,
    VatRate,
)
from syncbridge.records import NativeRecord
from syncbridge.settings import ConnectorSettings
from syncbridge_bitrix24.settings import Bitrix24Settings, stage_category

#: product rows of an invoice, attached by fetch and written by upsert
ROWS_KEY = "productRows"
#: what a stage the stage map does not name reads as, by the stage's semantics on the portal
#: (the context's ``stage_semantics``); any other stage is an open one
SEMANTIC_STATUS = {
    "S": DocumentStatus.PAID,
    "success": DocumentStatus.PAID,
    "F": DocumentStatus.CANCELLED,
    "failure": DocumentStatus.CANCELLED,
}

_MONEY = Decimal("0.000001")
#: what a row's price is written to: ten places, about what a double keeps of it
_PRICE = Decimal("1E-10")
_PERCENT = Decimal("0.0001")
_HUNDRED = Decimal(100)


# -- value helpers ---------------------------------------------------------------------------
def ref(value: Any) -> str | None:
    """A link to another record: ``"0"``, 0, ``""`` and null all mean "none"."""
    if value is None or value == "" or str(value).strip() in {"0", ""}:
        return None
    return str(int(str(value).strip()))


def decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    return number


def moment(value: Any) -> datetime | None:
    """An ISO 8601 timestamp with offset (``2024-02-26T10:00:00+01:00``)."""
    found = text(value)
    return None if found is None else datetime.fromisoformat(found)


def day(value: Any) -> date | None:
    """A date field: items send it as midnight in the portal's time zone; keep the date."""
    found = text(value)
    return None if found is None else date.fromisoformat(found[:10])


def _money(value: Decimal) -> Decimal:
    return value.quantize(_MONEY, rounding=ROUND_HALF_UP).normalize()


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


# -- multi-fields ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Slot:
    """Which entry of a multi-field a canonical field is, and the type a new entry gets."""

    field: str
    accepts: Callable[[str], bool]
    new_type: str


SLOTS: dict[str, Slot] = {
    "email": Slot("EMAIL", lambda _kind: True, "WORK"),
    "phone": Slot("PHONE", lambda kind: kind != "MOBILE", "WORK"),
    "mobile": Slot("PHONE", lambda kind: kind == "MOBILE", "MOBILE"),
    "website": Slot("WEB", lambda _kind: True, "WORK"),
}


def _entries(record: Mapping[str, Any], field: str) -> list[dict[str, Any]]:
    value = record.get(field)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def slot_entry(record: Mapping[str, Any], slot: Slot) -> dict[str, Any] | None:
    """The entry of ``record`` a slot reads: the first of its field whose type it accepts."""
    for entry in _entries(record, slot.field):
        if slot.accepts(str(entry.get("VALUE_TYPE") or "")) and text(entry.get("VALUE")):
            return entry
    return None


def slot_value(record: Mapping[str, Any], name: str) -> str | None:
    entry = slot_entry(record, SLOTS[name])
    return None if entry is None else text(entry.get("VALUE"))


def _multi_out(values: Mapping[str, str | None]) -> dict[str, list[dict[str, str]]]:
    """Multi-fields as written: one entry per slot that has a value.

    Every field is present, an empty list when no slot of it has a value, so that an update
    of a cleared e-mail still names the field (and :func:`multi_update` deletes the entry).
    """
    out: dict[str, list[dict[str, str]]] = {}
    for name, value in values.items():
        slot = SLOTS[name]
        entries = out.setdefault(slot.field, [])
        if value is not None:
            entries.append({"VALUE": value, "VALUE_TYPE": slot.new_type})
    return out


def multi_update(
    wanted: Mapping[str, Any], current: Mapping[str, Any], field: str
) -> list[dict[str, str]]:
    """The ``field`` entries that turn ``current``'s slots into ``wanted``'s.

    On update an entry without ``ID`` is *added*, one with ``ID`` overwrites that entry, and
    ``{"ID": .., "DELETE": "Y"}`` removes it (``crm-contact-update.md``); entries of the field
    that no slot reads (a second e-mail) are left alone.
    """
    changes: list[dict[str, str]] = []
    for name, slot in SLOTS.items():
        if slot.field != field:
            continue
        value = slot_value(wanted, name)
        entry = slot_entry(current, slot)
        if entry is None:
            if value is not None:
                changes.append({"VALUE": value, "VALUE_TYPE": slot.new_type})
        elif value is None:
            changes.append({"ID": str(entry["ID"]), "DELETE": "Y"})
        elif value != text(entry.get("VALUE")):
            changes.append(
                {"ID": str(entry["ID"]), "VALUE": value, "VALUE_TYPE": str(entry["VALUE_TYPE"])}
            )
    return changes


# -- parties ---------------------------------------------------------------------------------
_ADDRESS = {
    "address": "ADDRESS",
    "city": "ADDRESS_CITY",
    "postal_code": "ADDRESS_POSTAL_CODE",
    "province": "ADDRESS_PROVINCE",
    "country": "ADDRESS_COUNTRY_CODE",
}


def _address_in(record: Mapping[str, Any]) -> dict[str, Any]:
    return {canonical: text(record.get(native)) for canonical, native in _ADDRESS.items()}


def _address_out(record: Contact | Company) -> dict[str, Any]:
    return {native: getattr(record, canonical) for canonical, native in _ADDRESS.items()}


def contact_in(record: NativeRecord) -> Contact:
    return Contact(
        id=str(record["ID"]),
        updated_at=moment(record.get("DATE_MODIFY")),
        first_name=text(record.get("NAME")),
        last_name=text(record.get("LAST_NAME")),
        job_title=text(record.get("POST")),
        notes=text(record.get("COMMENTS")),
        company_id=ref(record.get("COMPANY_ID")),
        email=slot_value(record, "email"),
        phone=slot_value(record, "phone"),
        mobile=slot_value(record, "mobile"),
        **_address_in(record),
    )


def contact_out(record: Contact) -> NativeRecord:
    return {
        "NAME": record.first_name,
        "LAST_NAME": record.last_name,
        "POST": record.job_title,
        "COMMENTS": record.notes,
        "COMPANY_ID": record.company_id,
        **_address_out(record),
        **_multi_out({"email": record.email, "phone": record.phone, "mobile": record.mobile}),
    }


def company_in(record: NativeRecord) -> Company:
    return Company(
        id=str(record["ID"]),
        updated_at=moment(record.get("DATE_MODIFY")),
        name=text(record.get("TITLE")) or "",
        currency=text(record.get("CURRENCY_ID")),
        notes=text(record.get("COMMENTS")),
        email=slot_value(record, "email"),
        phone=slot_value(record, "phone"),
        website=slot_value(record, "website"),
        **_address_in(record),
    )


def company_out(record: Company) -> NativeRecord:
    return {
        "TITLE": record.name,
        "CURRENCY_ID": record.currency,
        "COMMENTS": record.notes,
        **_address_out(record),
        **_multi_out({"email": record.email, "phone": record.phone, "website": record.website}),
    }


# -- catalog and reference data --------------------------------------------------------------
def product_in(record: NativeRecord) -> Product:
    return Product(
        id=str(record["ID"]),
        updated_at=moment(record.get("TIMESTAMP_X")),
        name=text(record.get("NAME")) or "",
        code=text(record.get("XML_ID")),
        description=text(record.get("DESCRIPTION")),
        price=decimal(record.get("PRICE")),
        currency=text(record.get("CURRENCY_ID")),
        vat_rate_id=ref(record.get("VAT_ID")),
        unit_id=ref(record.get("MEASURE")),
    )


def product_out(record: Product) -> NativeRecord:
    return {
        "NAME": record.name,
        "XML_ID": record.code,
        "DESCRIPTION": record.description,
        "PRICE": _plain(record.price),
        "CURRENCY_ID": record.currency,
        "VAT_ID": record.vat_rate_id,
        # canonical prices are net: tell the catalog so, or it reads them as gross
        "VAT_INCLUDED": "N",
        "MEASURE": record.unit_id,
    }


def vat_rate_in(record: NativeRecord) -> VatRate:
    # RATE is null for "No VAT": the canonical rate of that is 0, its name says the rest
    return VatRate(
        id=str(record["ID"]),
        updated_at=moment(record.get("TIMESTAMP_X")),
        rate=decimal(record.get("RATE")) or Decimal(0),
        name=text(record.get("NAME")),
    )


def vat_rate_out(record: VatRate) -> NativeRecord:
    rate = _plain(record.rate) or "0"
    return {"NAME": record.name or f"VAT {rate}%", "RATE": rate, "ACTIVE": "Y"}


def currency_in(record: NativeRecord) -> Currency:
    amount, count = decimal(record.get("AMOUNT")), decimal(record.get("AMOUNT_CNT")) or Decimal(1)
    return Currency(
        id=str(record["CURRENCY"]),
        updated_at=moment(record.get("DATE_UPDATE")),
        code=str(record["CURRENCY"]),
        exchange_rate=None if not amount else _money(amount / count),
    )


def currency_out(record: Currency) -> NativeRecord:
    return {
        "CURRENCY": record.code,
        "AMOUNT_CNT": "1",
        "AMOUNT": _plain(record.exchange_rate),
    }


def unit_in(record: NativeRecord) -> Unit:
    title = text(record.get("MEASURE_TITLE"))
    return Unit(
        id=str(record["ID"]),
        name=text(record.get("SYMBOL_INTL")) or title or str(record.get("CODE")),
        description=title,
    )


def unit_out(record: Unit) -> NativeRecord:
    return {"SYMBOL_INTL": record.name, "MEASURE_TITLE": record.description}


# -- invoices (smart invoices, crm.item with entityTypeId 31) --------------------------------
# A product row's ``price`` is per unit after the discount *and with tax*, whatever
# ``taxIncluded`` says: "Price per unit of the product row, including discounts and taxes"
# (``crm.item.productrow.add``, ``crm_item_product_row`` in ``api-reference/crm/data-types.md``),
# as a row read back shows: TAX_INCLUDED N, TAX_RATE 12, DISCOUNT_RATE 40 gives PRICE_NETTO
# 32999, PRICE_EXCLUSIVE 19799.4 (after the discount, before tax) and PRICE 22175.328 =
# 19799.4 x 1.12 (``crm.lead.productrows.get``). ``taxIncluded`` only says whether the price
# was entered with its tax. A canonical line is net of VAT, so the VAT travels as ``taxRate``
# and in the price: a row written without it would total its net amount, and one read without
# it would take the VAT for part of the price.
def _row_in(row: Mapping[str, Any]) -> DocumentLine:
    """A product row as a line: the list price before discount and tax (``priceNetto``), the
    discount as a percentage of it, the VAT percentage (``taxRate``, null for "no VAT")."""
    tax = decimal(row.get("taxRate"))
    price = decimal(row.get("price")) or Decimal(0)
    exclusive = price / (1 + tax / _HUNDRED) if tax else price  # priceExclusive, unrounded
    rate = decimal(row.get("discountRate")) or Decimal(0)
    if str(row.get("discountTypeId") or "2") == "1":  # an amount off the net price
        unit_price = exclusive + (decimal(row.get("discountSum")) or Decimal(0))
        percent = (unit_price - exclusive) * _HUNDRED / unit_price if unit_price else rate
    elif rate < _HUNDRED:
        unit_price, percent = exclusive / (1 - rate / _HUNDRED), rate
    else:  # all of it off: only priceNetto still knows the list price
        unit_price, percent = decimal(row.get("priceNetto")) or exclusive, rate
    return DocumentLine(
        description=text(row.get("productName")) or "",
        quantity=decimal(row.get("quantity")) or Decimal(0),
        unit_price=_money(unit_price),
        discount_percent=percent.quantize(_PERCENT).normalize(),
        product_id=ref(row.get("productId")),
        vat_percent=None if tax is None else tax.normalize(),
    )


def _row_out(line: DocumentLine, position: int) -> dict[str, Any]:
    # exact products of the canonical decimals, cut only where a double stops: rounded to
    # the cent or to six places, a discounted price with tax no longer gives back the list
    # price it came from (333.33 less 12.5 % plus 7 % would read back as 333.330001)
    discounted = line.unit_price * (1 - line.discount_percent / _HUNDRED)
    tax = line.vat_percent
    price = discounted * (1 + tax / _HUNDRED) if tax else discounted
    return {
        "productId": line.product_id or 0,
        "productName": line.description,
        "price": _plain(price.quantize(_PRICE, rounding=ROUND_HALF_UP)),
        "quantity": _plain(line.quantity),
        "discountTypeId": 2,  # a percentage
        "discountRate": _plain(line.discount_percent),
        "discountSum": _plain((line.unit_price - discounted).quantize(_PRICE)),
        "taxRate": _plain(tax),
        "taxIncluded": "N",  # canonical prices are net: shown net, the tax added on top
        "sort": (position + 1) * 10,
    }


def _bitrix24(settings: ConnectorSettings) -> Bitrix24Settings:
    if not isinstance(settings, Bitrix24Settings):
        raise ConnectorError(
            f"the bitrix24 connector needs Bitrix24Settings, got {type(settings).__name__}"
        )
    return settings


def invoice_status(
    stage: str, settings: Bitrix24Settings, context: Mapping[str, Any]
) -> DocumentStatus:
    """The status ``stage`` reads as: the stage map's, else its semantics on the portal."""
    status = settings.status_of(stage)
    if status is not None:
        return status
    semantics = context.get("stage_semantics")
    if semantics is None:
        raise RecordError(f"stage {stage!r} has no status: add it to the connection's stage_map")
    return SEMANTIC_STATUS.get(str(semantics), DocumentStatus.SENT)


def invoice_in(
    record: NativeRecord, settings: ConnectorSettings, context: Mapping[str, Any]
) -> Invoice:
    if context.get("error"):
        raise RecordError(str(context["error"]))
    status = invoice_status(str(record.get("stageId") or ""), _bitrix24(settings), context)
    rows = sorted(
        (row for row in record.get(ROWS_KEY) or [] if isinstance(row, dict)),
        key=lambda row: (int(row.get("sort") or 0), int(row.get("id") or 0)),
    )
    return Invoice(
        id=str(record["id"]),
        updated_at=moment(record.get("updatedTime")),
        number=text(record.get("accountNumber")),
        date=day(record.get("begindate")),  # type: ignore[arg-type]  # validated by the model
        due_date=day(record.get("closedate")),
        currency=text(record.get("currencyId")) or "EUR",
        company_id=ref(record.get("companyId")),
        contact_id=ref(record.get("contactId")),
        status=status,
        subject=text(record.get("title")),
        notes=text(record.get("comments")),
        lines=[_row_in(row) for row in rows],
    )


def invoice_out(record: Invoice, settings: ConnectorSettings) -> NativeRecord:
    # several statuses share a stage: the invoice is written to its status's stage, and
    # reads back as the status the stage map gives that stage
    stage = _bitrix24(settings).stages[record.status]
    return {
        "title": record.subject,
        "accountNumber": record.number,
        "begindate": record.date.isoformat(),
        "closedate": record.due_date.isoformat() if record.due_date else None,
        "currencyId": record.currency,
        "companyId": record.company_id or 0,
        "contactId": record.contact_id or 0,
        "comments": record.notes,
        "stageId": stage,
        "categoryId": stage_category(stage),
        ROWS_KEY: [_row_out(line, index) for index, line in enumerate(record.lines)],
    }


# -- dispatch --------------------------------------------------------------------------------
MAP_IN: dict[str, Callable[[NativeRecord], CanonicalRecord]] = {
    "contact": contact_in,
    "company": company_in,
    "product": product_in,
    "vat_rate": vat_rate_in,
    "currency": currency_in,
    "unit": unit_in,
}

MAP_OUT: dict[str, Callable[[Any], NativeRecord]] = {
    "contact": contact_out,
    "company": company_out,
    "product": product_out,
    "vat_rate": vat_rate_out,
    "currency": currency_out,
    "unit": unit_out,
}

#: canonical field -> the native fields that carry it: what a sparse update sends
NATIVE_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "contact": {
        "first_name": ("NAME",),
        "last_name": ("LAST_NAME",),
        "job_title": ("POST",),
        "notes": ("COMMENTS",),
        "company_id": ("COMPANY_ID",),
        "email": ("EMAIL",),
        "phone": ("PHONE",),
        "mobile": ("PHONE",),
        **{canonical: (native,) for canonical, native in _ADDRESS.items()},
    },
    "company": {
        "name": ("TITLE",),
        "currency": ("CURRENCY_ID",),
        "notes": ("COMMENTS",),
        "email": ("EMAIL",),
        "phone": ("PHONE",),
        "website": ("WEB",),
        **{canonical: (native,) for canonical, native in _ADDRESS.items()},
    },
    "product": {
        "name": ("NAME",),
        "code": ("XML_ID",),
        "description": ("DESCRIPTION",),
        "price": ("PRICE", "VAT_INCLUDED"),
        "currency": ("CURRENCY_ID",),
        "vat_rate_id": ("VAT_ID",),
        "unit_id": ("MEASURE",),
    },
    "vat_rate": {"rate": ("RATE",), "name": ("NAME",)},
    "currency": {"code": ("CURRENCY",), "exchange_rate": ("AMOUNT", "AMOUNT_CNT")},
    "unit": {"name": ("SYMBOL_INTL",), "description": ("MEASURE_TITLE",)},
    "invoice": {
        "number": ("accountNumber",),
        "date": ("begindate",),
        "due_date": ("closedate",),
        "currency": ("currencyId",),
        "company_id": ("companyId",),
        "contact_id": ("contactId",),
        "status": ("stageId", "categoryId"),
        "lines": (ROWS_KEY,),
        "subject": ("title",),
        "notes": ("comments",),
    },
}

#: the canonical fields each entity maps (``EntityInfo.fields``)
#: what a product row holds: a tax rate but no VAT type, no product code or unit
LINE_FIELDS = item_fields(
    "lines", "description", "quantity", "unit_price", "discount_percent", "product_id",
    "vat_percent",
)

FIELDS: dict[str, frozenset[str]] = {
    entity: frozenset(fields) | (LINE_FIELDS if "lines" in fields else frozenset())
    for entity, fields in NATIVE_FIELDS.items()
}


def map_in(
    entity: str, record: NativeRecord, settings: ConnectorSettings, context: Mapping[str, Any]
) -> CanonicalRecord:
    """``record`` as its canonical model; invoices read with the settings and the context."""
    if entity == "invoice":
        return invoice_in(record, settings, context)
    return MAP_IN[entity](record)


def map_out(entity: str, record: CanonicalRecord, settings: ConnectorSettings) -> NativeRecord:
    """``record`` as Bitrix24 holds it; invoices written with the settings' stage map."""
    if entity == "invoice":
        if not isinstance(record, Invoice):
            raise TypeError(f"map(out) of an invoice needs an Invoice, got {type(record).__name__}")
        return invoice_out(record, settings)
    return MAP_OUT[entity](record)


def sparse(entity: str, native: NativeRecord, changed: frozenset[str]) -> NativeRecord:
    """Only the native fields that carry ``changed`` canonical fields (all when unknown).

    Bitrix24 has no concurrency token (last write wins), so an update that sends only what
    changed cannot undo someone's edit of another field in the meantime.
    """
    if not changed:
        return native
    carriers = NATIVE_FIELDS[entity]
    wanted = {name for field in changed for name in carriers.get(field, ())}
    return {name: value for name, value in native.items() if name in wanted}
