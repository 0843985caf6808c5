"""Native <-> canonical: what each canonical field is, and how its values cross the database.

The native record of this connector is a dict keyed by *canonical field names* (the column
renaming of a custom mapping happens in :mod:`syncbridge_sql.schema`), with ``id`` as a string
and ``updated_at`` as an aware UTC datetime. That keeps :func:`map_in` / :func:`map_out`
trivial and independent of settings, which the ``map`` hook never sees.

Values are converted on the way in and out by small per-column functions chosen once per
table from the field's kind and the column's actual type, so that a reflected table of a
management application (a DECIMAL stored as VARCHAR, a boolean as TINYINT, JSON as LONGTEXT)
reads into the same native values as the connector's own tables.
"""

from __future__ import annotations

import functools
import json
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum
from typing import Annotated, Any, Union, get_args, get_origin

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

from syncbridge.models import META_FIELDS, MODELS, CanonicalRecord
from syncbridge.records import NativeRecord
from syncbridge_sql.timestamps import stamp_converters

Converter = Callable[[Any], Any]


class Kind(StrEnum):
    """How a canonical field is stored."""

    TEXT = "text"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    INT = "int"
    ENUM = "enum"
    #: lists and nested models (document ``lines``): stored as JSON
    JSON = "json"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One canonical field as the database sees it."""

    name: str
    kind: Kind
    nullable: bool
    max_digits: int | None = None
    decimal_places: int | None = None


def _unwrap(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any], bool]:
    """Strip ``Annotated`` and ``X | None`` down to the base type, collecting metadata."""
    nullable = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            base, *extra = get_args(annotation)
            metadata = [*metadata, *extra]
            annotation = base
        elif origin is Union or origin is types.UnionType:
            args = [arg for arg in get_args(annotation) if arg is not type(None)]
            nullable = nullable or len(args) < len(get_args(annotation))
            if len(args) != 1:
                return annotation, metadata, nullable
            annotation = args[0]
        else:
            return annotation, metadata, nullable


def _kind(base: Any) -> Kind:
    if get_origin(base) in (list, dict, tuple, set) or base in (list, dict, tuple, set):
        return Kind.JSON
    if not isinstance(base, type):
        return Kind.JSON  # a union of several types: JSON keeps whichever it is
    if issubclass(base, BaseModel):
        return Kind.JSON
    # order matters: StrEnum is a str, bool an int, datetime a date
    for cls, kind in (
        (Enum, Kind.ENUM),
        (bool, Kind.BOOL),
        (int, Kind.INT),
        (Decimal, Kind.DECIMAL),
        (datetime, Kind.DATETIME),
        (date, Kind.DATE),
    ):
        if issubclass(base, cls):
            return kind
    # str and the string-like pydantic types (EmailStr, ...), which subclass nothing useful
    return Kind.TEXT


def _decimal_bounds(metadata: list[Any]) -> tuple[int | None, int | None]:
    digits: int | None = None
    places: int | None = None
    for item in metadata:
        if isinstance(item, FieldInfo):
            inner_digits, inner_places = _decimal_bounds(list(item.metadata))
            digits, places = digits or inner_digits, places if places is not None else inner_places
        digits = digits or getattr(item, "max_digits", None)
        if places is None:
            places = getattr(item, "decimal_places", None)
    return digits, places


@functools.cache
def field_specs(entity: str) -> dict[str, FieldSpec]:
    """The storable fields of ``entity``'s canonical model (``id``/``updated_at`` excluded)."""
    specs: dict[str, FieldSpec] = {}
    for name, info in MODELS[entity].model_fields.items():
        if name in META_FIELDS:
            continue
        base, metadata, nullable = _unwrap(info.annotation, list(info.metadata))
        kind = _kind(base)
        digits, places = _decimal_bounds(metadata) if kind is Kind.DECIMAL else (None, None)
        specs[name] = FieldSpec(name, kind, nullable, digits, places)
    return specs


# -- value converters (never called with None) ---------------------------------------------
def as_decimal(value: Any) -> Decimal:
    """A Decimal from a Decimal, int, numeric string or float (via repr: no binary noise)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


def decimal_to_text(value: Any) -> str:
    """Exact text for a Decimal: plain notation, trailing zeros dropped (the canonical form)."""
    number = as_decimal(value)
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _float_to_decimal(value: Any) -> Decimal:
    return as_decimal(float(value))


def _decimal_to_float(value: Any) -> float:
    return float(as_decimal(value))


def _decimal_to_int(value: Any) -> int:
    number = as_decimal(value)
    if number != number.to_integral_value():
        raise ValueError(f"{value} does not fit an integer column")
    return int(number)


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip()[:10])


def _date_to_datetime(value: Any) -> datetime:
    return datetime.combine(as_date(value), time())


def _date_to_text(value: Any) -> str:
    return as_date(value).isoformat()


_TRUE_WORDS = frozenset({"1", "true", "t", "y", "yes", "on"})


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_WORDS
    return bool(value)


def _bool_to_int(value: Any) -> int:
    return int(as_bool(value))


def _bool_to_text(value: Any) -> str:
    return "1" if as_bool(value) else "0"


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _to_json(value: Any) -> Any:
    """JSON-ready data: Decimals become strings (exact), dates ISO strings."""
    return to_jsonable_python(value)


def _to_json_text(value: Any) -> str:
    return json.dumps(to_jsonable_python(value), separators=(",", ":"), ensure_ascii=False)


def _from_json(value: Any) -> Any:
    """Drivers return JSON either decoded or as text (MariaDB's JSON is LONGTEXT)."""
    if isinstance(value, bytes | bytearray):
        value = value.decode()
    return json.loads(value) if isinstance(value, str) else value


def _stringify(value: Any) -> str:
    return str(value)


def _text_to_int(value: Any) -> int:
    """A text field stored in an integer column: a reference (``sales_data.company_id`` in
    OfiCRM's ``id_cliente``), text in canonical form. Not a number: ValueError, so that the
    record fails alone with the field named, before the database sees it."""
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number (the column is an integer)") from None


def converters(
    kind: Kind, column_type: sa.types.TypeEngine[Any], zone: tzinfo = UTC
) -> tuple[Converter | None, Converter | None]:
    """``(to_db, from_db)`` for a field of ``kind`` stored in a column of ``column_type``;
    ``zone`` is that of naive timestamps (:attr:`SqlSettings.timezone`).

    ``None`` means "pass the value through": the common case on the connector's own tables,
    kept free of per-value calls because 100k-row reads and writes go through here.
    """
    text = isinstance(column_type, sa.String)
    if kind is Kind.DECIMAL:
        if isinstance(column_type, sa.Float):
            return _decimal_to_float, _float_to_decimal
        if isinstance(column_type, sa.Numeric):
            return as_decimal, None
        if isinstance(column_type, sa.Integer):
            return _decimal_to_int, as_decimal
        return (decimal_to_text, as_decimal) if text else (as_decimal, as_decimal)
    if kind is Kind.DATE:
        if isinstance(column_type, sa.DateTime):
            return _date_to_datetime, as_date
        if isinstance(column_type, sa.Date):
            return as_date, None
        return _date_to_text, as_date
    if kind is Kind.DATETIME:
        return stamp_converters(column_type, zone)
    if kind is Kind.BOOL:
        if isinstance(column_type, sa.Boolean):
            return as_bool, None
        if text:
            return _bool_to_text, as_bool
        return _bool_to_int, as_bool
    if kind is Kind.JSON:
        if isinstance(column_type, sa.JSON):
            return _to_json, _from_json
        return _to_json_text, _from_json
    if kind is Kind.ENUM:
        return _enum_value, (None if text else _stringify)
    if kind is Kind.INT:
        return (_stringify, int) if text else (None, None)
    # TEXT
    if isinstance(column_type, sa.Integer):
        return _text_to_int, _stringify
    return (None, None) if text else (None, _stringify)


# -- the map hook ---------------------------------------------------------------------------
@functools.cache
def _json_fields(entity: str) -> frozenset[str]:
    return frozenset(name for name, spec in field_specs(entity).items() if spec.kind is Kind.JSON)


def map_in(entity: str, record: NativeRecord) -> CanonicalRecord:
    """Native dict -> canonical model; pydantic's ValidationError names any bad field."""
    if not isinstance(record, dict):
        raise TypeError(f"map(in) needs a native dict, got {type(record).__name__}")
    return MODELS[entity].model_validate(record)


def map_out(entity: str, record: CanonicalRecord) -> NativeRecord:
    """Canonical model -> native dict, as :func:`~syncbridge_sql.schema` writes and reads it.

    Python values (Decimal, date, enum) except for JSON fields, which are dumped in JSON mode
    so that the native form of ``lines`` is exactly what comes back from the database: a list
    of dicts with Decimals as normalised strings.
    """
    if not isinstance(record, CanonicalRecord):
        raise TypeError(f"map(out) needs a canonical record, got {type(record).__name__}")
    native = record.model_dump(mode="python", exclude=set(META_FIELDS))
    json_fields = _json_fields(entity)
    if json_fields:
        native.update(record.model_dump(mode="json", include=set(json_fields)))
    return native
