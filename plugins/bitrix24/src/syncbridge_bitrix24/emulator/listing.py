"""What list methods do with ``filter``, ``order``, ``select`` and ``start``.

Filter keys carry their operator in front of the field name (``>=DATE_MODIFY``, ``@ID``,
``%TITLE``; ``list-methods-pecularities.md``); values are compared by the field's kind, so
``>ID`` compares numbers and ``>=DATE_MODIFY`` instants, whatever text the query carried.
Timestamps are compared as rendered, in whole seconds, which is what makes two records changed
in the same second indistinguishable to a filter, as on the real portal. Multi-fields (PHONE,
EMAIL) match exactly only. Unknown fields in a filter are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from syncbridge_bitrix24.emulator.calls import MethodError

Kind = Literal["int", "number", "datetime", "date", "text", "multi", "list"]

#: page size of every list method
PAGE = 50

# longest first, so that ">=" is not read as ">" followed by a field "=DATE"
OPERATORS = ("!=%", "=%", "%=", "!%", "!@", ">=", "<=", "!=", ">", "<", "@", "%", "=", "!")


def split_key(key: str) -> tuple[str, str]:
    """``">=DATE_MODIFY"`` -> ``(">=", "DATE_MODIFY")``; no operator means ``=``."""
    for operator in OPERATORS:
        if key.startswith(operator):
            return operator, key[len(operator) :]
    return "=", key


def _values(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str) and "," in value:
        return [part.strip() for part in value.split(",")]
    return [value]


def coerce(kind: Kind, value: Any) -> Any:
    """A filter or record value in comparable form, or None when it has none."""
    if value is None or value == "":
        return None
    try:
        if kind == "int":
            return int(str(value))
        if kind == "number":
            return Decimal(str(value))
        if kind == "datetime":
            return datetime.fromisoformat(str(value)).replace(microsecond=0)
        if kind == "date":
            return date.fromisoformat(str(value)[:10])
    except (ValueError, InvalidOperation):
        raise MethodError("", f"cannot compare {value!r} with a {kind} field") from None
    return str(value).casefold()


def _like(pattern: str, value: str, explicit: bool) -> bool:
    if not explicit:
        return pattern.casefold() in value.casefold()
    regex = ".*".join(re.escape(part) for part in pattern.split("%"))
    return re.fullmatch(regex, value, flags=re.IGNORECASE | re.DOTALL) is not None


def _compare(operator: str, kind: Kind, actual: Any, wanted: Any) -> bool:
    if kind == "multi":
        found = {str(entry.get("VALUE")) for entry in actual or [] if isinstance(entry, dict)}
        hit = any(str(value) in found for value in _values(wanted))
        return bool(not hit if operator in ("!", "!=", "!@") else hit)
    if operator in ("%", "=%", "%=", "!%", "!=%"):
        hit = actual is not None and _like(str(wanted), str(actual), operator != "%")
        return not hit if operator.startswith("!") else hit
    mine = coerce(kind, actual)
    if operator in ("=", "!") and isinstance(wanted, list | tuple | Mapping):
        operator = "@" if operator == "=" else "!@"  # a list compared for equality: IN
    if operator in ("@", "!@"):
        hit = mine in {coerce(kind, value) for value in _values(wanted)}
        return not hit if operator == "!@" else hit
    other = coerce(kind, wanted)
    if operator in ("=", "!", "!="):
        return bool((mine == other) != (operator != "="))
    if mine is None or other is None:
        return False
    return bool(
        {
            ">": mine > other,
            ">=": mine >= other,
            "<": mine < other,
            "<=": mine <= other,
        }[operator]
    )


def matches(
    record: Mapping[str, Any], filter: Mapping[str, Any], kinds: Mapping[str, Kind]
) -> bool:
    """Whether ``record`` passes every condition of ``filter``."""
    for key, wanted in filter.items():
        operator, field = split_key(str(key))
        if field not in kinds:
            continue
        if not _compare(operator, kinds[field], record.get(field), wanted):
            return False
    return True


def ordered(
    records: list[dict[str, Any]],
    order: Mapping[str, Any],
    kinds: Mapping[str, Kind],
    id_field: str,
) -> list[dict[str, Any]]:
    """``records`` sorted by ``order`` (``{FIELD: ASC|DESC}``), by id when none is given."""
    keys = [(str(f), str(d).upper()) for f, d in order.items() if f in kinds] or [(id_field, "ASC")]
    result = list(records)
    for field, direction in reversed(keys):
        kind = kinds[field]

        def sort_key(row: dict[str, Any], field: str = field, kind: Kind = kind) -> tuple[int, Any]:
            value = coerce(kind, row.get(field)) if kind not in ("multi", "list") else None
            return (0, "") if value is None else (1, value)

        result.sort(key=sort_key, reverse=direction == "DESC")
    return result


def selected(
    record: Mapping[str, Any], select: Sequence[str], default: Iterable[str]
) -> dict[str, Any]:
    """The fields ``select`` asks for: ``*`` (or nothing) means the standard ones."""
    names: list[str] = []
    for name in select or ["*"]:
        if name == "*":
            names.extend(default)
        elif name.endswith("*"):
            continue  # "UF_*": custom fields, of which the emulated portal has none
        elif name not in names:
            names.append(name)
    return {name: record.get(name) for name in dict.fromkeys(names)}


@dataclass
class Window:
    """One page of a list: its records and the ``total``/``next`` the reply carries."""

    items: list[dict[str, Any]]
    total: int
    next: int | None


def window(records: list[dict[str, Any]], start: Any) -> Window:
    """Page ``start`` of ``records``: ``start=-1`` skips the count (total 0, no next)."""
    try:
        offset = int(start or 0)
    except (TypeError, ValueError):
        offset = 0
    if offset == -1:
        return Window(records[:PAGE], 0, None)
    offset = max(0, offset)
    following = offset + PAGE
    return Window(
        records[offset:following], len(records), following if following < len(records) else None
    )


def as_list(value: Any) -> list[Any]:
    """A list parameter as PHP has it: a list, a dict of index -> item, or one value."""
    if value is None or value == "":
        return []
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def as_map(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}
