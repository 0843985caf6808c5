"""The canonical models page, generated from :mod:`syncbridge.models`.

``match``, ``fields``, ``exclude`` and ``filter`` in the config, and every connector's
``map``, speak in canonical field names; users and plugin authors need the list, and it
must be the list the loader checks against.
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel

from syncbridge.docsgen.fields import default_of, strip_annotated, type_label, unwrap_optional
from syncbridge.docsgen.text import code, first_line, inline, table
from syncbridge.models import DEPENDENCY_ORDER, META_FIELDS, MODELS, REFERENCE_DATA

PATH = "reference/models.md"


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a ``list[Model]`` field, if it is one."""
    annotation, _optional = unwrap_optional(strip_annotated(annotation))
    args = getattr(annotation, "__args__", ())
    if getattr(annotation, "__origin__", None) is list and args:
        item = strip_annotated(args[0])
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None


def _choices(annotation: Any) -> str:
    annotation, _optional = unwrap_optional(strip_annotated(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return ", ".join(code(member.value) for member in annotation)
    return ""


def _fields_table(model: type[BaseModel], references: dict[str, str], prefix: str = "") -> str:
    rows = []
    for name, field in model.model_fields.items():
        if name in META_FIELDS and not prefix:
            continue
        target = references.get(prefix + name)
        notes = [f"id of a linked {code(target)}" if target else "", _choices(field.annotation)]
        if field.description:
            notes.append(inline(field.description))
        rows.append(
            (
                code(name),
                type_label(field.annotation),
                default_of(field),
                "; ".join(note for note in notes if note),
            )
        )
    return table(("field", "type", "default", "notes"), rows)


def _entity(name: str) -> str:
    model = MODELS[name]
    parts = [f"## {name}"]
    summary = first_line(model.__doc__) if model.__doc__ else ""
    kind = " Reference data: linked by value." if name in REFERENCE_DATA else ""
    parts.append(f"{summary}{kind} Model: `{model.__module__}.{model.__name__}`.".strip())
    parts.append(_fields_table(model, model.references))
    for field_name, field in model.model_fields.items():
        item = _item_model(field.annotation)
        if item is not None:
            about = first_line(item.__doc__).rstrip(".")
            about = f" — {about[:1].lower()}{about[1:]}" if about else ""
            parts.append(f"Each item of {code(field_name)}{about}:")
            parts.append(_fields_table(item, model.references, prefix=f"{field_name}."))
    return "\n\n".join(parts)


def render() -> str:
    """The whole page."""
    parts = [
        "# Canonical models",
        "The vocabulary every connector maps to and from, and the field names the "
        "configuration uses. Generated from `syncbridge.models`. Every record also has `id` "
        "(its native id on the side it was read from) and `updated_at`; these identify it "
        "and never take part in comparisons.",
        "Values are normalised by the models: money and quantities are `Decimal` (never "
        "float), dates are timezone-aware, countries ISO 3166-1 alpha-2, currencies ISO 4217, "
        "VAT numbers and tax codes in their compact national form. A field holding the id of "
        "another entity (`company_id`, `lines.product_id`) is translated between the two "
        "systems' ids through the links of that entity.",
        "Entities, in the order a run processes them: "
        + ", ".join(f"[{code(name)}](#{name})" for name in DEPENDENCY_ORDER)
        + ".",
    ]
    parts.extend(_entity(name) for name in DEPENDENCY_ORDER)
    return "\n\n".join(parts) + "\n"
