"""The emulator's parser and evaluator for QuickBooks' query language.

A small hand-written parser rather than a grammar library: the language is a dozen keywords
(``SELECT * | COUNT(*) | *, field, ... FROM Entity [WHERE cond AND ...]
[ORDERBY f [ASC|DESC], ...] [STARTPOSITION n] [MAXRESULTS m]``; python-quickbooks sends
``SELECT *, Sku FROM Item``), a regular-expression tokenizer plus one function per
clause reads it in ~200 lines, and every rejection can carry the exact wording of Intuit's
``QueryParserError`` without fighting a generator's error messages. What the real service
refuses is refused here too: ``OR``, joins, double-quoted strings, a ``STARTPOSITION`` below 1.

Conditions compare on the rendered record (so derived fields such as ``FullyQualifiedName`` and
``MetaData.LastUpdatedTime`` are queryable); names are case-insensitive (``Metadata`` finds
``MetaData``), string comparisons too, and date-time literals compare as instants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:\\.|[^'\\])*')
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op><=|>=|!=|<>|=|<|>)
    | (?P<punct>[(),*])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)

_KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "ORDERBY", "STARTPOSITION", "MAXRESULTS"}
_UNSUPPORTED = {"OR", "JOIN", "GROUP", "HAVING", "UNION", "LIMIT", "OFFSET", "ORDER"}


class QueryError(ValueError):
    """The statement cannot be parsed or validated; ``detail`` is Intuit's wording."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    column: int

    @property
    def upper(self) -> str:
        return self.text.upper()


@dataclass(frozen=True)
class Condition:
    """``field op value``; for ``IN`` the value is a tuple of values."""

    field: str
    op: str
    value: Any

    def matches(self, record: Mapping[str, Any]) -> bool:
        actual = resolve(record, self.field)
        if self.op == "IN":
            return any(compare(actual, "=", option) for option in self.value)
        return compare(actual, self.op, self.value)


@dataclass(frozen=True)
class Query:
    entity: str
    count: bool = False
    #: the select list as written (``("*", "Sku")``). Rows are served whole whatever it names:
    #: right for ``*`` with or without fields beside it (``*`` already holds them all); a list
    #: without ``*`` is a simplification here, since the connector never sends one
    columns: tuple[str, ...] = ("*",)
    conditions: tuple[Condition, ...] = ()
    order: tuple[tuple[str, bool], ...] = ()
    #: 1-based, as QuickBooks counts
    start: int = 1
    max_results: int | None = None
    #: fields named in WHERE, lower-cased (``active`` there shows inactive name-list records)
    filtered: frozenset[str] = field(default_factory=frozenset)

    def select(self, records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The records passing every condition, in ``ORDERBY`` order (else as given)."""
        kept = [r for r in records if all(c.matches(r) for c in self.conditions)]
        for name, descending in reversed(self.order):
            present = [r for r in kept if resolve(r, name) is not None]
            absent = [r for r in kept if resolve(r, name) is None]
            present.sort(key=_by(name), reverse=descending)
            kept = present + absent
        return kept


def _by(name: str) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    return lambda record: sort_key(resolve(record, name))


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    text = text.rstrip().rstrip(";")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            snippet = text[position:].strip()[:20]
            raise QueryError(
                f'QueryParserError: Encountered "{snippet}" at line 1, column {position + 1}.'
            )
        kind = match.lastgroup
        if kind is None:  # only whitespace left
            break
        tokens.append(Token(kind, match.group(kind), match.start(kind) + 1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise QueryError("QueryParserError: Encountered <EOF> at the end of the statement.")
        self.index += 1
        return token

    def fail(self, token: Token) -> QueryError:
        return QueryError(
            f'QueryParserError: Encountered " {token.kind} "{token.text}" " at line 1, '
            f"column {token.column}."
        )

    def keyword(self, word: str) -> None:
        token = self.take()
        if token.upper != word:
            raise self.fail(token)

    def at(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.upper == word

    def name(self) -> str:
        token = self.take()
        if token.kind != "word" or token.upper in _KEYWORDS:
            raise self.fail(token)
        if token.upper in _UNSUPPORTED:
            raise QueryError(f"QueryParserError: {token.upper} is not supported.")
        return token.text

    def value(self) -> Any:
        token = self.take()
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "number":
            return Decimal(token.text)
        if token.kind == "word" and token.upper in ("TRUE", "FALSE"):
            return token.upper == "TRUE"
        raise self.fail(token)

    def integer(self) -> int:
        token = self.take()
        if token.kind != "number" or "." in token.text:
            raise self.fail(token)
        return int(token.text)

    def parse(self) -> Query:
        self.keyword("SELECT")
        count = False
        columns: tuple[str, ...] = ("*",)
        if self.at("COUNT"):
            self.take()
            for expected in ("(", "*", ")"):
                token = self.take()
                if token.text != expected:
                    raise self.fail(token)
            count = True
        else:
            columns = self.select_list()
        self.keyword("FROM")
        entity = self.name()
        conditions: list[Condition] = []
        if self.at("WHERE"):
            self.take()
            conditions.append(self.condition())
            while self.at("AND"):
                self.take()
                conditions.append(self.condition())
        order: list[tuple[str, bool]] = []
        start, max_results = 1, None
        while (upcoming := self.peek()) is not None:
            token = upcoming
            word = token.upper if token.kind == "word" else ""
            if word == "ORDERBY" and not order:
                self.take()
                order.append(self.order_item())
                while (comma := self.peek()) is not None and comma.text == ",":
                    self.take()
                    order.append(self.order_item())
            elif word == "STARTPOSITION":
                self.take()
                start = self.integer()
                if start < 1:
                    raise QueryError("QueryValidationError: STARTPOSITION must be at least 1.")
            elif word == "MAXRESULTS":
                self.take()
                max_results = self.integer()
                if max_results < 1:
                    raise QueryError("QueryValidationError: MAXRESULTS must be at least 1.")
            elif word in _UNSUPPORTED:
                raise QueryError(f"QueryParserError: {word} is not supported.")
            else:
                raise self.fail(token)
        return Query(
            entity=entity,
            count=count,
            columns=columns,
            conditions=tuple(conditions),
            order=tuple(order),
            start=start,
            max_results=max_results,
            filtered=frozenset(c.field.lower() for c in conditions),
        )

    def select_list(self) -> tuple[str, ...]:
        """``*``, field names, or both (``*, Sku``), comma-separated; ``*`` at most once."""
        columns = [self.column()]
        while (comma := self.peek()) is not None and comma.text == ",":
            self.take()
            column = self.column()
            if column == "*" and "*" in columns:
                raise self.fail(self.tokens[self.index - 1])
            columns.append(column)
        return tuple(columns)

    def column(self) -> str:
        token = self.peek()
        if token is not None and token.text == "*":
            return self.take().text
        return self.name()

    def condition(self) -> Condition:
        name = self.name()
        token = self.take()
        if token.kind == "op":
            op = "!=" if token.text == "<>" else token.text
            return Condition(name, op, self.value())
        if token.kind == "word" and token.upper == "IN":
            opening = self.take()
            if opening.text != "(":
                raise self.fail(opening)
            values = [self.value()]
            while (token := self.take()).text == ",":
                values.append(self.value())
            if token.text != ")":
                raise self.fail(token)
            return Condition(name, "IN", tuple(values))
        if token.kind == "word" and token.upper == "LIKE":
            pattern = self.value()
            if not isinstance(pattern, str):
                raise QueryError("QueryParserError: LIKE needs a string pattern.")
            return Condition(name, "LIKE", pattern)
        if token.kind == "word" and token.upper in _UNSUPPORTED:
            raise QueryError(f"QueryParserError: {token.upper} is not supported.")
        raise self.fail(token)

    def order_item(self) -> tuple[str, bool]:
        name = self.name()
        if self.at("DESC") or self.at("ASC"):
            return name, self.take().upper == "DESC"
        return name, False


def parse(text: str) -> Query:
    """The statement as a :class:`Query`, or :class:`QueryError` with Intuit's wording."""
    if not text.strip():
        raise QueryError("QueryParserError: the query is empty.")
    return _Parser(text).parse()


def resolve(record: Mapping[str, Any], path: str) -> Any:
    """``record[path]`` with dotted paths and case-insensitive names; ``Ref.value`` implied.

    ``CustomerRef = '12'`` compares the reference's ``value``, as QuickBooks does.
    """
    current: Any = record
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        lowered = part.lower()
        current = next((v for k, v in current.items() if k.lower() == lowered), None)
    if isinstance(current, Mapping) and "value" in current:
        return current["value"]
    return current


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and "T" in value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    ">": lambda a, b: bool(a > b),
    "<=": lambda a, b: bool(a <= b),
    ">=": lambda a, b: bool(a >= b),
}


def compare(actual: Any, op: str, wanted: Any) -> bool:
    """``actual op wanted`` with QuickBooks' loose typing; a missing field never matches."""
    if actual is None:
        return False
    if op == "LIKE":
        pattern = "^" + ".*".join(re.escape(part) for part in str(wanted).split("%")) + "$"
        return re.match(pattern, str(actual), re.IGNORECASE | re.DOTALL) is not None
    left: Any
    right: Any
    if isinstance(actual, bool) or isinstance(wanted, bool):
        left, right = str(actual).lower(), str(wanted).lower()
    elif (a := _instant(actual)) is not None and (w := _instant(wanted)) is not None:
        if a.tzinfo is None or w.tzinfo is None:
            a, w = a.replace(tzinfo=None), w.replace(tzinfo=None)
        left, right = a, w
    else:
        try:
            left, right = Decimal(str(actual)), Decimal(str(wanted))
        except InvalidOperation:
            left, right = str(actual).casefold(), str(wanted).casefold()
    return _COMPARE[op](left, right)


def sort_key(value: Any) -> tuple[int, Any]:
    """Orders numbers numerically (Ids are numeric strings), instants in time, text folded."""
    instant = _instant(value)
    if instant is not None:
        return (0, instant.timestamp())
    try:
        return (1, Decimal(str(value)))
    except InvalidOperation:
        return (2, str(value).casefold())
