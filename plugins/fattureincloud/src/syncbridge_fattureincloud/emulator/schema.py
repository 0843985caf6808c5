"""Request-body validation of the emulated API, written from the official OpenAPI spec.

The emulator must refuse what Fatture in Cloud refuses, and the spec is the contract: a
client without ``name``, a ``null`` where the schema has no ``nullable``, a string where a
number belongs, a value outside an enum. Each field is described by a small spec:

``"str"``, ``"int"``, ``"num"``, ``"bool"``, ``"date"``
    scalar types (``date`` = ``YYYY-MM-DD``); a trailing ``?`` makes the field nullable;
``Enum((...), nullable)``
    one of the listed values;
``Obj({...}, required=(...), nullable=...)``
    a nested object; unknown keys are accepted (the spec does not forbid them);
``Arr(item, nullable=...)``
    a list.

Fields the spec marks ``readOnly`` (totals, ``stock_current``...) are listed in
:data:`READ_ONLY` and dropped from what is stored, as the real API ignores them.
Errors are Laravel-style, the shape Fatture in Cloud answers with:
``{"data.name": ["Il campo data.name è obbligatorio."]}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

Spec = Any


@dataclass(frozen=True)
class Enum:
    values: tuple[str | None, ...]
    nullable: bool = False


@dataclass(frozen=True)
class Obj:
    fields: dict[str, Spec]
    required: tuple[str, ...] = ()
    nullable: bool = False


@dataclass(frozen=True)
class Arr:
    item: Spec
    nullable: bool = False


@dataclass(frozen=True)
class Range:
    """A number within ``[low, high]`` (VAT values, percentages)."""

    low: float
    high: float
    nullable: bool = False


Errors = dict[str, list[str]]

_TYPE_NAMES = {
    "str": "una stringa",
    "int": "un numero intero",
    "num": "un numero",
    "bool": "vero o falso",
    "date": "una data valida (AAAA-MM-GG)",
}


def _nullable(spec: Spec) -> bool:
    if isinstance(spec, str):
        return spec.endswith("?")
    return bool(getattr(spec, "nullable", False))


def _add(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def _scalar_ok(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "num":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "date":
        if not isinstance(value, str):
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return len(value) == 10
    raise AssertionError(f"unknown scalar spec {kind!r}")


def check(value: Any, spec: Spec, path: str, errors: Errors) -> None:
    """Append to ``errors`` what is wrong with ``value`` at ``path`` against ``spec``."""
    if value is None:
        if not _nullable(spec):
            _add(errors, path, f"Il campo {path} non può essere nullo.")
        return
    if isinstance(spec, str):
        kind = spec.rstrip("?")
        if not _scalar_ok(kind, value):
            _add(errors, path, f"Il campo {path} deve essere {_TYPE_NAMES[kind]}.")
    elif isinstance(spec, Enum):
        if value not in spec.values:
            _add(errors, path, f"Il valore selezionato per {path} non è valido.")
    elif isinstance(spec, Range):
        if not _scalar_ok("num", value):
            _add(errors, path, f"Il campo {path} deve essere un numero.")
        elif not spec.low <= value <= spec.high:
            _add(errors, path, f"Il campo {path} deve essere tra {spec.low:g} e {spec.high:g}.")
    elif isinstance(spec, Arr):
        if not isinstance(value, list):
            _add(errors, path, f"Il campo {path} deve essere una lista.")
            return
        for index, item in enumerate(value):
            check(item, spec.item, f"{path}.{index}", errors)
    elif isinstance(spec, Obj):
        if not isinstance(value, dict):
            _add(errors, path, f"Il campo {path} deve essere un oggetto.")
            return
        for name in spec.required:
            given = value.get(name)
            if given is None or (isinstance(given, str) and not given.strip()):
                _add(errors, f"{path}.{name}", f"Il campo {path}.{name} è obbligatorio.")
        for name, sub in spec.fields.items():
            if name in value and not (name in spec.required and value[name] is None):
                check(value[name], sub, f"{path}.{name}", errors)
    else:  # pragma: no cover - a programming error in the tables below
        raise AssertionError(f"bad spec {spec!r}")


# -- the schemas of the request bodies the emulator accepts ---------------------------------

PAYMENT_TERMS_TYPE = Enum(("standard", "end_of_month"))
VAT_TYPE = Obj(
    {
        "id": "int",
        "value": Range(0, 100),
        "notes": "str",
        "e_invoice": "bool",
        "ei_type": "str",
        "ei_description": "str",
        "is_disabled": "bool",
        "default": "bool",
    },
    required=("value",),
)
PAYMENT_ACCOUNT = Obj(
    {
        "id": "int?",
        "name": "str?",
        "type": Enum(("standard", "bank")),
        "iban": "str?",
        "sia": "str?",
        "cuc": "str?",
        "virtual": "bool?",
    },
    nullable=True,
)
PAYMENT_METHOD = Obj(
    {
        "id": "int",
        "name": "str",
        "type": Enum(("standard", "riba")),
        "is_default": "bool",
        "default_payment_account": PAYMENT_ACCOUNT,
        "details": Arr(Obj({"title": "str?", "description": "str?"})),
        "bank_iban": "str",
        "bank_name": "str",
        "bank_beneficiary": "str",
        "ei_payment_method": "str",
    },
    required=("name",),
)
_PARTY: dict[str, Spec] = {
    "id": "int",
    "code": "str",
    "name": "str",
    "type": Enum(("company", "person", "pa", "condo")),
    "first_name": "str",
    "last_name": "str",
    "contact_person": "str",
    "vat_number": "str",
    "tax_code": "str",
    "address_street": "str",
    "address_postal_code": "str",
    "address_city": "str",
    "address_province": "str",
    "address_extra": "str",
    "country": "str",
    "country_iso": "str",
    "email": "str",
    "certified_email": "str",
    "phone": "str",
    "fax": "str",
    "notes": "str",
    "default_vat": VAT_TYPE,
    "default_payment_terms": "int",
    "default_payment_terms_type": PAYMENT_TERMS_TYPE,
    "default_payment_method": PAYMENT_METHOD,
    "bank_name": "str",
    "bank_iban": "str",
    "bank_swift_code": "str",
    "shipping_address": "str",
    "e_invoice": "bool",
    "ei_code": "str",
    "has_intent_declaration": "bool",
    "intent_declaration_protocol_number": "str",
    "intent_declaration_protocol_date": "date",
}
CLIENT = Obj(
    {
        **_PARTY,
        "discount_highlight": "bool",
        "default_discount": "num",
        "price_list_id": "str",
    },
    required=("name",),
)
ENTITY = Obj(dict(_PARTY), required=("name",))
PRODUCT = Obj(
    {
        "id": "int",
        "name": "str",
        "code": "str",
        "net_price": "num",
        "gross_price": "num",
        "use_gross_price": "bool",
        "default_vat": VAT_TYPE,
        "net_cost": "num",
        "measure": "str",
        "category": "str",
        "notes": "str",
        "in_stock": "bool",
        "stock_initial": "num",
        "average_cost": "num",
        "average_price": "num",
    },
    required=("name",),
)
DOCUMENT_TYPES = (
    "invoice",
    "quote",
    "proforma",
    "receipt",
    "delivery_note",
    "credit_note",
    "order",
    "work_report",
    "supplier_order",
    "self_own_invoice",
    "self_supplier_invoice",
)
ITEM = Obj(
    {
        "id": "int?",
        "product_id": "int?",
        "code": "str?",
        "name": "str?",
        "category": "str?",
        "qty": "num?",
        "measure": "str?",
        "net_price": "num?",
        "gross_price": "num?",
        "vat": Obj({"id": "int?", "value": "num?"}, nullable=True),
        "not_taxable": "bool?",
        "apply_withholding_taxes": "bool?",
        "discount": "num?",
        "discount_highlight": "bool?",
        "in_dn": "bool?",
        "stock": "bool?",
    }
)
PAYMENT = Obj(
    {
        "id": "int?",
        "due_date": "date?",
        "amount": "num?",
        "status": Enum(("not_paid", "paid", "reversed")),
        "payment_account": PAYMENT_ACCOUNT,
        "paid_date": "date?",
        "payment_terms": Obj({"days": "int?", "type": PAYMENT_TERMS_TYPE}),
    }
)
DOCUMENT = Obj(
    {
        "id": "int",
        "entity": ENTITY,
        "type": Enum(DOCUMENT_TYPES),
        "number": "int",
        "numeration": "str",
        "date": "date",
        "year": "int",
        "currency": Obj({"id": "str", "symbol": "str", "exchange_rate": "str"}),
        "language": Obj({"code": "str", "name": "str"}, required=("code", "name")),
        "subject": "str",
        "visible_subject": "str",
        "notes": "str",
        "rivalsa": Range(0, 100),
        "cassa": Range(0, 100),
        "withholding_tax": Range(0, 100),
        "payment_method": PAYMENT_METHOD,
        "use_split_payment": "bool",
        "use_gross_prices": "bool",
        "e_invoice": "bool",
        "items_list": Arr(ITEM),
        "payments_list": Arr(PAYMENT),
        "show_payments": "bool",
        "show_payment_method": "bool",
        "show_totals": Enum(("none", "nets", "all")),
        "amount_due_discount": "num",
        "next_due_date": "date",
        "ei_status": Enum(
            (
                "attempt",
                "missing",
                "not_sent",
                "sent",
                "pending",
                "processing",
                "error",
                "discarded",
                "not_delivered",
                "accepted",
                "rejected",
                "no_response",
                "manual_accepted",
                "manual_rejected",
            )
        ),
        "price_list_id": "str",
        "locked": "bool",
    }
)
OPTIONS = Obj({"fix_payments": "bool"}, nullable=False)

#: fields the spec marks readOnly (or the server owns): never taken from a request
READ_ONLY: dict[str, frozenset[str]] = {
    "client": frozenset({"id", "created_at", "updated_at"}),
    "product": frozenset({"id", "stock_current", "created_at", "updated_at"}),
    "document": frozenset(
        {
            "id",
            "amount_net",
            "amount_vat",
            "amount_gross",
            "amount_rivalsa",
            "amount_cassa",
            "amount_cassa2",
            "amount_withholding_tax",
            "amount_other_withholding_tax",
            "attachment_url",
            "url",
            "created_at",
            "updated_at",
            # the server decides these: a client cannot unlock or "send" a document by writing
            "locked",
            "ei_status",
        }
    ),
}


@dataclass
class Body:
    """A validated request body: ``data`` (read-only fields dropped) and ``options``."""

    data: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)


def validate_body(payload: Any, schema: Obj, kind: str, *, with_options: bool = False) -> Body:
    """``{"data": {...}}`` checked against ``schema``; raises :class:`Invalid` with the errors."""
    errors: Errors = {}
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise Invalid({"data": ["Il campo data è obbligatorio."]})
    check(payload["data"], schema, "data", errors)
    options = payload.get("options") if with_options else None
    if options is not None:
        check(options, OPTIONS, "options", errors)
    if errors:
        raise Invalid(errors)
    data = {k: v for k, v in payload["data"].items() if k not in READ_ONLY[kind]}
    return Body(data, dict(options or {}))


class Invalid(Exception):
    """A body the API answers with 422 and these field errors."""

    def __init__(
        self,
        errors: Errors,
        message: str = "I dati inviati non sono validi.",
        *,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.errors = errors
        self.message = message
        #: the body's ``extra`` (e.g. the computed ``totals`` when payments do not add up)
        self.extra = extra
