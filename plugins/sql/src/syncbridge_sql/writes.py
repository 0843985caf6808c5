"""Writing: bulk inserts and updates, one transaction per batch, bad rows isolated.

The fast path of a batch is one bulk ``INSERT`` (an ``executemany`` that the drivers send as
multi-row statements) with the new ids found by their keys in one indexed ``SELECT``, and one
``executemany`` ``UPDATE`` per set of changed columns, all in one transaction, so that a
100k-row load is dominated by the database rather than by Python or round trips.

When the database rejects a statement, the rows are split in halves, each retried in its
own SAVEPOINT, until the offending rows stand alone: they fail with the database's own
message, every other row is written, and a batch with one bad row costs about
``2 * log2(batch_size)`` extra statements instead of one per row.

Idempotent creates: the engine's ``UpsertItem.key`` is written to the key column (unique).
Before inserting, the keys of the batch are looked up; a key already stored returns the
existing row instead of inserting again, and a unique violation on the key (a concurrent
writer) is resolved the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from syncbridge.models import META_FIELDS
from syncbridge.records import NativeRecord, UpsertItem, UpsertResult
from syncbridge_sql.database import Database
from syncbridge_sql.mapping import field_specs
from syncbridge_sql.schema import TableMap, in_list

IN_CHUNK = 500


@dataclass(slots=True)
class _Row:
    """One item of a batch on its way to the database."""

    index: int
    item: UpsertItem
    params: dict[str, Any]
    db_id: Any = None


@dataclass
class _Batch:
    """Outcomes of one batch: database ids of written rows, failures, by item index."""

    items: list[UpsertItem]
    written: dict[int, Any] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)

    def results(self, stored: dict[str, NativeRecord], entity: str) -> list[UpsertResult]:
        results: list[UpsertResult] = []
        for index, item in enumerate(self.items):
            if index in self.written:
                native_id = str(self.written[index])
                record = stored.get(native_id)
                if record is None:  # deleted by someone else before the transaction ended
                    results.append(
                        UpsertResult.failed(item.key, f"no {entity} with id {native_id}", item.id)
                    )
                else:
                    results.append(UpsertResult(key=item.key, id=native_id, record=record))
            else:
                error = self.failed.get(index, "not written")
                results.append(UpsertResult.failed(item.key, error, item.id))
        return results


def _in_chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def _isolate(
    connection: sa.Connection,
    rows: list[_Row],
    run: Callable[[list[_Row]], dict[int, Any]],
    fail: Callable[[_Row, sa.exc.DBAPIError], None],
) -> dict[int, Any]:
    """``run`` over ``rows`` in SAVEPOINTs, halving on database errors; the written ids.

    ``run`` returns ``{row.index: database id}``; those of a savepoint that was rolled back
    are discarded. A lost connection is not a row's fault: it propagates and stops the
    batch (nothing of it is committed, and the engine retries it next run).
    """
    written: dict[int, Any] = {}
    pending = [rows] if rows else []
    while pending:
        chunk = pending.pop()
        try:
            with connection.begin_nested():
                outcome = run(chunk)
        except sa.exc.DBAPIError as error:
            if error.connection_invalidated:
                raise
            if len(chunk) == 1:
                fail(chunk[0], error)
            else:
                middle = len(chunk) // 2
                pending.extend((chunk[middle:], chunk[:middle]))
            continue
        written.update(outcome)
    return written


def _ids_by_key(connection: sa.Connection, table: TableMap, keys: list[str]) -> dict[str, Any]:
    assert table.key is not None
    found: dict[str, Any] = {}
    for chunk in _in_chunks(keys):
        statement = sa.select(table.key, table.id).where(in_list(table.key, chunk))
        found.update({key: db_id for key, db_id in connection.execute(statement)})
    return found


def _insert(
    db: Database, connection: sa.Connection, table: TableMap, rows: list[_Row], batch: _Batch
) -> None:
    dialect = connection.dialect
    # the ids of a bulk insert: by the rows' keys (one plain executemany plus one indexed
    # SELECT, fast everywhere), else by RETURNING in parameter order (batched where the
    # database can tell rows apart; SQLite cannot, and SQLAlchemy then goes row by row)
    returning = dialect.insert_executemany_returning_sort_by_parameter_order

    def run(chunk: list[_Row]) -> dict[int, Any]:
        params = [row.params for row in chunk]
        if table.key is not None:
            connection.execute(sa.insert(table.table), params)
            by_key = _ids_by_key(connection, table, [row.item.key for row in chunk])
            return {row.index: by_key[row.item.key] for row in chunk}
        if returning:
            statement = sa.insert(table.table).returning(table.id, sort_by_parameter_order=True)
            ids = [db_id for (db_id,) in connection.execute(statement, params)]
            return {row.index: db_id for row, db_id in zip(chunk, ids, strict=True)}
        one_by_one: dict[int, Any] = {}
        for row in chunk:
            result = connection.execute(sa.insert(table.table), row.params)
            assert result.inserted_primary_key is not None
            one_by_one[row.index] = result.inserted_primary_key[0]
        return one_by_one

    def fail(row: _Row, error: sa.exc.DBAPIError) -> None:
        if table.key is not None and isinstance(error, sa.exc.IntegrityError):
            # a concurrent writer stored the same key first: the create already happened
            existing = _ids_by_key(connection, table, [row.item.key])
            if row.item.key in existing:
                batch.written[row.index] = existing[row.item.key]
                return
        batch.failed[row.index] = db.message(error)

    # executemany needs the same columns in every row: group rows by their column set
    groups: dict[tuple[str, ...], list[_Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row.params), []).append(row)
    for group in groups.values():
        batch.written.update(_isolate(connection, group, run, fail))


def _create(
    db: Database, connection: sa.Connection, table: TableMap, rows: list[_Row], batch: _Batch
) -> None:
    if table.key is None:
        _insert(db, connection, table, rows, batch)
        return
    # the same key twice in one batch is one create; a key already stored is a create
    # that happened before (a retry after a crash): return that row, insert nothing
    first: dict[str, _Row] = {}
    repeats: list[tuple[_Row, _Row]] = []
    for row in rows:
        if row.item.key in first:
            repeats.append((row, first[row.item.key]))
        else:
            first[row.item.key] = row
    existing = _ids_by_key(connection, table, list(first))
    fresh = []
    for key, row in first.items():
        if key in existing:
            batch.written[row.index] = existing[key]
        else:
            fresh.append(row)
    _insert(db, connection, table, fresh, batch)
    for row, original in repeats:
        if original.index in batch.written:
            batch.written[row.index] = batch.written[original.index]
        else:
            batch.failed[row.index] = batch.failed.get(original.index, "not written")


def _update(
    db: Database, connection: sa.Connection, table: TableMap, rows: list[_Row], batch: _Batch
) -> None:
    present: set[Any] = set()
    for chunk in _in_chunks(list({row.db_id for row in rows})):
        present.update(connection.scalars(sa.select(table.id).where(in_list(table.id, chunk))))
    groups: dict[tuple[str, ...], list[_Row]] = {}
    for row in rows:
        if row.db_id in present:
            groups.setdefault(tuple(row.params), []).append(row)
        else:
            batch.failed[row.index] = f"no {table.entity} with id {row.item.id}"

    for columns, group in groups.items():
        # bind names that cannot clash with column names, whatever the table calls them
        statement = (
            sa.update(table.table)
            .where(table.id == sa.bindparam("sb_where_id"))
            .values({table.table.c[key]: sa.bindparam(f"sb_{n}") for n, key in enumerate(columns)})
        )

        def run(chunk: list[_Row], statement: sa.Update = statement) -> dict[int, Any]:
            params = []
            for row in chunk:
                values = {f"sb_{n}": value for n, value in enumerate(row.params.values())}
                params.append({"sb_where_id": row.db_id, **values})
            connection.execute(statement, params)
            return {row.index: row.db_id for row in chunk}

        def fail(row: _Row, error: sa.exc.DBAPIError) -> None:
            batch.failed[row.index] = db.message(error)

        batch.written.update(_isolate(connection, group, run, fail))


def _read_back(
    connection: sa.Connection, table: TableMap, db_ids: set[Any]
) -> dict[str, NativeRecord]:
    """The stored rows, as ``fetch`` returns them, so the engine hashes what is stored."""
    stored: dict[str, NativeRecord] = {}
    for chunk in _in_chunks(list(db_ids)):
        statement = sa.select(*table.select_columns()).where(in_list(table.id, chunk))
        for row in connection.execute(statement):
            record = table.native(row)
            stored[record["id"]] = record
    return stored


@functools.cache
def _known_fields(entity: str) -> frozenset[str]:
    return frozenset(field_specs(entity)) | META_FIELDS


def _prepare(table: TableMap, item: UpsertItem, stamp: datetime) -> _Row | str:
    """The row of ``item`` (column -> database value), or why it cannot be written."""
    record = item.record
    unknown = record.keys() - _known_fields(table.entity)
    if unknown:
        return f"unknown {table.entity} field(s): {', '.join(sorted(unknown))}"
    if item.id is None or not item.changed:
        names = [name for name in table.fields if name in record]
    else:
        names = [name for name in table.fields if name in item.changed and name in record]
    db_id = None
    if item.id is not None:
        try:
            db_id = table.id_value(item.id)
        except ValueError:
            return f"no {table.entity} with id {item.id}"
    try:
        params = table.params(record, names)
    except (ValueError, TypeError, ArithmeticError) as error:
        return f"cannot store {table.entity}: {error}"
    if table.updated_at is not None:
        params[table.updated_at.key] = table.stamp_to_db(stamp)
    if item.id is None and table.key is not None:
        params[table.key.key] = item.key
    return _Row(index=-1, item=item, params=params, db_id=db_id)


def _write_batch(db: Database, table: TableMap, items: list[UpsertItem]) -> list[UpsertResult]:
    batch = _Batch(items)
    with db.engine.begin() as connection:
        stamps = db.stamps(connection, table, len(items))
        creates: list[_Row] = []
        updates: list[_Row] = []
        for index, item in enumerate(items):
            prepared = _prepare(table, item, stamps[index])
            if isinstance(prepared, str):
                batch.failed[index] = prepared
                continue
            prepared.index = index
            (creates if item.id is None else updates).append(prepared)
        _create(db, connection, table, creates, batch)
        _update(db, connection, table, updates, batch)
        stored = _read_back(connection, table, set(batch.written.values()))
    return batch.results(stored, table.entity)


def upsert_items(db: Database, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """The results of the ``upsert`` hook, batch by batch, each batch committed first."""
    table = db.table(entity)
    if table.key_problem and any(item.id is None for item in items):
        raise db.error(f"cannot create {entity} rows idempotently", ValueError(table.key_problem))
    size = db.settings.batch_size
    for start in range(0, len(items), size):
        try:
            results = _write_batch(db, table, items[start : start + size])
        except sa.exc.SQLAlchemyError as error:
            raise db.error(f"cannot write {entity} to {table.label}", error) from None
        yield from results


def delete_ids(db: Database, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    """The results of the ``delete`` hook, one per id, in order."""
    table = db.table(entity)
    size = db.settings.batch_size
    for start in range(0, len(ids), size):
        chunk_ids = ids[start : start + size]
        try:
            yield from _delete_batch(db, table, chunk_ids)
        except sa.exc.SQLAlchemyError as error:
            raise db.error(f"cannot delete {entity} from {table.label}", error) from None


def _delete_batch(db: Database, table: TableMap, ids: list[str]) -> list[UpsertResult]:
    rows: list[_Row] = []
    failed: dict[int, str] = {}
    for index, native_id in enumerate(ids):
        try:
            db_id = table.id_value(native_id)
        except ValueError:
            failed[index] = f"no {table.entity} with id {native_id}"
            continue
        rows.append(_Row(index, UpsertItem(key=native_id, record={}, id=native_id), {}, db_id))
    with db.engine.begin() as connection:
        present: set[Any] = set()
        for chunk in _in_chunks([row.db_id for row in rows]):
            present.update(connection.scalars(sa.select(table.id).where(in_list(table.id, chunk))))
        existing = []
        for row in rows:
            if row.db_id in present:
                existing.append(row)
            else:
                failed[row.index] = f"no {table.entity} with id {ids[row.index]}"

        def run(chunk: list[_Row]) -> dict[int, Any]:
            doomed = [row.db_id for row in chunk]
            connection.execute(sa.delete(table.table).where(in_list(table.id, doomed)))
            return {row.index: row.db_id for row in chunk}

        def fail(row: _Row, error: sa.exc.DBAPIError) -> None:
            failed[row.index] = db.message(error)

        deleted = _isolate(connection, existing, run, fail)
    return [
        UpsertResult(key=native_id, id=native_id)
        if index in deleted
        else UpsertResult.failed(native_id, failed.get(index, "not deleted"), native_id)
        for index, native_id in enumerate(ids)
    ]


def lookup_keys(db: Database, entity: str, keys: list[str]) -> dict[str, str]:
    """The ``lookup`` hook: ``{key: native id}`` for keys stored in the key column."""
    table = db.table(entity)
    if table.key is None:
        if table.key_problem:  # a key not found would read as a create that made nothing
            raise db.error(f"cannot look up {entity} keys", ValueError(table.key_problem))
        return {}
    try:
        with db.engine.connect() as connection:
            found = _ids_by_key(connection, table, list(dict.fromkeys(keys)))
    except sa.exc.SQLAlchemyError as error:
        raise db.error(f"cannot look up {entity} keys in {table.label}", error) from None
    return {key: str(db_id) for key, db_id in found.items()}
