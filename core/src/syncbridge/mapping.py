"""What every connector's ``map`` hook does before its own mapping: route by direction, and
read a native text field.

A connector's ``map`` is then one line, ``return dispatch(entity, record, direction,
mapping.map_in, mapping.map_out)``, and every connector rejects a wrong argument with the same
message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from syncbridge.models import CanonicalRecord
from syncbridge.records import NativeRecord


def dispatch(
    entity: str,
    record: NativeRecord | CanonicalRecord,
    direction: Literal["in", "out"],
    map_in: Callable[[str, NativeRecord], CanonicalRecord],
    map_out: Callable[[str, CanonicalRecord], NativeRecord],
) -> CanonicalRecord | NativeRecord:
    """Call ``map_in`` for a native dict going in, ``map_out`` for a canonical record going out."""
    if direction == "in":
        if not isinstance(record, dict):
            raise TypeError(f"map(in) needs a native dict, got {type(record).__name__}")
        return map_in(entity, record)
    if direction == "out":
        if not isinstance(record, CanonicalRecord):
            raise TypeError(f"map(out) needs a canonical record, got {type(record).__name__}")
        return map_out(entity, record)
    raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")


def text(value: Any) -> str | None:
    """A native text field as canonical text: trimmed, None for null or blank.

    APIs send "no value" as null, ``""`` or whitespace, and numbers where text is meant
    (a postcode); every connector reads its text fields through this one function.
    """
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None
