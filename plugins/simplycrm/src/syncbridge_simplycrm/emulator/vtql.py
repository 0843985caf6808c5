"""VTQL, the query language of vtiger's ``operation=query``: the subset real clients send.

Grammar (vtiger's ``VTQL_parser.y``, cut to what the API documents)::

    SELECT * | count(*) | col[, col...] FROM Module
        [WHERE cond [AND|OR cond ...]] [ORDER BY col [ASC|DESC][, ...]] [LIMIT [offset,] n] ;

``cond`` is ``col op value`` (``= != <> < > <= >=``), ``col IN (v, ...)`` or ``col LIKE
'pattern'`` (``%`` and ``_`` wildcards). ``AND`` binds tighter than ``OR``. The trailing ``;``
is mandatory (``end_stmt ::= SEMICOLON``); without ``LIMIT`` the server appends ``LIMIT
100``, and a larger ``n`` is cut to 100 (the offset is not). Errors carry vtiger's codes and
words: a parse error is ``QUERY_SYNTAX_ERROR`` "Syntax Error on line 1: token '…' Unexpected
…, expected one of: …".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: the most rows one query answers
MAX_ROWS = 100

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),;*])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"select", "from", "where", "and", "or", "order", "by", "limit", "in", "like",
             "asc", "desc", "count"}


class VtqlError(Exception):
    """A query vtiger refuses: ``code`` and ``message`` as the API writes them."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, op, punct, word, end
    text: str
    value: Any = None


def tokens(text: str) -> list[Token]:
    """The tokens of ``text``; an unknown character is a syntax error at that character."""
    found: list[Token] = []
    at = 0
    text = text.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            bad = text[at:].strip()[:1]
            raise syntax_error(bad, ["column name", "value"])
        kind = match.lastgroup or "word"
        raw = match.group(kind)
        value: Any = raw
        if kind == "string":
            value = raw[1:-1].replace("''", "'").replace("\\'", "'").replace('\\"', '"')
        found.append(Token(kind, raw, value))
        at = match.end()
    found.append(Token("end", "$"))
    return found


def syntax_error(token: str, expected: Sequence[str]) -> VtqlError:
    return VtqlError(
        "QUERY_SYNTAX_ERROR",
        f"Syntax Error on line 1: token '{token}' Unexpected {token}, expected one of: "
        + ", ".join(expected),
    )


@dataclass(frozen=True)
class Condition:
    column: str
    op: str  # = != < > <= >= in like
    values: tuple[str, ...]


@dataclass
class Query:
    """A parsed ``SELECT``: what to read, which rows, in which order, how many."""

    module: str
    columns: list[str] | None  # None: *
    count: bool = False
    #: OR of AND-groups
    where: list[list[Condition]] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    offset: int = 0
    limit: int = MAX_ROWS

    def referenced(self) -> list[str]:
        """Every column the query names (to check access)."""
        names = list(self.columns or [])
        names += [c.column for group in self.where for c in group]
        names += [column for column, _desc in self.order]
        return names


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = tokens(text)
        self.at = 0

    @property
    def current(self) -> Token:
        return self.items[self.at]

    def take(self) -> Token:
        token = self.items[self.at]
        self.at += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.current
        if token.kind == "word" and token.text.lower() == word:
            self.at += 1
            return True
        return False

    def expect_keyword(self, word: str, expected: Sequence[str] | None = None) -> None:
        if not self.keyword(word):
            raise syntax_error(self.current.text, expected or [word.upper()])

    def expect_punct(self, mark: str) -> None:
        token = self.current
        if token.kind != "punct" or token.text != mark:
            raise syntax_error(token.text, [mark])
        self.at += 1

    def column(self) -> str:
        token = self.current
        if token.kind != "word" or token.text.lower() in _KEYWORDS:
            raise syntax_error(token.text, ["column name"])
        self.at += 1
        return token.text

    def value(self) -> str:
        token = self.current
        if token.kind not in ("string", "number") and not (
            token.kind == "word" and token.text.lower() not in _KEYWORDS
        ):
            raise syntax_error(token.text, ["value"])
        self.at += 1
        return str(token.value)

    def parse(self) -> Query:
        self.expect_keyword("select")
        columns: list[str] | None
        count = False
        if self.current.kind == "punct" and self.current.text == "*":
            self.take()
            columns = None
        elif self.current.kind == "word" and self.current.text.lower() == "count":
            self.take()
            self.expect_punct("(")
            self.expect_punct("*")
            self.expect_punct(")")
            columns, count = None, True
        else:
            columns = [self.column()]
            while self.current.kind == "punct" and self.current.text == ",":
                self.take()
                columns.append(self.column())
        self.expect_keyword("from", ["FROM", ","])
        module = self.column()
        query = Query(module=module, columns=columns, count=count)
        if self.keyword("where"):
            query.where = self.conditions()
        if self.keyword("order"):
            self.expect_keyword("by")
            query.order.append(self.ordering())
            while self.current.kind == "punct" and self.current.text == ",":
                self.take()
                query.order.append(self.ordering())
        if self.keyword("limit"):
            first = self.number()
            if self.current.kind == "punct" and self.current.text == ",":
                self.take()
                query.offset, query.limit = first, min(self.number(), MAX_ROWS)
            else:
                query.limit = min(first, MAX_ROWS)
        token = self.current
        if token.kind != "punct" or token.text != ";":
            raise syntax_error(token.text, [";"])
        self.take()
        if self.current.kind != "end":
            raise syntax_error(self.current.text, ["$"])
        return query

    def number(self) -> int:
        token = self.current
        if token.kind != "number" or not token.text.isdigit():
            raise syntax_error(token.text, ["number"])
        self.at += 1
        return int(token.text)

    def ordering(self) -> tuple[str, bool]:
        column = self.column()
        if self.keyword("desc"):
            return column, True
        self.keyword("asc")
        return column, False

    def conditions(self) -> list[list[Condition]]:
        groups = [[self.condition()]]
        while True:
            if self.keyword("and"):
                groups[-1].append(self.condition())
            elif self.keyword("or"):
                groups.append([self.condition()])
            else:
                return groups

    def condition(self) -> Condition:
        column = self.column()
        token = self.current
        if token.kind == "op":
            self.take()
            op = "!=" if token.text == "<>" else token.text
            return Condition(column, op, (self.value(),))
        if self.keyword("in"):
            self.expect_punct("(")
            values = [self.value()]
            while self.current.kind == "punct" and self.current.text == ",":
                self.take()
                values.append(self.value())
            self.expect_punct(")")
            return Condition(column, "in", tuple(values))
        if self.keyword("like"):
            return Condition(column, "like", (self.value(),))
        raise syntax_error(token.text, ["=", "<", ">", "<=", ">=", "!=", "IN", "LIKE"])


def parse(text: str) -> Query:
    """The query ``text`` stands for, or a :class:`VtqlError` as vtiger words it."""
    return _Parser(text).parse()


def _like(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(left: str, op: str, right: str) -> bool:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        pair: tuple[Any, Any] = (a, b)
    else:
        pair = (left.lower(), right.lower())
    x, y = pair
    outcome: bool = {
        "=": x == y,
        "!=": x != y,
        "<": x < y,
        ">": x > y,
        "<=": x <= y,
        ">=": x >= y,
    }[op]
    return outcome


def matches(row: dict[str, Any], condition: Condition) -> bool:
    """Whether ``row`` (a record as the API renders it) meets ``condition``."""
    value = str(row.get(condition.column, "") or "")
    if condition.op == "in":
        return any(_compare(value, "=", v) for v in condition.values)
    if condition.op == "like":
        return _like(condition.values[0]).fullmatch(value) is not None
    return _compare(value, condition.op, condition.values[0])


def run(query: Query, rows: list[dict[str, Any]], sort_key: Callable[[str, Any], Any]) -> list[
    dict[str, Any]
]:
    """The rows ``query`` selects from ``rows`` (already the module's), ordered and limited.

    :param sort_key: a column's sort key for a value (ids sort by their number).
    """
    selected = [
        row for row in rows
        if not query.where or any(all(matches(row, c) for c in group) for group in query.where)
    ]
    for column, descending in reversed(query.order):

        def key(row: dict[str, Any], column: str = column) -> Any:
            return sort_key(column, row.get(column))

        selected.sort(key=key, reverse=descending)
    if query.count:
        return [{"count": str(len(selected))}]
    window = selected[query.offset : query.offset + query.limit]
    if query.columns is None:
        return window
    wanted = list(dict.fromkeys(["id", *query.columns]))
    return [{name: row.get(name, "") for name in wanted} for row in window]
