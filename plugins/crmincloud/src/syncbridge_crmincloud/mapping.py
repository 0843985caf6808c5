"""CRM in Cloud records <-> canonical records: the connector's default mapping preset.

Native records are the API's camelCase JSON objects. Two things are not plain renames:

* ``emails`` and ``phones`` are arrays of ``{"value": ...}``; the canonical party has one of
  each, so the first entry is mapped and, on update, the others are kept
  (:func:`merge_for_update`);
* a Catalog item names its category by id (a ``CatalogCategories`` record), while the
  canonical product holds its description. ``map`` has no client to look the id up, so the
  connector resolves it around the mapping, in the record's *context* (never in the record,
  which holds only what the CRM holds): ``fetch`` gives the description as the context's
  :data:`CATEGORY` (``Page.context``, and ``UpsertResult.context`` for a record a write
  returns), ``map`` out notes the product's under the same key (``UpsertItem.context``), and
  ``upsert`` turns it back into an id before sending.

VAT numbers are kept by the CRM in national form beside the country (``state``): they are
prefixed on the way in (a number without a country is taken as Italian: CRM in Cloud is an
Italian system) and sent back without a prefix of the record's own country.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from syncbridge.describe import item_fields
from syncbridge.mapping import text
from syncbridge.models import CanonicalRecord, Company, Contact, Product, Quote, VatRate
from syncbridge.models.documents import DocumentLine
from syncbridge.records import NativeRecord
from syncbridge_crmincloud import convert

#: the context key of a Catalog item's category description (``fetch`` and ``map`` out)
CATEGORY = "category"
#: statuses a quote has in the CRM (assumption A9): the canonical ones of the same name
QUOTE_STATUSES = ("draft", "sent", "accepted", "rejected")

_PARTY_FIELDS = frozenset(
    [
        "address",
        "postal_code",
        "city",
        "province",
        "country",
        "email",
        "phone",
        "vat_number",
        "tax_code",
    ]
)

#: the canonical fields each entity maps (``EntityInfo.fields``): the engine never blanks
#: the others on the far side because this system lacks them
FIELDS: dict[str, frozenset[str]] = {
    "company": _PARTY_FIELDS | {"name", "website", "notes"},
    "contact": _PARTY_FIELDS | {"first_name", "last_name", "company_id"},
    "product": frozenset({"name", "code", "description", "category", "price", "vat_rate_id"}),
    "vat_rate": frozenset({"rate", "name", "description"}),
    "quote": frozenset(
        [
            "number",
            "date",
            "valid_until",
            "currency",
            "company_id",
            "contact_id",
            "status",
            "subject",
            "notes",
        ]
    )
    # a quote row has no VAT percentage (only the tax code) and no unit of measure
    | item_fields(
        "lines",
        "description",
        "quantity",
        "unit_price",
        "discount_percent",
        "product_id",
        "code",
        "vat_rate_id",
    ),
}


# -- native -> canonical -----------------------------------------------------------------------


def _party_in(native: NativeRecord) -> dict[str, Any]:
    country = convert.country(native.get("state"))
    return {
        "id": convert.ref_in(native.get("id")),
        "updated_at": convert.modified(native),
        "country": country,
        "address": native.get("address"),
        "postal_code": native.get("zipCode"),
        "city": native.get("city"),
        "province": native.get("province"),
        "email": convert.first_value(native.get("emails")),
        "phone": convert.first_value(native.get("phones")),
        "vat_number": convert.vat_in(native.get("vatId"), country),
        "tax_code": native.get("taxIdentificationNumber"),
    }


def _company_in(native: NativeRecord) -> Company:
    return Company.model_validate(
        {
            **_party_in(native),
            "name": native.get("companyName"),
            "website": native.get("webSite"),
            "notes": native.get("description"),
        }
    )


def _contact_in(native: NativeRecord) -> Contact:
    return Contact.model_validate(
        {
            **_party_in(native),
            "first_name": native.get("name"),
            "last_name": native.get("surname"),
            "company_id": convert.ref_in(native.get("companyId")),
        }
    )


def _product_in(native: NativeRecord, context: Mapping[str, Any]) -> Product:
    return Product.model_validate(
        {
            "id": convert.ref_in(native.get("id")),
            "updated_at": convert.modified(native),
            "name": native.get("productName"),
            "code": native.get("code"),
            "description": native.get("description"),
            "category": context.get(CATEGORY),
            "price": native.get("price"),
            "vat_rate_id": text(native.get("taxCode")),
        }
    )


def _vat_rate_in(native: NativeRecord) -> VatRate:
    return VatRate.model_validate(
        {
            "id": text(native.get("taxCode")),
            "rate": native.get("taxValue"),
            "name": native.get("taxDescription"),
            # the same text is the rate's description, which is how invoicing systems label
            # their zero rates ("Esente art. 10 DPR 633/72"): several share 0%, and only
            # the label tells them apart when they are matched
            "description": native.get("taxDescription"),
        }
    )


def _row_in(row: Mapping[str, Any]) -> dict[str, Any]:
    line: dict[str, Any] = {
        "description": text(row.get("description")) or text(row.get("code")) or "",
        "product_id": convert.ref_in(row.get("catalogId")),
        "code": row.get("code"),
        "vat_rate_id": text(row.get("taxCode")),
    }
    for field, key in (("quantity", "quantity"), ("unit_price", "unitPrice")):
        if row.get(key) is not None:
            line[field] = row[key]
    line["discount_percent"] = row.get("discount") or 0
    return line


def _quote_in(native: NativeRecord) -> Quote:
    rows = native.get("rows") or []
    return Quote.model_validate(
        {
            "id": convert.ref_in(native.get("id")),
            "updated_at": convert.modified(native),
            "number": native.get("number"),
            "date": convert.day_in(native.get("date")),
            "valid_until": convert.day_in(native.get("expirationDate")),
            "currency": native.get("currency") or "EUR",
            "company_id": convert.ref_in(native.get("companyId")),
            "contact_id": convert.ref_in(native.get("contactId")),
            "status": native.get("status") or "draft",
            "subject": native.get("title"),
            "notes": native.get("description"),
            "lines": [_row_in(row) for row in rows if isinstance(row, dict)],
        }
    )


#: the entities whose records need no context (a product needs its category's)
_IN: dict[str, Callable[[NativeRecord], CanonicalRecord]] = {
    "company": _company_in,
    "contact": _contact_in,
    "vat_rate": _vat_rate_in,
    "quote": _quote_in,
}


def map_in(entity: str, native: NativeRecord, context: Mapping[str, Any]) -> CanonicalRecord:
    """The canonical record of a native one, read with its context (``fetch``'s, or what
    :func:`map_out` noted); pydantic's ValidationError names bad fields."""
    if entity == "product":
        return _product_in(native, context)
    return _IN[entity](native)


# -- canonical -> native -----------------------------------------------------------------------


def _party_out(record: Company | Contact) -> NativeRecord:
    return {
        "address": record.address,
        "zipCode": record.postal_code,
        "city": record.city,
        "province": record.province,
        "state": record.country,
        "emails": convert.values_of(record.email),
        "phones": convert.values_of(record.phone),
        "vatId": convert.vat_out(record.vat_number, record.country),
        "taxIdentificationNumber": record.tax_code,
    }


def _company_out(record: CanonicalRecord) -> NativeRecord:
    assert isinstance(record, Company)
    return {
        "companyName": record.name,
        **_party_out(record),
        "webSite": record.website,
        "description": record.notes,
    }


def _contact_out(record: CanonicalRecord) -> NativeRecord:
    assert isinstance(record, Contact)
    return {
        "name": record.first_name,
        "surname": record.last_name,
        "companyId": convert.ref_out(record.company_id),
        **_party_out(record),
    }


def _product_out(record: CanonicalRecord, context: dict[str, Any]) -> NativeRecord:
    assert isinstance(record, Product)
    context[CATEGORY] = record.category  # None too: the item is to have no category
    return {
        "productName": record.name,
        "code": record.code,
        "description": record.description,
        "price": record.price,
        "taxCode": record.vat_rate_id,
    }


def _vat_rate_out(record: CanonicalRecord) -> NativeRecord:
    assert isinstance(record, VatRate)
    return {
        "taxCode": record.id,
        "taxValue": record.rate,
        "taxDescription": record.name or record.description,
        "active": 1,
    }


def _row_out(line: DocumentLine) -> NativeRecord:
    return {
        "catalogId": convert.ref_out(line.product_id),
        "code": line.code,
        "description": line.description,
        "quantity": line.quantity,
        "unitPrice": line.unit_price,
        "discount": line.discount_percent,
        "taxCode": line.vat_rate_id,
    }


def _quote_out(record: CanonicalRecord) -> NativeRecord:
    assert isinstance(record, Quote)
    status = record.status.value
    if status not in QUOTE_STATUSES:
        raise ValueError(
            f"a CRM in Cloud quote is {', '.join(QUOTE_STATUSES)}; it has no status {status!r}"
        )
    return {
        "number": record.number,
        "date": convert.day_out(record.date),
        "expirationDate": convert.day_out(record.valid_until),
        "currency": record.currency,
        "companyId": convert.ref_out(record.company_id),
        "contactId": convert.ref_out(record.contact_id),
        "status": status,
        "title": record.subject,
        "description": record.notes,
        "rows": [_row_out(line) for line in record.lines],
    }


#: the entities whose records note nothing for ``upsert`` (a product notes its category)
_OUT: dict[str, Callable[[CanonicalRecord], NativeRecord]] = {
    "company": _company_out,
    "contact": _contact_out,
    "vat_rate": _vat_rate_out,
    "quote": _quote_out,
}


def map_out(entity: str, record: CanonicalRecord, context: dict[str, Any]) -> NativeRecord:
    """The native fields this connector maps, ready for ``upsert`` (without ``id``); what
    ``upsert`` needs besides goes in ``context`` (``UpsertItem.context``)."""
    if entity == "product":
        return _product_out(record, context)
    return _OUT[entity](record)


# -- updates -----------------------------------------------------------------------------------

_MULTI = ("emails", "phones")


def merge_for_update(current: NativeRecord, changes: NativeRecord) -> NativeRecord:
    """The full record to send for an update: what the CRM holds, with ``changes`` applied.

    ``CreateOrUpdate`` replaces the whole object (assumption A7), so fields this connector
    does not map (custom fields, the idempotency key, ``active``, extra e-mail addresses)
    are carried over from ``current`` rather than lost. For ``emails``/``phones`` only the
    first entry is canonical: the others are kept behind it.
    """
    merged = {**current, **changes}
    for key in _MULTI:
        if key not in changes:
            continue
        new = list(changes[key] or [])
        head = convert.first_value(new)
        rest = [
            entry
            for entry in (current.get(key) or [])[1:]
            if not (isinstance(entry, dict) and text(entry.get("value")) == head)
        ]
        merged[key] = new + rest
    return merged
