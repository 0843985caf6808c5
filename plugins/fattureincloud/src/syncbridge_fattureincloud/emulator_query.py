"""List queries of the emulated API: the ``q`` filter, ``sort``, ``page``/``per_page`` and the
Laravel-style pagination envelope, as documented for Fatture in Cloud list endpoints.

``q`` is parsed only as far as the connector (and a reasonable client) needs: conditions
``field op value`` joined by ``and``, with ``op`` one of ``= != <> > >= < <=`` and the value a
single-quoted string or a number. Anything else (``or``, parentheses, ``like`` ...) is answered
``400`` naming the unsupported part, so a client relying on it fails loudly instead of getting
an unfiltered list.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, overload
from zoneinfo import ZoneInfo

from starlette.requests import Request

from syncbridge.emulator import BadRequest, paginate_pages, query_int

#: Fatture in Cloud shows local Italian time, to the second, without a zone
ROME = ZoneInfo("Europe/Rome")
TIMESTAMP = "%Y-%m-%d %H:%M:%S"

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<op>>=|<=|<>|!=|=|>|<)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<other>\S))"
)

Condition = tuple[str, str, str | float]


def render_time(value: datetime | None) -> str | None:
    """A store timestamp as the API shows it: ``2024-01-02 10:00:00`` in Italian time."""
    return None if value is None else value.astimezone(ROME).strftime(TIMESTAMP)


def parse_q(q: str) -> list[Condition]:
    """The ``and``-joined conditions of a ``q`` filter; BadRequest for anything else."""
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(q):
        kind = match.lastgroup
        if kind is None:
            continue
        tokens.append((kind, match.group(kind)))
    conditions: list[Condition] = []
    index = 0
    while index < len(tokens):
        if conditions:
            kind, text = tokens[index]
            if kind != "word" or text.lower() != "and":
                raise BadRequest(f"q: unsupported filter syntax near {text!r} (only 'and' joins)")
            index += 1
        part = tokens[index : index + 3]
        if len(part) < 3 or part[0][0] != "word" or part[1][0] != "op":
            found = " ".join(text for _kind, text in part) or "the end"
            raise BadRequest(f"q: expected `field operator value`, found {found!r}")
        (_k, field), (_o, op), (value_kind, raw) = part
        value: str | float
        if value_kind == "string":
            value = raw[1:-1].replace("\\'", "'")
        elif value_kind == "number":
            value = float(raw)
        else:
            raise BadRequest(f"q: the value of {field} must be a quoted string or a number")
        conditions.append((field, op, value))
        index += 3
    if not conditions:
        raise BadRequest("q: the filter is empty")
    return conditions


def _compare(actual: Any, op: str, wanted: str | float) -> bool:
    if actual is None:
        return False  # SQL semantics: a comparison with null is never true
    left: Any
    right: Any
    if (
        isinstance(wanted, float)
        and isinstance(actual, int | float)
        and not isinstance(actual, bool)
    ):
        left, right = float(actual), wanted
    else:
        left, right = str(actual), str(wanted) if isinstance(wanted, str) else f"{wanted:g}"
    if op == "=":
        return bool(left == right)
    if op in ("!=", "<>"):
        return bool(left != right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    return bool(left <= right)


class _Tail(Sequence[dict[str, Any]]):
    """``rows[start:]`` without copying it: a listing is only measured and sliced a page at
    a time, and copying the rest of a 20k listing for every page cost more than the page."""

    def __init__(self, rows: list[dict[str, Any]], start: int) -> None:
        self.rows, self.start = rows, start

    def __len__(self) -> int:
        return len(self.rows) - self.start

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            begin, end, step = index.indices(len(self))
            return self.rows[self.start + begin : self.start + end : step]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.rows[self.start + index]


def select(
    rows: list[dict[str, Any]], q: str | None, sort: str | None
) -> Sequence[dict[str, Any]]:
    """The rows of a sorted listing that ``q`` keeps.

    A lower bound on the leading sort key (the connector's ``updated_at >= '...'``) is found
    by bisection, as a database index would; any other filter is a scan.
    """
    if not q:
        return rows
    conditions = parse_q(q)
    lead = (sort or "").split(",")[0].strip()
    if lead and not lead.startswith("-") and all(
            field == lead and op in (">=", ">") and isinstance(value, str)
            for field, op, value in conditions):
        start = 0
        for _field, op, value in conditions:
            finder = bisect.bisect_left if op == ">=" else bisect.bisect_right
            start = max(start, finder(rows, value, key=lambda row: str(row.get(lead) or "")))
        return _Tail(rows, start)
    keep = matcher(q)
    return [row for row in rows if keep(row)]


def matcher(q: str | None) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over rendered records for the request's ``q`` (all pass without one)."""
    if not q:
        return lambda _record: True
    conditions = parse_q(q)
    return lambda record: all(_compare(record.get(f), op, v) for f, op, v in conditions)


def sort_records(records: list[dict[str, Any]], sort: str | None) -> list[dict[str, Any]]:
    """``sort=updated_at,-id``: stable sorts from the last key to the first; id order by default.

    Nulls sort first ascending (as MySQL does); every listing ends ordered by id within ties,
    so page boundaries are deterministic.
    """
    ordered = sorted(records, key=lambda record: record.get("id") or 0)
    if not sort:
        return ordered
    for key in reversed([part.strip() for part in sort.split(",") if part.strip()]):
        ordered.sort(key=_sort_key(key.lstrip("-+")), reverse=key.startswith("-"))
    return ordered


def _sort_key(name: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    return lambda record: (record.get(name) is not None, _sortable(record.get(name)))


def _sortable(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        return value
    return str(value)


class ListingCache:
    """Rendered, filtered, sorted listings kept until their table changes.

    A client reading N records page by page asks for the same ordering every page; keyed on
    the table's revision, the ordering is built once per change instead of once per page.
    """

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._rows: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...],
            build: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._rows.get(key)
        if rows is None:
            rows = build()
            with self._lock:
                if len(self._rows) >= self._size:
                    self._rows.pop(next(iter(self._rows)))
                self._rows[key] = rows
        return rows


def listing(request: Request, records: Sequence[dict[str, Any]], path: str) -> dict[str, Any]:
    """One page of ``records`` with the pagination fields of the spec (``Pagination``)."""
    page = query_int(request, "page", 1, minimum=1)
    # the spec's default is 5 (the docs say 50): clients should always send per_page
    per_page = query_int(request, "per_page", 5, minimum=1, maximum=100)
    sliced = paginate_pages(records, page, per_page)
    return {
        "current_page": sliced.page,
        "data": sliced.items,
        "first_page_url": "page=1",
        "from": sliced.from_index,
        "last_page": sliced.last_page,
        "last_page_url": f"page={sliced.last_page}",
        "next_page_url": None if sliced.next_page is None else f"page={sliced.next_page}",
        "path": path,
        "per_page": sliced.per_page,
        "prev_page_url": None if sliced.prev_page is None else f"page={sliced.prev_page}",
        "to": sliced.to_index,
        "total": sliced.total,
    }


def fieldset(request: Request, allowed: Sequence[str] = ("basic", "detailed")) -> str:
    """The requested ``fieldset`` (``basic`` by default, as the API's lists are)."""
    value = request.query_params.get("fieldset") or "basic"
    if value not in ("basic", "detailed", "fic_view"):
        raise BadRequest(f"fieldset must be basic, detailed or fic_view, not {value!r}", 422)
    return value if value in allowed else "detailed"
