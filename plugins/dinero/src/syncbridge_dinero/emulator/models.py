"""The request models of the Dinero API, as the emulator binds and validates bodies.

Dinero (ASP.NET) binds JSON property names case-insensitively and silently drops properties
a model does not have (read-model names sent back on a write are discarded; README "More
facts"). What it binds is then validated: required properties, JSON types, lengths and the
enumerations the spec lists. :func:`bind` does both and raises :class:`BadRequest` with
Dinero's error code 42 and one ``validationErrors`` entry per property, named in the
model's own casing, so a client learns which property to fix.

Each model is a small table written from ``openapi.json`` (``components.schemas``); the
plugin's spec test checks every body the emulator accepted against the spec itself, so a
table that drifted from the spec fails there.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from syncbridge.emulator import BadRequest

#: Dinero's error code for a validation error
VALIDATION = 42

#: ``Unit`` values of products and product lines (spec)
UNITS = (
    "hours", "parts", "km", "day", "week", "month", "kilogram", "cubicMetre", "set", "litre",
    "box", "case", "carton", "metre", "package", "shipment", "squareMetre", "session", "tonne",
)
LINE_TYPES = ("Product", "Text")
PAYMENT_CONDITIONS = ("Netto", "NettoCash", "CurrentMonthOut", "Paid")
LANGUAGES = ("da-DK", "en-GB")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Prop:
    """One property: its JSON type (``string``, ``integer``, ``number``, ``boolean``,
    ``uuid``, ``date``, ``uri``, ``lines``), nullability, lengths and allowed values."""

    type: str
    nullable: bool = True
    min_length: int | None = None
    max_length: int | None = None
    values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Model:
    name: str
    props: dict[str, Prop]
    required: frozenset[str]


def _s(max_length: int | None = None, values: tuple[str, ...] | None = None) -> Prop:
    return Prop("string", max_length=max_length, values=values)


_PARTY = {
    "ExternalReference": _s(128),
    "Name": Prop("string", nullable=False, min_length=1),
    "Street": _s(), "ZipCode": _s(), "City": _s(),
    "CountryKey": Prop("string", nullable=False, min_length=1),
    "Phone": _s(), "Email": _s(), "Webpage": _s(), "AttPerson": _s(), "VatNumber": _s(),
    "EanNumber": _s(), "SENumber": _s(), "PNumber": _s(),
    "PaymentConditionType": _s(values=PAYMENT_CONDITIONS),
    "PaymentConditionNumberOfDays": Prop("integer"),
    "IsPerson": Prop("boolean", nullable=False), "IsMember": Prop("boolean", nullable=False),
    "MemberNumber": _s(), "UseCvr": Prop("boolean", nullable=False),
    "CompanyTypeKey": _s(), "InvoiceMailOutOptionKey": _s(),
    "PreferredInvoiceLanguageKey": _s(), "PreferredInvoiceCurrencyKey": _s(),
}
_PARTY_REQUIRED = frozenset({"CountryKey", "IsMember", "IsPerson", "Name", "UseCvr"})

CONTACT_CREATE = Model("ContactCreateModel", {"ContactGuid": Prop("uuid"), **_PARTY},
                       _PARTY_REQUIRED)
CONTACT_UPDATE = Model("ContactUpdateModel", dict(_PARTY), _PARTY_REQUIRED)

_PRODUCT = {
    "ProductNumber": _s(), "Name": _s(),
    "BaseAmountValue": Prop("number", nullable=False), "Quantity": Prop("number", nullable=False),
    "AccountNumber": Prop("integer", nullable=False),
    "Unit": Prop("string", nullable=False, min_length=1, values=UNITS),
    "ExternalReference": _s(128), "Comment": _s(128),
}
PRODUCT = Model("ProductCreateModel", _PRODUCT,
                frozenset({"AccountNumber", "BaseAmountValue", "Quantity", "Unit"}))

LINE = Model(
    "InvoiceLinesCreateModel",
    {
        "BaseAmountValue": Prop("number", nullable=False), "ProductGuid": Prop("uuid"),
        "Description": _s(), "Comments": _s(), "Quantity": Prop("number", nullable=False),
        "AccountNumber": Prop("integer", nullable=False), "Unit": _s(values=UNITS),
        "Discount": Prop("number", nullable=False), "LineType": _s(values=LINE_TYPES),
    },
    frozenset({"AccountNumber", "BaseAmountValue", "Discount", "Quantity"}),
)

_INVOICE = {
    "PaymentConditionNumberOfDays": Prop("integer"),
    "PaymentConditionType": _s(values=PAYMENT_CONDITIONS),
    "ReminderFee": Prop("number"), "ReminderInterestRate": Prop("number"),
    "IsMobilePayInvoiceEnabled": Prop("boolean"), "IsPensoPayEnabled": Prop("boolean"),
    "ContactGuid": Prop("uuid"), "Guid": Prop("uuid"), "ShowLinesInclVat": Prop("boolean"),
    "InvoiceTemplateId": Prop("uuid"), "Currency": _s(), "Language": _s(values=LANGUAGES),
    "ExternalReference": _s(128), "Description": _s(), "Comment": _s(), "Date": Prop("date"),
    "ProductLines": Prop("lines", nullable=False), "Address": _s(),
}
INVOICE_CREATE = Model("InvoiceCreateModel", _INVOICE, frozenset({"ProductLines"}))
INVOICE_UPDATE = Model(
    "InvoiceUpdateModel",
    {"Timestamp": Prop("string", nullable=False, min_length=1), **_INVOICE},
    frozenset({"ProductLines", "Timestamp"}),
)
BOOK = Model(
    "BookModel",
    {"Number": Prop("integer"), "Timestamp": Prop("string", nullable=False, min_length=1)},
    frozenset({"Timestamp"}),
)
TIMESTAMP = Model("TimestampObject", {"Timestamp": _s()}, frozenset())
PAYMENT = Model(
    "PaymentCreateModel",
    {
        "Timestamp": Prop("string", nullable=False, min_length=1),
        "DepositAccountNumber": Prop("integer", nullable=False),
        "RemainderIsFee": Prop("boolean", nullable=False),
        "AmountInForeignCurrency": Prop("number"), "ExternalReference": _s(128),
        "PaymentDate": Prop("date"),
        "Description": Prop("string", nullable=False, min_length=1),
        "Amount": Prop("number", nullable=False),
    },
    frozenset({"Amount", "DepositAccountNumber", "Description", "RemainderIsFee", "Timestamp"}),
)

#: ``SubscribeToWebhookModel``: both properties are nullable in the spec, but a subscription
#: without either means nothing, so the emulator requires them (assumption: README A18)
SUBSCRIBE = Model(
    "SubscribeToWebhookModel",
    {"Uri": Prop("uri", nullable=False), "EventId": Prop("string", nullable=False, min_length=1)},
    frozenset({"Uri", "EventId"}),
)
UNSUBSCRIBE = Model(
    "UnsubscribeFromWebhookModel",
    {"EventId": Prop("string", nullable=False, min_length=1)},
    frozenset({"EventId"}),
)


def _uri_error(value: str) -> str | None:
    """Why ``value`` is no absolute http(s) URI (``format: uri``), never quoting it: a
    subscriber's Uri may carry its secret token."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return "must be an absolute http or https URI"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http or https URI"
    return None


def _type_error(prop: Prop, value: Any) -> str | None:
    """Why ``value`` is not of ``prop``'s type, or None."""
    kind = prop.type
    if kind in ("string", "uuid", "date", "uri"):
        if not isinstance(value, str):
            return "must be a string"
        if kind == "uri":
            return _uri_error(value)
        if kind == "uuid":
            try:
                uuid.UUID(value)
            except ValueError:
                return f"{value!r} is not a GUID"
        if kind == "date" and not _DATE.fullmatch(value):
            return f"{value!r} is not a date (YYYY-MM-DD)"
        if prop.min_length is not None and len(value) < prop.min_length:
            return "must not be empty"
        if prop.max_length is not None and len(value) > prop.max_length:
            return f"must be at most {prop.max_length} characters"
        if prop.values is not None and value not in prop.values:
            return f"{value!r} is not one of: {', '.join(prop.values)}"
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return "must be a number"
    if kind == "integer" and value != int(value):
        return "must be a whole number"
    return None


def _bind_object(model: Model, body: Any, where: str, errors: dict[str, str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        errors[where or model.name] = "must be a JSON object"
        return {}
    by_lower = {name.lower(): name for name in model.props}
    bound: dict[str, Any] = {}
    for key, value in body.items():
        name = by_lower.get(str(key).lower())
        if name is not None:  # unknown (or read-only) properties are silently dropped
            bound[name] = value
    for name in sorted(model.required):
        if name not in bound:
            errors[f"{where}{name}"] = f"The {name} field is required."
    for name, value in list(bound.items()):
        prop = model.props[name]
        if value is None:
            if not prop.nullable:
                errors[f"{where}{name}"] = f"The {name} field is required."
            continue
        if prop.type == "lines":
            if not isinstance(value, list):
                errors[f"{where}{name}"] = "must be a list of lines"
                continue
            bound[name] = [
                _bind_object(LINE, line, f"{where}{name}[{index}].", errors)
                for index, line in enumerate(value)
            ]
            continue
        why = _type_error(prop, value)
        if why is not None:
            errors[f"{where}{name}"] = why
    return bound


def bind(model: Model, body: Any) -> dict[str, Any]:
    """``body`` bound to ``model`` (properties in the model's casing); BadRequest with code 42
    and the per-property ``validationErrors`` when it does not validate."""
    errors: dict[str, str] = {}
    bound = _bind_object(model, body, "", errors)
    if errors:
        raise BadRequest("Validation Error", 400, code=VALIDATION, validationErrors=errors)
    return bound
