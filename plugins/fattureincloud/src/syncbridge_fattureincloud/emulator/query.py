"""List queries of the emulated API: the ``q`` filter, ``sort``, ``page``/``per_page`` and the
Laravel-style pagination envelope, as documented for Fatture in Cloud list endpoints.

``q`` is parsed as the documentation describes it, as far as a client needs: conditions
``field op value`` with ``op`` one of ``= != <> > >= < <=`` and the value a single-quoted
string or a number, joined by ``and`` and ``or`` (``and`` binds tighter) and grouped with
parentheses. Anything else (``like``, ``is null`` ...) is answered ``400`` naming the
unsupported part, so a client relying on it fails loudly instead of getting an unfiltered
list.

Filters that bound the listing's own sort order from below are answered by bisection, as a
database index would: ``updated_at >= '...'`` on a listing sorted by ``updated_at``, and the
keyset ``updated_at > 'T' or (updated_at = 'T' and id > N)`` on one sorted by
``updated_at,id``. Any other filter is a scan.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
    r"|(?P<op>>=|<=|<>|!=|=|>|<)|(?P<paren>[()])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)"
    r"|(?P<other>\S))"
)


@dataclass(frozen=True)
class Condition:
    """``field op value``."""

    field: str
    op: str
    value: str | float


@dataclass(frozen=True)
class Both:
    """Conditions joined by ``and``."""

    parts: tuple[Expression, ...]


@dataclass(frozen=True)
class Either:
    """Conditions joined by ``or``."""

    parts: tuple[Expression, ...]


Expression = Condition | Both | Either


def render_time(value: datetime | None) -> str | None:
    """A store timestamp as the API shows it: ``2024-01-02 10:00:00`` in Italian time."""
    return None if value is None else value.astimezone(ROME).strftime(TIMESTAMP)


class _Parser:
    """Recursive descent over the tokens of ``q``: or-terms of and-terms of conditions."""

    def __init__(self, q: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        for match in _TOKEN.finditer(q):
            kind = match.lastgroup
            if kind is not None:
                self.tokens.append((kind, match.group(kind)))
        self.at = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token[0] == "word" and token[1].lower() == word:
            self.at += 1
            return True
        return False

    def parse(self) -> Expression:
        if not self.tokens:
            raise BadRequest("q: the filter is empty")
        expression = self._either()
        token = self._peek()
        if token is not None:
            raise BadRequest(f"q: unsupported filter syntax near {token[1]!r}")
        return expression

    def _either(self) -> Expression:
        parts = [self._both()]
        while self._keyword("or"):
            parts.append(self._both())
        return parts[0] if len(parts) == 1 else Either(tuple(parts))

    def _both(self) -> Expression:
        parts = [self._factor()]
        while self._keyword("and"):
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else Both(tuple(parts))

    def _factor(self) -> Expression:
        token = self._peek()
        if token == ("paren", "("):
            self.at += 1
            inner = self._either()
            if self._peek() != ("paren", ")"):
                raise BadRequest("q: a parenthesis is not closed")
            self.at += 1
            return inner
        part = self.tokens[self.at : self.at + 3]
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
        self.at += 3
        return Condition(field, op, value)


def parse_q(q: str) -> Expression:
    """The filter ``q`` stands for; BadRequest for anything outside the grammar."""
    return _Parser(q).parse()


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


def holds(expression: Expression, record: Mapping[str, Any]) -> bool:
    """Whether ``record`` (as the API renders it) passes the filter."""
    if isinstance(expression, Condition):
        return _compare(record.get(expression.field), expression.op, expression.value)
    if isinstance(expression, Both):
        return all(holds(part, record) for part in expression.parts)
    return any(holds(part, record) for part in expression.parts)


#: (the sort keys bounded, their values, whether the bound itself is kept)
Bound = tuple[tuple[str, ...], tuple[Any, ...], bool]


def _bound(expression: Expression, keys: list[str]) -> Bound | None:
    """The lower bound ``expression`` puts on the sort order ``keys``, if that is all it
    does: ``lead >= v`` (or ``>``), or the keyset ``lead > v or (lead = v and next > n)``."""
    lead = keys[0]
    if isinstance(expression, Condition):
        value = expression.value
        if expression.field == lead and expression.op in (">=", ">") and isinstance(value, str):
            return (lead,), (value,), expression.op == ">="
        return None
    if not isinstance(expression, Either) or len(expression.parts) != 2 or len(keys) < 2:
        return None
    after = next((p for p in expression.parts if isinstance(p, Condition)), None)
    tie = next((p for p in expression.parts if isinstance(p, Both)), None)
    if after is None or tie is None or len(tie.parts) != 2:
        return None
    equal = next((p for p in tie.parts if isinstance(p, Condition) and p.op == "="), None)
    then = next((p for p in tie.parts if isinstance(p, Condition) and p.op in (">", ">=")), None)
    if (
        equal is None
        or then is None
        or (after.field, after.op) != (lead, ">")
        or equal.field != lead
        or equal.value != after.value
        or not isinstance(after.value, str)
        or then.field != keys[1]
        or not isinstance(then.value, float)
    ):
        return None
    return (lead, keys[1]), (after.value, then.value), then.op == ">="


def _position(row: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[Any, ...]:
    """A row's place in a listing sorted by ``keys``: the lead as text, the rest as they are
    (ids: numbers)."""
    return (str(row.get(keys[0]) or ""), *(row.get(key) or 0 for key in keys[1:]))


def select(
    rows: list[dict[str, Any]], q: str | None, sort: str | None
) -> Sequence[dict[str, Any]]:
    """The rows of a sorted listing that ``q`` keeps (see the module docstring)."""
    if not q:
        return rows
    expression = parse_q(q)
    keys = [key.strip() for key in (sort or "").split(",") if key.strip()]
    parts = expression.parts if isinstance(expression, Both) else (expression,)
    indexed = keys and not any(key[0] in "-+" for key in keys)
    bounds = [_bound(part, keys) for part in parts] if indexed else [None]
    if all(bound is not None for bound in bounds):
        start = 0
        for names, values, inclusive in (bound for bound in bounds if bound is not None):
            finder = bisect.bisect_left if inclusive else bisect.bisect_right
            start = max(start, finder(rows, values, key=lambda row: _position(row, names)))
        return _Tail(rows, start)
    return [row for row in rows if holds(expression, row)]


def matcher(q: str | None) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over rendered records for the request's ``q`` (all pass without one)."""
    if not q:
        return lambda _record: True
    expression = parse_q(q)
    return lambda record: holds(expression, record)


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
