"""Rows in the order of their modification time, from a cursor on, one short query a page.

An incremental read needs the rows in the order of ``(instant of updated_at, id)``: a cursor
is the keyset of the last row read (see :class:`~syncbridge.rest.Cursor`), and a
page boundary inside a run of equal timestamps must lose nothing. The database returns that
order in one of two ways.

**Index order** (:class:`IndexOrder`): ``ORDER BY updated_at, id`` with a keyset ``WHERE``,
one range scan of the ``updated_at`` index a page, as before. It is used whenever the stored
values sort like their instants:

- native timestamp columns (PostgreSQL, MariaDB), compared with bound datetimes in the
  column's own terms: aware for ``timestamptz``, wall-clock in ``timezone`` for naive ones;
- on SQLite, when every value the read can reach belongs to one *family*
  (:data:`~syncbridge_sql.timestamps.FAMILIES`: ``CURRENT_TIMESTAMP``'s
  ``2026-01-01 00:00:00`` with SQLAlchemy's ``...00:00:00.123456``, the same with ``T``, or
  Python's UTC ``...T00:00:00.123456+00:00``), or is an integer unix time. Bounds are then
  written in the family's own layout, and the keyset carries on from the values as stored,
  never from a value re-formatted by SQLAlchemy: comparing ``2026-01-01 00:00:00`` with
  ``2026-01-01 00:00:00.000000`` as text was the bug that lost rows or looped forever.

Finding the family (:func:`_census`) is a ``SELECT DISTINCT`` over the part of the index the
read covers: the rows after the cursor for an incremental read, all of them for a full one.
An incremental read also looks below its cursor for texts whose offset makes them sort
earlier than their instant (:func:`_late_below`). Both look first for the texts that are not
in the connector's own layout, which a table the connector creates keeps in a small partial
index (:func:`syncbridge_sql.schema.default_table`): usually none, so both cost an empty
range of that index. On other tables they cost a scan of those parts of the index.

**Planned order** (:class:`PlannedOrder`), SQLite only: values of several families (ISO with
``Z`` beside ``CURRENT_TIMESTAMP``, numbers beside text, reals): one query reads ``(id,
updated_at)`` of the rows the read can reach, Python parses and sorts them, and each page is
fetched by its ids (primary-key lookups). Memory grows with those rows, about 150 bytes
each.

Why not normalise in SQL, ``ORDER BY julianday(updated_at)``? SQLite's date functions keep
milliseconds while stamps are microseconds (the connector stamps a batch a microsecond apart),
so the keyset would mix up the rows of a millisecond; they cannot apply an IANA zone to
naive texts; and an expression has no index (the connector never alters a table), so every
page would scan and sort the table: ~100 scans of 100k rows for a full read at the default
page size. ``julianday`` serves only as a filter below the cursor, never for the order.

Measured on SQLite, 100k rows in the default layout, page size 1000, against the previous
version (median of 7 interleaved runs on a shared 2-CPU machine): a full read 0.98-1.05x; an
incremental read of the last 1,000 rows 1.1-1.2x (+1-2 ms); on a table created by an earlier
version (no partial index) with all 100k rows in the 14 hours below the cursor, 2x (+10-13
ms, the scan below the cursor). Mixed formats (planned order): a full read about 2x a
uniform one.

Each page is checked as it is read: the same ``(updated_at, id)`` twice (a non-unique id
column, or the same page again) or a row earlier than the one before it is a
:class:`ConnectorError` naming the table and the column, never a loop nor a silent skip.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import sqlalchemy as sa

from syncbridge.errors import ConnectorError
from syncbridge.records import NativeRecord
from syncbridge.rest import Cursor
from syncbridge.rest.instants import EPOCH, SECOND, shifted, wall
from syncbridge_sql.database import Database
from syncbridge_sql.schema import TableMap, in_list
from syncbridge_sql.timestamps import FAMILIES, OFFSET_SLACK, StampColumn, StampKind

#: ``(instant, id)`` of a row: what cursors and pages are ordered by
Key = tuple[datetime, Any]
_MILLISECOND = timedelta(milliseconds=1)
_BEFORE_ALL = datetime.min.replace(tzinfo=UTC)
#: later than any julianday() of a real date
_LATEST_DAY = 1e9


_BY_NAME = {family.name: family for family in FAMILIES}


def _stalled(table: TableMap, stamp: StampColumn, value: Any, row_id: Any) -> ConnectorError:
    return ConnectorError(
        f"reading {table.entity} from {table.label} made no progress: the keyset "
        f"({stamp.column.name} = {value!r}, {table.id.name} = {row_id!r}) came back twice, so "
        f"{table.label}.{table.id.name} is not unique; map id to a unique column "
        f"(settings.columns.{table.entity}.id): paging on it would skip or repeat rows"
    )


def _disorder(table: TableMap, stamp: StampColumn, value: Any, row_id: Any) -> ConnectorError:
    if stamp.kind is StampKind.SQLITE:
        fix = "rows changed in another format while being read: run again"
    else:
        fix = (
            "its values do not sort as times (text in several formats?): keep them in a "
            "timestamp column, or in one ISO-8601 format"
        )
    return ConnectorError(
        f"cannot read {table.entity} from {table.label} in order of {stamp.column.name}: "
        f"{value!r} (id {row_id}) came after a later time; {fix}"
    )


def _behind(row_id: Any, previous_id: Any) -> bool:
    """Whether ``row_id`` should have come before ``previous_id`` (same instant). Only
    integers are compared: text ids sort by the server's collation, which Python lacks."""
    return type(row_id) is int and type(previous_id) is int and row_id <= previous_id


def _rank(row_id: Any) -> tuple[int, Any]:
    """A sort key for ids as SQLite orders them (numbers, then text, then blobs)."""
    if isinstance(row_id, int | float):
        return 0, row_id
    return (1, row_id) if isinstance(row_id, str) else (2, bytes(row_id))


def _resume(
    stamp: StampColumn, table: TableMap, value: Any, exact: bool, start: Cursor
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses for ``start``, whose smallest stored value is ``value``."""
    raw = stamp.raw
    if not exact or start.id is None:
        return [raw >= value]
    return [raw >= value, sa.or_(raw > value, table.id > table.parse_id(start.id))]


@dataclass
class IndexOrder:
    """``ORDER BY updated_at, id`` with keyset pages (see the module docstring)."""

    db: Database
    table: TableMap
    stamp: StampColumn
    start: Cursor | None
    conditions: list[sa.ColumnElement[bool]]
    #: where the first page begins: the start bound, or the bottom of a family's range
    where: list[sa.ColumnElement[bool]]
    #: the bound may let through rows at or before ``start``: drop them here
    recheck: bool
    #: the top of the family's range, on every page (integers: below every text)
    upper: list[sa.ColumnElement[bool]] = field(default_factory=list)

    def count(self) -> int:
        raw = self.stamp.raw
        reached = sa.and_(raw.is_not(None), *self.where, *self.upper)
        statement = (
            sa.select(sa.func.count())
            .select_from(self.table.table)
            .where(*self.conditions, sa.or_(raw.is_(None), reached))
        )
        with self.db.engine.connect() as connection:
            return int(connection.execute(statement).scalar_one())

    def pages(self) -> Iterator[tuple[list[NativeRecord], Key]]:
        table, stamp, start = self.table, self.stamp, self.start
        raw, ident = stamp.raw, table.id
        statement = (
            sa.select(*table.select_columns())
            .where(*self.conditions, raw.is_not(None), *self.upper)
            .order_by(raw, ident)
            .limit(self.db.settings.page_size)
        )
        # the keyset as stored, where the next page starts; the instant of the last row yielded
        last: tuple[Any, Any] | None = None
        previous, previous_id = _BEFORE_ALL, None
        recheck = start if self.recheck else None
        instants, native, parse_id = stamp.reader.instants, table.native, table.parse_id
        while True:
            # one lower bound a page: given two (the start and the keyset), SQLite may range
            # over the looser one and filter with the other, scanning from the start each page
            if last is None:
                page = statement.where(*self.where)
            else:
                page = statement.where(raw >= last[0], sa.or_(raw > last[0], ident > last[1]))
            rows = self.db.rows(page)
            if rows and last is not None and (rows[-1][1], rows[-1][0]) == last:
                raise _stalled(table, stamp, last[0], last[1])  # the same page again
            records = []
            for row in rows:
                row_id, value = row[0], row[1]
                if last is not None and value == last[0] and row_id == last[1]:
                    raise _stalled(table, stamp, value, row_id)
                last = (value, row_id)
                try:
                    earliest, latest = instants(value)
                except ValueError:
                    stamp.instants(table.label, row_id, value)  # raises, naming the row
                    raise
                if recheck is not None and not recheck.after(latest, row_id, parse_id):
                    continue
                if earliest < previous or (earliest == previous and _behind(row_id, previous_id)):
                    raise _disorder(table, stamp, value, row_id)
                previous, previous_id = earliest, row_id
                records.append(native(row, earliest))
            if records:
                yield records, (previous, previous_id)
            if len(rows) < self.db.settings.page_size:
                return


@dataclass
class PlannedOrder:
    """SQLite rows of mixed formats, sorted in Python once and fetched by id."""

    db: Database
    table: TableMap
    stamp: StampColumn
    start: Cursor | None
    conditions: list[sa.ColumnElement[bool]]
    #: the part of the index that can hold rows after ``start`` (empty: all)
    where: list[sa.ColumnElement[bool] | sa.TextClause]
    #: texts below this sort below every row of the read: unreadable ones are old, skipped
    floor: str
    _keys: list[Key] | None = field(default=None, init=False)

    def keys(self) -> list[Key]:
        if self._keys is not None:
            return self._keys
        table, stamp, start = self.table, self.stamp, self.start
        raw = stamp.raw
        reached = sa.or_(*self.where) if self.where else raw.is_not(None)
        statement = sa.select(table.id, raw).where(*self.conditions, reached)
        keys: list[Key] = []
        for row_id, value in self.db.rows(statement):
            try:
                earliest, latest = stamp.reader.instants(value)
            except ValueError:
                if start is not None and isinstance(value, str) and value < self.floor:
                    continue  # in the slack below the cursor, and no time: not a change
                stamp.instants(table.label, row_id, value)  # raises, naming the row
                raise
            if start is None or start.after(latest, row_id, table.parse_id):
                keys.append((earliest, row_id))
        try:
            keys.sort()
        except TypeError:  # ids of several types in one column: order them as SQLite does
            keys.sort(key=lambda key: (key[0], _rank(key[1])))
        for before, after in pairwise(keys):
            if before == after:
                raise _stalled(table, stamp, after[0].isoformat(), after[1])
        self._keys = keys
        return keys

    def count(self) -> int:
        nulls = 0
        if self.stamp.column.nullable:
            statement = (
                sa.select(sa.func.count())
                .select_from(self.table.table)
                .where(*self.conditions, self.stamp.raw.is_(None))
            )
            with self.db.engine.connect() as connection:
                nulls = int(connection.execute(statement).scalar_one())
        return nulls + len(self.keys())

    def pages(self) -> Iterator[tuple[list[NativeRecord], Key]]:
        table = self.table
        base = sa.select(*table.select_columns()).where(*self.conditions)
        keys, size = self.keys(), self.db.settings.page_size
        for chunk in (keys[at : at + size] for at in range(0, len(keys), size)):
            rows = self.db.rows(base.where(in_list(table.id, [key[1] for key in chunk])))
            by_id = {row[0]: row for row in rows}
            # a row deleted since it was planned is gone; one changed since is read as it
            # is now, and read again by the next run (its new time is after this run began)
            records = [table.native(by_id[key[1]]) for key in chunk if key[1] in by_id]
            yield records, chunk[-1]


Order = IndexOrder | PlannedOrder


def choose(
    db: Database,
    table: TableMap,
    stamp: StampColumn,
    start: Cursor | None,
    conditions: list[sa.ColumnElement[bool]],
) -> Order:
    """How to read ``table`` from ``start``: in index order where the data allow it."""
    raw = stamp.raw
    if stamp.kind is not StampKind.SQLITE:
        if start is None:
            return IndexOrder(db, table, stamp, start, conditions, [], recheck=False)
        value, exact = stamp.bound(start.at)
        where = _resume(stamp, table, value, exact, start)
        return IndexOrder(db, table, stamp, start, conditions, where, recheck=not exact)

    zone = stamp.reader.zone
    text_floor = ""
    number_floor: int | None = None
    if start is not None:
        text_floor = min(family.encode(start.at, zone)[0] for family in FAMILIES)
        number_floor = (start.at - EPOCH) // SECOND
    texts_reached = raw >= text_floor
    numbers_reached = sa.and_(
        raw < "", raw.is_not(None) if number_floor is None else raw >= number_floor
    )
    with db.engine.connect() as connection:
        families, numbers = _census(connection, table, stamp, text_floor, number_floor)
        single = next(iter(families)) if len(families) == 1 and not numbers else ""
        family = _BY_NAME.get(single)
        integers = not families and numbers <= {"integer"}
        if (
            (family or integers)
            and start is not None
            and _hidden(connection, table, stamp, start, text_floor)
        ):
            family, integers = None, False

    if family is not None:
        where = [raw >= ""]
        exact = False
        if start is not None:
            value, exact = family.encode(start.at, zone)
            where = _resume(stamp, table, value, exact, start)
        return IndexOrder(
            db, table, stamp, start, conditions, where, recheck=start is not None and not exact
        )
    if integers:
        where = []
        exact = False
        if start is not None:
            seconds, rest = divmod(start.at - EPOCH, SECOND)
            value, exact = int(seconds) + (1 if rest else 0), not rest
            where = _resume(stamp, table, value, exact, start)
        recheck = start is not None and not exact
        return IndexOrder(db, table, stamp, start, conditions, where, recheck, [raw < ""])
    reaches: list[sa.ColumnElement[bool] | sa.TextClause] = []
    if start is not None:
        with db.engine.connect() as connection:
            late = _late_below(connection, table, stamp, start, text_floor)
        reaches = [texts_reached, late, numbers_reached]
    return PlannedOrder(db, table, stamp, start, conditions, reaches, floor=text_floor)


@dataclass(frozen=True)
class _CensusSql:
    """The statements of :func:`_census` for one table and column, quoted for SQLite.

    Text, built once: nothing for SQLAlchemy to compile on each connection's engine (a CASE
    of this size as an expression costs milliseconds a read to build and compile).
    """

    #: the families of the texts from :floor on that are not in the connector's own layout
    others: sa.TextClause
    #: whether there is a text from :floor on at all
    texts: sa.TextClause
    #: whether one instant is there as two texts, "...:05.000000" beside "...:05"
    twins: sa.TextClause
    #: whether a text from :floor on is in the connector's own layout
    own: sa.TextClause
    #: the storage classes of the numbers (from :floor on)
    numbers: sa.TextClause
    numbers_from: sa.TextClause


@functools.cache
def _census_sql(table: str, column: str) -> _CensusSql:
    value = f"{table}.{column}"
    # the zero fraction's twin: one index probe, made for zero fractions only
    twin = (
        f"substr({value}, 20, 7) = '.000000' AND EXISTS (SELECT 1 FROM {table} AS "
        f"syncbridge_twin WHERE syncbridge_twin.{column} = "
        f"substr({value}, 1, 19) || substr({value}, 27))"
    )
    whens = [f"WHEN typeof({value}) != 'text' THEN 'odd'"]
    for family in FAMILIES:
        seconds, micro = family.globs()
        whens.append(
            f"WHEN {value} GLOB '{micro}' THEN CASE WHEN {twin} THEN 'odd' ELSE '{family.name}' END"
        )
        whens.append(f"WHEN {value} GLOB '{seconds}' THEN '{family.name}'")
    case = "CASE " + " ".join(whens) + " ELSE 'odd' END"
    # the same terms as the WHERE of the partial index of schema.default_table, so that
    # SQLite reads the others from that index where the table has it
    own = " OR ".join(f"({value} GLOB '{glob}')" for glob in FAMILIES[0].globs())
    reached = f"FROM {table} WHERE {value} >= :floor"
    numbers = f"SELECT DISTINCT typeof({value}) FROM {table} WHERE {value} < ''"
    return _CensusSql(
        others=sa.text(f"SELECT DISTINCT {case} {reached} AND NOT ({own}) LIMIT 2"),
        texts=sa.text(f"SELECT 1 {reached} LIMIT 1"),
        twins=sa.text(f"SELECT 1 {reached} AND {twin} LIMIT 1"),
        own=sa.text(f"SELECT 1 {reached} AND ({own}) LIMIT 1"),
        numbers=sa.text(f"{numbers} AND {value} IS NOT NULL LIMIT 2"),
        numbers_from=sa.text(f"{numbers} AND {value} >= :floor LIMIT 2"),
    )


def _census(
    connection: sa.Connection,
    table: TableMap,
    stamp: StampColumn,
    text_floor: str,
    number_floor: int | None,
) -> tuple[set[str], set[str]]:
    """The :class:`~syncbridge_sql.timestamps.Family` names of the texts from ``text_floor``
    on (``odd`` for texts of no family, and for one instant written as two texts,
    ``...:05.000000`` beside ``...:05``, whose ids their text order could not tell apart),
    and the storage classes of the numbers from ``number_floor`` on (SQLite sorts numbers
    below all text).

    Texts in the connector's own layout are the common case: the others are looked for
    first, in the partial index of a table the connector created (elsewhere by a scan),
    and the own ones need only a look for zero fractions with a twin.
    """
    quote = connection.dialect.identifier_preparer
    sql = _census_sql(quote.format_table(table.table), quote.quote(stamp.column.name))
    floor = {"floor": text_floor}
    families = set(connection.execute(sql.others, floor).scalars())
    if not families:
        if connection.execute(sql.texts, floor).first() is not None:
            own = connection.execute(sql.twins, floor).first() is None
            families = {FAMILIES[0].name if own else "odd"}
    elif len(families) == 1 and connection.execute(sql.own, floor).first() is not None:
        families.add(FAMILIES[0].name)
    if number_floor is None:
        numbers = set(connection.execute(sql.numbers).scalars())
    else:
        numbers = set(connection.execute(sql.numbers_from, {"floor": number_floor}).scalars())
    return families, numbers


@functools.cache
def _late_below_sql(table: str, column: str) -> str:
    value = f"{table}.{column}"
    own, *others = (family.shape_sql(value) for family in FAMILIES)
    return " AND ".join(
        [
            f"{value} >= :slack",
            f"{value} < :floor",
            # first, as SQLite tests the terms in order: cheaper than a GLOB, and false for
            # most texts (texts SQLite cannot read, NULL, count as late: Python decides)
            f"coalesce(julianday({value}), {_LATEST_DAY}) >= julianday(:since)",
            # the WHERE of the partial index of schema.default_table, term for term: where
            # the table has that index, SQLite ranges over it instead (whatever the order)
            f"NOT ({own})",
            *(f"NOT ({shape})" for shape in others),
        ]
    )


def _late_below(
    connection: sa.Connection, table: TableMap, stamp: StampColumn, start: Cursor, floor: str
) -> sa.TextClause:
    """The texts below ``floor`` (where a read from ``start`` begins) that may be after
    ``start`` all the same.

    ``2026-01-01T08:00:00-05:00`` is 13:00 UTC, yet sorts with 08:00: a text with an offset
    behind the zone of the others sorts too early by that much, at most
    :data:`~syncbridge_sql.timestamps.OFFSET_SLACK`. So: a range of the index over the hours
    below ``floor``, where SQLite's ``julianday`` reads each text with its offset (naive ones
    as UTC) and keeps those that may be late enough, and those it cannot read. Texts of a
    :class:`~syncbridge_sql.timestamps.Family` are not among them: they sort as their
    instants, and ``floor`` is below the smallest of each family from ``start`` on. Where
    the table has the partial index of :func:`syncbridge_sql.schema.default_table` (the
    same ``NOT`` term), SQLite ranges over that index, which holds no texts of the
    connector's own layout: an empty range, usually. Text, like :func:`_census`.
    """
    quote = connection.dialect.identifier_preparer
    sql = _late_below_sql(quote.format_table(table.table), quote.quote(stamp.column.name))
    since = wall(shifted(start.at, -_MILLISECOND), UTC).isoformat(sep=" ", timespec="microseconds")
    return sa.text(sql).bindparams(slack=_slack(start.at), floor=floor, since=since)


def _slack(at: datetime) -> str:
    """Below any text of an instant from ``at`` on, whatever its offset (space sorts first)."""
    return shifted(wall(at, UTC), -OFFSET_SLACK).isoformat(sep=" ", timespec="seconds")


def _hidden(
    connection: sa.Connection,
    table: TableMap,
    stamp: StampColumn,
    start: Cursor,
    floor: str,
) -> bool:
    """Whether a row below ``floor`` is after ``start`` (see :func:`_late_below`), Python
    deciding on the few texts SQLite lets through."""
    statement = sa.select(table.id, stamp.raw).where(
        _late_below(connection, table, stamp, start, floor)
    )
    for row_id, value in connection.execute(statement):
        try:
            latest = stamp.reader.instants(value)[1]
        except ValueError:
            continue  # no time at all, and below the cursor: never part of a read
        if start.after(latest, row_id, table.parse_id):
            return True
    return False
