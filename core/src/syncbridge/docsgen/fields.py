"""Describing pydantic models as tables of TOML keys: type, default, allowed values.

The configuration reference and every connector's settings table come from here, so that a
key, its default and its description are written once, in the model, and the documentation
can never disagree with what the loader accepts.
"""

from __future__ import annotations

import enum
import inspect
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from syncbridge.docsgen.text import code, inline, table

# bool before int: a bool is an int to issubclass
_SCALARS: dict[type, str] = {
    bool: "boolean",
    str: "string",
    int: "integer",
    float: "number",
    Decimal: "decimal",
    date: "date",
    datetime: "date-time",
    time: "time",
    timedelta: "duration",
    SecretStr: "string (secret)",
    SecretBytes: "bytes (secret)",
}


@dataclass(frozen=True)
class Key:
    """One documented key of a model."""

    name: str
    type: str
    default: str
    allowed: str
    description: str


@dataclass(frozen=True)
class Section:
    """A TOML table: its header path, the model behind it and its scalar keys."""

    path: str
    model: type[BaseModel]
    description: str
    keys: tuple[Key, ...]


def unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``(annotation without None, whether None was allowed)``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            return args[0], optional
        return typing.Union[tuple(args)], optional  # noqa: UP007
    return annotation, False


def strip_annotated(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def type_label(annotation: Any) -> str:
    """A TOML-minded name for a Python type: ``array of strings``, ``table of string``."""
    annotation = strip_annotated(annotation)
    annotation, optional = unwrap_optional(annotation)
    annotation = strip_annotated(annotation)
    label = _label(annotation)
    if not optional:
        return label
    return f"{label[:-1]}, optional)" if label.endswith(")") else f"{label} (optional)"


def _label(annotation: Any) -> str:
    if annotation is Any:
        return "value"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        kinds = {type(arg) for arg in args}
        return _SCALARS.get(kinds.pop(), "value") if len(kinds) == 1 else "value"
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set, frozenset):
        item = type_label(args[0]) if args else "values"
        return f"array of {_plural(item)}"
    if origin is dict or annotation is dict:
        value = type_label(args[1]) if len(args) == 2 else "values"
        return "table" if value == "value" else f"table of {_plural(value)}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_label(arg) for arg in args)
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            kinds = {type(member.value) for member in annotation}
            return _SCALARS.get(kinds.pop(), "value") if len(kinds) == 1 else "value"
        if issubclass(annotation, BaseModel):
            return "table"
        for base, name in _SCALARS.items():
            if issubclass(annotation, base):
                return name
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _plural(label: str) -> str:
    if label.startswith(("array ", "table ")):
        head, _, rest = label.partition(" ")
        return f"{head}s {rest}"
    if label in ("array", "table", "value"):
        return label + "s"
    if label.endswith(")"):
        return label
    return label + "s"


def python_type(annotation: Any) -> str:
    """A Python annotation as code would spell it, module paths left out."""
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    return re.sub(r"\b(?:[a-z_][a-z0-9_]*\.)+(?=[A-Za-z_])", "", text)


def toml_value(value: Any) -> str:
    """A Python default as it would be written in TOML."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return code("true" if value else "false")
    if isinstance(value, str):
        return code(f'"{value}"')
    if isinstance(value, (int, float, Decimal)):
        return code(value)
    if isinstance(value, timedelta):
        return code(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return code("[" + ", ".join(_toml_plain(item) for item in value) + "]")
    if isinstance(value, dict):
        items = ", ".join(f"{key} = {_toml_plain(item)}" for key, item in value.items())
        return code("{" + (f" {items} " if items else "") + "}")
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, type):
        return code(value.__name__)
    return code(value)


def _toml_plain(value: Any) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(_toml_plain(item) for item in value) + "]"
    return str(value)


def default_of(field: FieldInfo) -> str:
    """The default as TOML, ``required`` when there is none."""
    if field.default is not PydanticUndefined:
        return toml_value(field.default)
    if field.default_factory is not None:
        try:
            value = field.default_factory()  # type: ignore[call-arg]
        except TypeError:  # a factory that needs the validated data
            return "computed"
        return toml_value(value)
    return "**required**"


def allowed_values(field: FieldInfo) -> str:
    """Choices (Literal, enums) and numeric bounds of a field."""
    annotation, _optional = unwrap_optional(strip_annotated(field.annotation))
    annotation = strip_annotated(annotation)
    parts: list[str] = []
    if typing.get_origin(annotation) is Literal:
        parts.extend(_toml_plain(arg) for arg in typing.get_args(annotation))
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        parts.extend(_toml_plain(member.value) for member in annotation)
    choices = ", ".join(code(part) for part in parts)
    bounds = []
    for item in field.metadata:
        for attribute, symbol in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            limit = getattr(item, attribute, None)
            if limit is not None:
                bounds.append(f"{symbol} {limit}")
        if isinstance(item, annotated_types.MinLen) and item.min_length:
            bounds.append(f"at least {item.min_length} long")
    return "; ".join(part for part in (choices, html_safe(", ".join(bounds))) if part)


def html_safe(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


def section_model(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """For a field holding a sub-table: ``(model, keyed)``; keyed = ``dict[str, Model]``."""
    annotation, _optional = unwrap_optional(strip_annotated(annotation))
    annotation = strip_annotated(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if typing.get_origin(annotation) is dict:
        args = typing.get_args(annotation)
        value = strip_annotated(args[1]) if len(args) == 2 else None
        if isinstance(value, type) and issubclass(value, BaseModel):
            return value, True
    return None


def sections(
    model: type[BaseModel], path: str = "", description: str = "", placeholder: str = "name"
) -> Iterator[Section]:
    """``model`` and every model nested in it, as TOML tables in the order a file reads."""
    keys: list[Key] = []
    nested: list[tuple[str, type[BaseModel], str, str]] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        found = section_model(field.annotation)
        if found is not None:
            sub, keyed = found
            child_placeholder = _placeholder(key)
            sub_path = f"{path}.{key}" if path else key
            if keyed:
                sub_path += f".<{child_placeholder}>"
            nested.append((sub_path, sub, field.description or "", child_placeholder))
            continue
        keys.append(
            Key(
                name=key,
                type=type_label(field.annotation),
                default=default_of(field),
                allowed=allowed_values(field),
                description=inline(field.description or ""),
            )
        )
    if keys or not nested:
        yield Section(path, model, description or _doc(model), tuple(keys))
    for sub_path, sub, sub_description, child_placeholder in nested:
        yield from sections(sub, sub_path, sub_description or _doc(sub), child_placeholder)


def _placeholder(key: str) -> str:
    return {"entities": "entity", "connections": "connection", "syncs": "sync"}.get(key, "name")


def _doc(model: type[BaseModel]) -> str:
    doc = model.__doc__ or ""
    # pydantic gives undocumented models BaseModel's own docstring: not about this model
    if not doc or doc == BaseModel.__doc__:
        return ""
    return " ".join(inspect.cleandoc(doc).split("\n\n", 1)[0].split())


def keys_table(keys: tuple[Key, ...]) -> str:
    """The table of a section's keys."""
    return table(
        ("key", "type", "default", "allowed", "description"),
        ((code(key.name), key.type, key.default, key.allowed, key.description) for key in keys),
    )
