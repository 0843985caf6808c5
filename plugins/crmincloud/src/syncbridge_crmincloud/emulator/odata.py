"""The emulator's OData query support: ``$filter``, ``$orderBy``, ``$skip``, ``$top``.

CRM in Cloud's ``*ByODataCriteria`` endpoints take OData system query options (names are
case-sensitive; ``filter``/``orderBy``/``skip``/``top`` without ``$`` are accepted too). This
module implements the subset the connector and public integrations use, as a small
recursive-descent parser over the standard grammar:

* comparisons ``<property> eq|ne|gt|ge|lt|le <literal>`` joined by ``and`` / ``or``, with
  ``not`` and parentheses;
* literals: ``'text'`` (quotes doubled inside), integers and decimals, ``true``/``false``,
  ``null``, and date-times in OData v4 form, unquoted ISO 8601 (``2024-01-02T09:00:00Z``,
  ``2024-01-02T10:00:00.123+01:00``; a time without offset is UTC) or plain dates
  (``2024-01-02``). The v3 form ``datetime'...'`` is *not* accepted (README, A6).

Anything else (functions such as ``startswith``, arithmetic, unknown properties) is refused
with the message an OData parser gives, so a connector that relies on more than this finds
out against the emulator rather than in production.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from syncbridge.emulator import BadRequest

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)
      | (?P<date>\d{4}-\d{2}-\d{2})
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<paren>[()])
      | (?P<comma>,)
      | (?P<word>[A-Za-z_$][A-Za-z0-9_$./]*)
    )""",
    re.VERBOSE,
)
_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
_KEYWORD_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    value: Any = None


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise BadRequest(f"Syntax error at position {position} in '{text}'.")
        position = match.end()
        kind = match.lastgroup or ""
        raw = match.group(kind)
        tokens.append(_Token(kind, raw, _literal(kind, raw)))
    return tokens


def _literal(kind: str, raw: str) -> Any:
    if kind == "string":
        return raw[1:-1].replace("''", "'")
    if kind == "number":
        return Decimal(raw) if "." in raw else int(raw)
    if kind == "datetime":
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if kind == "date":
        return date.fromisoformat(raw)
    return None


class _Parser:
    def __init__(self, text: str, fields: Collection[str]) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0
        self.fields = fields

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise BadRequest(f"Syntax error: unexpected end of '{self.text}'.")
        self.position += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text == word:
            self.position += 1
            return True
        return False

    def parse(self) -> Predicate:
        predicate = self.disjunction()
        if self.peek() is not None:
            raise BadRequest(f"Syntax error at '{self.peek().text}' in '{self.text}'.")  # type: ignore[union-attr]
        return predicate

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.keyword("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda row: any(p(row) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.unary()]
        while self.keyword("and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda row: all(p(row) for p in parts))

    def unary(self) -> Predicate:
        if self.keyword("not"):
            inner = self.unary()
            return lambda row: not inner(row)
        token = self.peek()
        if token is not None and token.kind == "paren" and token.text == "(":
            self.take()
            inner = self.disjunction()
            closing = self.take()
            if closing.text != ")":
                raise BadRequest(f"Syntax error: ')' expected in '{self.text}'.")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        name = self.take()
        if name.kind != "word" or name.text in _KEYWORD_LITERALS:
            raise BadRequest(f"Syntax error at '{name.text}' in '{self.text}'.")
        following = self.peek()
        if following is not None and following.kind == "paren" and following.text == "(":
            raise BadRequest(f"Unknown function '{name.text}'.")
        if name.text not in self.fields:
            raise BadRequest(f"Could not find a property named '{name.text}' on the entity.")
        operator = self.take()
        if operator.kind != "word" or operator.text not in _COMPARISONS:
            raise BadRequest(f"Syntax error: comparison operator expected at '{operator.text}'.")
        literal = self.take()
        if literal.kind == "word" and literal.text in _KEYWORD_LITERALS:
            value: Any = _KEYWORD_LITERALS[literal.text]
        elif literal.kind in ("string", "number", "datetime", "date"):
            value = literal.value
        else:
            raise BadRequest(f"Syntax error: literal expected at '{literal.text}'.")
        return _compare(name.text, operator.text, value)


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Both sides in one type, or BadRequest when OData would refuse the comparison."""
    if isinstance(right, datetime):
        if isinstance(left, datetime):
            return left, right
    elif isinstance(right, date):
        if isinstance(left, datetime):
            return left.date(), right
        if isinstance(left, date):
            return left, right
        if isinstance(left, str):
            return left[:10], right.isoformat()
    elif isinstance(right, bool) or isinstance(left, bool):
        if isinstance(right, bool) and isinstance(left, bool | int):
            return bool(left), right
    elif isinstance(right, int | Decimal):
        if isinstance(left, int | float | Decimal):
            return Decimal(str(left)), Decimal(right)
    elif isinstance(right, str) and isinstance(left, str):
        return left, right
    raise BadRequest(
        f"A binary operator with incompatible types was detected: "
        f"'{type(left).__name__}' and '{type(right).__name__}'."
    )


def _compare(field: str, operator: str, value: Any) -> Predicate:
    def test(row: dict[str, Any]) -> bool:
        current = row.get(field)
        if current is None or value is None:
            if operator == "eq":
                return current is None and value is None
            if operator == "ne":
                return (current is None) != (value is None)
            return False
        left, right = _comparable(current, value)
        if operator == "eq":
            return bool(left == right)
        if operator == "ne":
            return bool(left != right)
        if operator == "gt":
            return bool(left > right)
        if operator == "ge":
            return bool(left >= right)
        if operator == "lt":
            return bool(left < right)
        return bool(left <= right)

    return test


def parse_filter(text: str, fields: Collection[str]) -> Predicate:
    """A predicate over stored rows for an OData ``$filter`` over ``fields``."""
    return _Parser(text, fields).parse()


def parse_order(text: str, fields: Collection[str]) -> list[tuple[str, bool]]:
    """``$orderBy``: ``[(field, descending), ...]``."""
    keys: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise BadRequest(f"Syntax error in $orderBy '{text}'.")
        if words[0] not in fields:
            raise BadRequest(f"Could not find a property named '{words[0]}' on the entity.")
        keys.append((words[0], len(words) == 2 and words[1] == "desc"))
    return keys


def _sort_key(value: Any) -> tuple[int, Any]:
    """Nulls first, as OData sorts them ascending."""
    if value is None:
        return (0, 0)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return (1, Decimal(str(value)))
    return (1, value)


def sort_rows(rows: list[dict[str, Any]], keys: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    """``rows`` ordered by ``keys`` (a stable sort per key, last key first)."""
    ordered = list(rows)
    for field, descending in reversed(keys):
        ordered.sort(key=lambda row: _sort_key(row.get(field)), reverse=descending)
    return ordered
