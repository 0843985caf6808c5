"""The Dinero API as the connector uses it: paths, listings, what answers mean, JSON.

Declarations for :mod:`syncbridge.rest`, and only what is special about Dinero beside them:

* every path carries the organisation (``/v1/{organizationId}/contacts``), so the resources
  are built per organisation (:func:`api_for`, cached);
* listings are ``Collection`` + ``Pagination`` envelopes paged by a zero-based ``page`` and a
  ``pageSize`` of at most 1000, with ``fields`` naming what each row holds (the defaults are
  two or four properties, so every listing asks for what the mapping reads);
* incremental reads use ``changesSince`` (UTC, whole seconds, at or after: README A4) on
  ``UpdatedAt``, a read-model date-time in UTC without a zone;
* :data:`ERRORS` reads Dinero's error bodies (``message`` with ``validationErrors``, code 58
  for an outdated ``Timestamp``) and the token endpoint's (``error_description``);
* JSON numbers with a fraction are decoded as :class:`~decimal.Decimal` and encoded from it
  without a float in between: they are money.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson

from syncbridge.rest import Api, ErrorMap, Incremental, PageNumber, Resource
from syncbridge_dinero.settings import MAX_PAGE_SIZE

SYSTEM = "Dinero"
#: the read-model property every listing is read incrementally on
UPDATED = "UpdatedAt"

CONTACT_FIELDS = (
    "ContactGuid", "CreatedAt", "UpdatedAt", "DeletedAt", "ExternalReference", "Name", "Street",
    "ZipCode", "City", "CountryKey", "Phone", "Email", "Webpage", "AttPerson", "VatNumber",
    "EanNumber", "IsPerson", "PreferredInvoiceCurrencyKey",
)
PRODUCT_FIELDS = (
    "ProductGuid", "CreatedAt", "UpdatedAt", "ProductNumber", "Name", "BaseAmountValue",
    "Quantity", "AccountNumber", "Unit", "ExternalReference", "Comment",
)
INVOICE_ROW_FIELDS = ("Guid", "UpdatedAt", "ContactGuid", "Status", "Number")


# -- JSON -----------------------------------------------------------------------------------------
def loads(content: bytes | str) -> Any:
    """JSON with every number that has a fraction as Decimal (never float).

    A body that is not JSON raises orjson's error, whose position tells a body cut short
    from one that is something else (the error map says which).
    """
    try:
        return json.loads(content, parse_float=Decimal)
    except ValueError:
        orjson.loads(content)  # raises, with the position the error map reads
        raise


def _number(value: object) -> int | float:
    if not isinstance(value, Decimal):
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def encode(body: Any) -> bytes:
    """``body`` as JSON bytes, Decimals written as numbers with their own digits."""
    return json.dumps(body, default=_number, ensure_ascii=False).encode()


JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


# -- what answers mean ----------------------------------------------------------------------------
def message(body: Any) -> str | None:
    """Dinero's own words: ``message`` with each ``validationErrors`` entry, ``code`` in
    front (``code 58: Timestamp outdated ...``); a token endpoint's ``error_description``."""
    if isinstance(body, str):
        return body.strip() or None
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("error_description"), str):
        return f"{body.get('error')}: {body['error_description']}"
    text = body.get("message") or body.get("Message")
    if not isinstance(text, str) or not text.strip():
        return None
    errors = body.get("validationErrors") or body.get("ValidationErrors")
    if isinstance(errors, dict) and errors:
        text += " (" + "; ".join(f"{field}: {why}" for field, why in errors.items()) + ")"
    code = body.get("code", body.get("Code"))
    return f"code {code}: {text}" if code is not None else text


ERRORS = ErrorMap(
    system=SYSTEM,
    message=message,
    auth_hint="check organization_id, api_key, client_id and client_secret in "
    "connections.{connection}.settings",
    decode=loads,
)


# -- listings -------------------------------------------------------------------------------------
def changes(id_field: str) -> Incremental:
    """``changesSince=<UTC, whole seconds>``: at or after, so the instant is cut down to its
    second (a little more is read, never less) and the toolkit drops what was read before."""
    return Incremental(
        field=UPDATED,
        id=id_field,
        since="changesSince",
        inclusive=True,
        format="%Y-%m-%dT%H:%M:%SZ",
        resolution=timedelta(milliseconds=1),
        past_newest=True,
    )


PAGES = PageNumber(
    param="page", size_param="pageSize", start=0, total="Pagination.ResultWithoutFilter"
)


def listing(
    path: str, id_field: str, fields: tuple[str, ...], params: dict[str, str] | None = None
) -> Resource:
    return Resource(
        path,
        records="Collection",
        paginator=PAGES,
        incremental=changes(id_field),
        by_id=path + "/{id}",
        params={"fields": ",".join(fields), **(params or {})},
        page_size=MAX_PAGE_SIZE,
        total="Pagination.ResultWithoutFilter",
    )


def contacts_path(org: int) -> str:
    return f"/v1/{org}/contacts"


def products_path(org: int) -> str:
    return f"/v1/{org}/products"


def invoices_path(org: int) -> str:
    return f"/v1/{org}/invoices"


@lru_cache(maxsize=64)
def api_for(org: int) -> Api:
    """The listings of one organisation, by canonical entity. A company is a contact with
    ``IsPerson`` false, a (canonical) contact one with ``IsPerson`` true (README A2)."""
    contacts = contacts_path(org)
    return Api(
        ERRORS,
        {
            "company": listing(contacts, "ContactGuid", CONTACT_FIELDS,
                               {"queryFilter": "IsPerson eq 'false'"}),
            "contact": listing(contacts, "ContactGuid", CONTACT_FIELDS,
                               {"queryFilter": "IsPerson eq 'true'"}),
            "product": listing(products_path(org), "ProductGuid", PRODUCT_FIELDS),
            "invoice": listing(invoices_path(org), "Guid", INVOICE_ROW_FIELDS),
        },
    )


#: the id property of each entity's records
ID_FIELDS = {"company": "ContactGuid", "contact": "ContactGuid", "product": "ProductGuid",
             "invoice": "Guid", "payment": "Guid"}


def reference_of(key: str) -> str:
    """The ``ExternalReference`` a create writes for the engine's idempotency ``key``: the key
    itself when it fits the 128 characters Dinero keeps, else its SHA-256."""
    return key if len(key) <= 128 else hashlib.sha256(key.encode()).hexdigest()
