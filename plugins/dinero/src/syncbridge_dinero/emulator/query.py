"""The list parameters every Dinero listing takes: ``fields``, ``queryFilter``,
``changesSince``, ``deletedOnly``, ``page`` and ``pageSize``, and the ``Collection`` +
``Pagination`` envelope (spec ``PaginationDetails``).

* ``fields`` is a comma list matched case-insensitively and **echoed in the casing asked
  for** (``fields=name,contactGuid`` answers ``{"name": ..., "contactGuid": ...}``); a name
  the read model lacks is refused (README assumption 7).
* ``queryFilter`` is ``<Field> <eq|contains> '<value>'`` conditions joined with ``;`` (AND),
  values matched case-insensitively; a field the endpoint does not filter on, or a bare term,
  is a 400.
* ``changesSince`` is a UTC instant ``YYYY-MM-DDTHH:mm:ssZ``; records created, updated or
  deleted **at or after** it are listed.
* ``statusFilter`` (invoices) keeps the rows whose ``Status`` it names.
* ``page`` counts from 0; ``pageSize`` defaults to 100 and may be at most 1000.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from syncbridge.emulator import BadRequest

from .models import VALIDATION

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
_CONDITION = re.compile(r"\s*(\w+)\s+(eq|contains)\s+'((?:[^']|'')*)'\s*", re.IGNORECASE)
_SINCE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _invalid(message: str) -> BadRequest:
    return BadRequest(message, 400, code=VALIDATION)


def int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise _invalid(f"The value '{raw}' is not valid for {name}.") from None


def bool_param(request: Request, name: str) -> bool:
    raw = (request.query_params.get(name) or "false").lower()
    if raw not in ("true", "false"):
        raise _invalid(f"The value '{raw}' is not valid for {name}.")
    return raw == "true"


def changes_since(request: Request) -> datetime | None:
    """``changesSince`` as an aware UTC instant, or None; a 400 for another notation."""
    raw = request.query_params.get("changesSince")
    if not raw:
        return None
    if not _SINCE.fullmatch(raw):
        raise _invalid(
            f"changesSince '{raw}' is not a UTC time in the format YYYY-MM-DDTHH:mm:ssZ"
        )
    return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def status_filter(request: Request) -> set[str] | None:
    """``statusFilter`` of the invoice listing: a comma list of list-row statuses (``Draft``,
    ``Booked``, ``Paid``, ``OverPaid``, ``Overdue``), case-insensitive (README A8)."""
    raw = request.query_params.get("statusFilter")
    if not raw:
        return None
    wanted = {part.strip().lower() for part in raw.split(",") if part.strip()}
    unknown = wanted - {"draft", "booked", "paid", "overpaid", "overdue"}
    if unknown:
        raise _invalid(f"statusFilter: unknown status '{sorted(unknown)[0]}'")
    return wanted


def parse_filter(text: str | None, filterable: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(Field, op, value)`` conditions of a ``queryFilter``, fields in their model casing."""
    if not text or not text.strip():
        return []
    by_lower = {name.lower(): name for name in filterable}
    conditions = []
    for part in text.split(";"):
        if not part.strip():
            continue
        match = _CONDITION.fullmatch(part)
        if match is None:
            raise _invalid(
                f"queryFilter '{part.strip()}' is not a condition of the form "
                "<Field> eq|contains '<value>'"
            )
        field = by_lower.get(match.group(1).lower())
        if field is None:
            raise _invalid(
                f"queryFilter: '{match.group(1)}' cannot be filtered on; "
                f"filterable fields: {', '.join(filterable)}"
            )
        conditions.append((field, match.group(2).lower(), match.group(3).replace("''", "'")))
    return conditions


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def matches(record: Mapping[str, Any], conditions: list[tuple[str, str, str]]) -> bool:
    for field, op, wanted in conditions:
        have = _text(record.get(field)).lower()
        if op == "eq" and have != wanted.lower():
            return False
        if op == "contains" and wanted.lower() not in have:
            return False
    return True


def pick_fields(
    rows: list[dict[str, Any]], fields: str | None, default: str
) -> list[dict[str, Any]]:
    """Each row cut to the requested ``fields``, keyed the way they were asked for."""
    asked = [name.strip() for name in (fields or default).split(",") if name.strip()]
    if not rows:
        return []
    by_lower = {name.lower(): name for name in rows[0]}
    chosen = []
    for name in asked:
        real = by_lower.get(name.lower())
        if real is None:
            raise _invalid(f"fields: unknown field '{name}'")
        chosen.append((name, real))
    return [{name: row.get(real) for name, real in chosen} for row in rows]


def page_of(
    request: Request, rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The requested page of ``rows`` and its ``Pagination`` block."""
    page = int_param(request, "page", 0)
    size = int_param(request, "pageSize", DEFAULT_PAGE_SIZE)
    if page < 0:
        raise _invalid("page must be 0 or more")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise _invalid(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
    items = rows[page * size : (page + 1) * size]
    return items, {
        "MaxPageSizeAllowed": MAX_PAGE_SIZE,
        "PageSize": size,
        "Result": len(items),
        "ResultWithoutFilter": len(rows),
        "Page": page,
    }
