"""Reading: keyset-paginated, incremental, with filters pushed down.

Cursor semantics (exact, documented in the README): a cursor is the keyset
``(updated_at, id)`` of the last row read, as ``<ISO-8601 UTC instant>#<id>``, and
``fetch(since=cursor)`` returns the rows whose ``(instant of updated_at, id)`` comes after it:
a page boundary inside a run of equal timestamps (a bulk import) loses nothing and repeats
nothing, also when a read is resumed from the cursor of any page. A cursor without ``#<id>``
(written by earlier versions, and how a read ends when its last rows are recent: see
:func:`syncbridge.rest.signpost_cursor`) means "stamped at that instant or later".
``lookback_seconds`` turns a cursor into "at or after its instant less that much".

Pages never use OFFSET: each is one short query from the keyset of the previous one, so rows
written while a read is under way cannot shift a page boundary. In which order the rows come
and how that order is asked of the database, whatever format the timestamps are stored in, is
:mod:`syncbridge_sql.ordering`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import chain
from typing import Any

import sqlalchemy as sa

from syncbridge.records import Page
from syncbridge.rest import Cursor, signpost_cursor
from syncbridge.rest.instants import shifted
from syncbridge_sql.database import Database
from syncbridge_sql.mapping import Kind, decimal_to_text
from syncbridge_sql.ordering import Order, choose
from syncbridge_sql.schema import TableMap, in_list

#: ids per ``IN (...)`` list: well inside every server's parameter limit
IN_CHUNK = 500


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _values(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return [value]


def filter_conditions(table: TableMap, filters: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses for ``query["filter"]``, only where SQL equality equals canonical equality.

    Pushing a filter down must never drop a row the engine's own filter would keep, so some
    are left to the engine: JSON fields, decimals stored as text, and every field of a custom
    mapping, whose stored values need not be in canonical form (``it`` for country ``IT``,
    padded strings) — there only ``id`` is pushed down.
    """
    conditions: list[sa.ColumnElement[bool]] = []
    for name, wanted in filters.items():
        if name == "id":
            column, convert = table.id, table.parse_id
        else:
            mapped = table.fields.get(name)
            if (
                mapped is None
                or table.custom
                or mapped.spec.kind is Kind.JSON
                or mapped.to_db is decimal_to_text
            ):
                continue
            column = mapped.column
            # a filter from a TOML config may say postal_code = 20100: compare as text
            convert = _as_text if mapped.spec.kind is Kind.TEXT else mapped.to_db_value
        values = _values(wanted)
        try:
            converted = [convert(value) for value in values if value is not None]
        except (ValueError, TypeError, ArithmeticError):
            if name == "id":
                converted = []  # an id that cannot exist matches nothing
            else:
                continue  # leave it to the engine rather than guess
        parts: list[sa.ColumnElement[bool]] = []
        if converted:
            parts.append(column == converted[0] if len(converted) == 1 else column.in_(converted))
        if any(value is None for value in values):
            parts.append(column.is_(None))
        conditions.append(sa.or_(*parts) if parts else sa.false())
    return conditions


def fetch_pages(
    db: Database, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    """The pages of the ``fetch`` hook."""
    table = db.table(entity)
    conditions = filter_conditions(table, query.get("filter") or {})
    try:
        if query.get("ids") is not None:
            yield from _by_ids(db, table, [str(i) for i in query["ids"]], conditions)
            return
        start = Cursor.parse(since) if since else None
        yielded = False
        for page in _pages(db, table, since, start, conditions):
            yielded = True
            yield page
        if not yielded:
            yield Page(records=[], cursor=since)
    except sa.exc.SQLAlchemyError as error:
        raise db.error(f"cannot read {entity} from {table.label}", error) from None


def _pages(
    db: Database,
    table: TableMap,
    since: str | None,
    start: Cursor | None,
    conditions: list[sa.ColumnElement[bool]],
) -> Iterator[Page]:
    """Rows without a time first (read every time), then the rest from ``start`` on.

    The first page, when full, says how many rows the whole read returns, about
    (``Page.total``): one COUNT, so that a long read can be spread over two processes from
    its start (see syncbridge.engine.mapworker). A hint: rows written meanwhile may change it.
    """
    size = db.settings.page_size
    base = sa.select(*table.select_columns()).where(*conditions)
    stamp = table.stamp
    count: Callable[[], int]
    if stamp is None:
        # no modification time: every read is a full read, paged by id, with no cursor
        pages = _by_id_keyset(db, table, base, size, cursor=None)
        count = partial(_count_all, db, table, conditions)
    else:
        started = datetime.now(UTC)
        if start is not None and db.settings.lookback_seconds:
            start = Cursor(shifted(start.at, -timedelta(seconds=db.settings.lookback_seconds)))
        order = choose(db, table, stamp, start, conditions)
        count = order.count
        pages = _stamped(order, started, stamp.step)
        if stamp.column.nullable:
            # rows without a time changed at an unknown moment: read them every time
            nulls = _by_id_keyset(db, table, base.where(stamp.raw.is_(None)), size, since)
            pages = chain(nulls, pages)
    first = True
    for page in pages:
        if first and len(page.records) >= size:
            page.total = count()
        first = False
        yield page


def _stamped(order: Order, started: datetime, step: timedelta) -> Iterator[Page]:
    """The pages of ``order``, each with the keyset of its last row as cursor; and, if the
    last row is too recent for its keyset to be safe, a last empty page with the cursor to
    end the read with (see :func:`syncbridge.rest.signpost_cursor`)."""
    last = None
    for records, last in order.pages():
        yield Page(records=records, cursor=str(Cursor(last[0], str(last[1]))))
    if last is not None and (final := signpost_cursor(last[0], started, step)) is not None:
        yield Page(records=[], cursor=str(final))


def _count_all(db: Database, table: TableMap, conditions: list[sa.ColumnElement[bool]]) -> int:
    statement = sa.select(sa.func.count()).select_from(table.table).where(*conditions)
    with db.engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def _by_id_keyset(
    db: Database, table: TableMap, base: sa.Select[Any], size: int, cursor: str | None
) -> Iterator[Page]:
    statement = base.order_by(table.id).limit(size)
    last_id: Any = None
    while True:
        page = statement if last_id is None else statement.where(table.id > last_id)
        rows = db.rows(page)
        if not rows:
            return
        last_id = rows[-1][0]
        yield Page(records=[table.native(row) for row in rows], cursor=cursor)
        if len(rows) < size:
            return


def _by_ids(
    db: Database, table: TableMap, ids: list[str], conditions: list[sa.ColumnElement[bool]]
) -> Iterator[Page]:
    """Only the given ids. No cursor: such a read is not a position in the change stream."""
    values = []
    for native_id in dict.fromkeys(ids):
        try:
            values.append(table.id_value(native_id))
        except ValueError:
            continue  # cannot be an id of this table: simply not found
    base = sa.select(*table.select_columns()).where(*conditions).order_by(table.id)
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start : start + IN_CHUNK]
        rows = db.rows(base.where(in_list(table.id, chunk)))
        yield Page(records=[table.native(row) for row in rows])
    if not values:
        yield Page(records=[])
