"""Reading: keyset-paginated, incremental, with filters pushed down.

Cursor semantics (exact, documented in the README): a cursor is an ISO-8601 UTC timestamp
meaning "the first instant not read yet" — the largest ``updated_at`` returned plus one
microsecond. ``fetch(since=cursor)`` returns rows with ``updated_at >= since`` (minus
``lookback_seconds``). Since every write of this connector is stamped strictly later than
anything already in the table (see :meth:`Database.stamps`), a cursor never skips a later
write and never repeats a row already read.

Pages use keyset pagination on ``(updated_at, id)``, never OFFSET: each page is one indexed
range scan however deep into the table it is, and rows written while a read is under way
cannot shift a page boundary and make a row appear twice or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from syncbridge.errors import ConnectorError
from syncbridge.records import Page
from syncbridge_sql.database import Database
from syncbridge_sql.mapping import Kind, as_utc, decimal_to_text
from syncbridge_sql.schema import TICK, TableMap, in_list

#: ids per ``IN (...)`` list: well inside every server's parameter limit
IN_CHUNK = 500


def parse_cursor(entity: str, since: str) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(since.strip()))
    except ValueError:
        raise ConnectorError(
            f"cannot read {entity} since {since!r}: the sql connector's cursors are ISO-8601 "
            "timestamps; run once with --full to start over"
        ) from None


def format_cursor(last_seen: datetime, step: timedelta) -> str:
    """The cursor after a row stamped ``last_seen``.

    With microsecond stamps, the next instant: exclusive, nothing is read twice. A coarse
    column (whole seconds) may still receive rows stamped ``last_seen`` (see
    :meth:`Database.stamps`), so its cursor is ``last_seen`` itself, inclusive: the rows of
    that last second are read again next time, harmlessly.
    """
    return (last_seen + TICK if step <= TICK else last_seen).isoformat()


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
        since_at = parse_cursor(entity, since) if since else None
        yielded = False
        for page in _pages(db, table, since, since_at, conditions):
            if not yielded and len(page.records) >= db.settings.page_size:
                page.total = _count(db, table, since_at, conditions)  # more pages to come
            yielded = True
            yield page
        if not yielded:
            yield Page(records=[], cursor=since)
    except sa.exc.SQLAlchemyError as error:
        raise db.error(f"cannot read {entity} from {table.label}", error) from None


def _count(
    db: Database,
    table: TableMap,
    since_at: datetime | None,
    conditions: list[sa.ColumnElement[bool]],
) -> int:
    """How many rows the read will return, about (``Page.total``): one COUNT, asked when
    the first page is full, so that a long read can be spread over two processes from its
    start (see syncbridge.engine.mapworker). A hint: rows written meanwhile may change it.
    """
    statement = sa.select(sa.func.count()).select_from(table.table).where(*conditions)
    stamp = table.updated_at
    if stamp is not None and since_at is not None:
        statement = statement.where(
            sa.or_(stamp.is_(None), stamp >= _lower_bound(db, table, since_at))
        )
    with db.engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def _lower_bound(db: Database, table: TableMap, since_at: datetime) -> Any:
    """Where an incremental read starts: the cursor less the lookback (see the module
    docstring), as the database stores the modification time."""
    return table.stamp_to_db(since_at - timedelta(seconds=db.settings.lookback_seconds))


def _run(db: Database, statement: sa.Select[Any]) -> list[Sequence[Any]]:
    # one pooled connection per page: nothing stays open while the engine works on a page
    with db.engine.connect() as connection:
        return list(connection.execute(statement))


def _pages(
    db: Database,
    table: TableMap,
    since: str | None,
    since_at: datetime | None,
    conditions: list[sa.ColumnElement[bool]],
) -> Iterator[Page]:
    size = db.settings.page_size
    base = sa.select(*table.select_columns()).where(*conditions)
    stamp = table.updated_at
    if stamp is None:
        # no modification time: every read is a full read, paged by id, with no cursor
        yield from _by_id_keyset(db, table, base, size, cursor=None)
        return
    if stamp.nullable:
        # rows without a time changed at an unknown moment: read them every time
        yield from _by_id_keyset(db, table, base.where(stamp.is_(None)), size, cursor=since)

    statement = base.where(stamp.is_not(None)).order_by(stamp, table.id).limit(size)
    if since_at is not None:
        statement = statement.where(stamp >= _lower_bound(db, table, since_at))
    cursor = since
    last: tuple[Any, Any] | None = None
    while True:
        page = statement
        if last is not None:
            last_stamp, last_id = last
            page = page.where(stamp >= last_stamp, sa.or_(stamp > last_stamp, table.id > last_id))
        rows = _run(db, page)
        if not rows:
            return
        last = (rows[-1][1], rows[-1][0])
        cursor = format_cursor(table.stamp_from_db(last[0]), table.stamp_step)
        yield Page(records=[table.native(row) for row in rows], cursor=cursor)
        if len(rows) < size:
            return


def _by_id_keyset(
    db: Database, table: TableMap, base: sa.Select[Any], size: int, cursor: str | None
) -> Iterator[Page]:
    statement = base.order_by(table.id).limit(size)
    last_id: Any = None
    while True:
        page = statement if last_id is None else statement.where(table.id > last_id)
        rows = _run(db, page)
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
        rows = _run(db, base.where(in_list(table.id, chunk)))
        yield Page(records=[table.native(row) for row in rows])
    if not values:
        yield Page(records=[])
