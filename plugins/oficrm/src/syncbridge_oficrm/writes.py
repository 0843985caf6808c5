"""Writes of the plugin's own entities (``sector``, ``sales_data``).

Customers are written by the sql connector (:func:`syncbridge_sql.writes.upsert_items`);
its batch writer checks fields against the canonical models, which these entities are not
part of yet, so they get this small writer with the same promises:

- each batch (``batch_size`` items) is one transaction, stamped by the connection's write
  clock (:meth:`Database.stamps`), so incremental reads see every write;
- each row is written in its own SAVEPOINT: a row the database rejects fails alone, with
  the database's message (no URL, no password), and the others are written;
- creates are idempotent: the key goes to the key column, and a key already stored returns
  that row instead of a second one;
- a ``sales_data`` create for a customer that already has sales data updates that row:
  OfiCRM keeps one per customer (assumption 10), so the statistics feed is an upsert by
  customer;
- each result carries the row as stored, as ``fetch`` returns it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from syncbridge.records import NativeRecord, UpsertItem, UpsertResult
from syncbridge_oficrm.database import OficrmDatabase
from syncbridge_sql.schema import TableMap

__all__ = ["upsert_extra"]


def _params(table: TableMap, item: UpsertItem, stamp: datetime) -> dict[str, Any]:
    record = item.record
    unknown = record.keys() - set(table.fields) - {"id", "updated_at"}
    if unknown:
        raise ValueError(f"unknown {table.entity} field(s): {', '.join(sorted(unknown))}")
    names = [
        name
        for name in table.fields
        if name in record and (item.id is None or not item.changed or name in item.changed)
    ]
    params = table.params(record, names)
    if table.updated_at is not None:
        params[table.updated_at.key] = table.stamp_to_db(stamp)
    return params


def _existing(connection: sa.Connection, table: TableMap, item: UpsertItem) -> Any:
    """The id of the row a create must not duplicate: same key, or same customer."""
    if table.key is not None:
        found = connection.execute(
            sa.select(table.id).where(table.key == item.key)
        ).scalar_one_or_none()
        if found is not None:
            return found
    customer = table.fields.get("company_id")
    if customer is not None and item.record.get("company_id") is not None:
        value = customer.to_db_value(item.record["company_id"])
        return connection.execute(
            sa.select(table.id).where(customer.column == value)
        ).scalar_one_or_none()
    return None


def _write(
    db: OficrmDatabase,
    connection: sa.Connection,
    table: TableMap,
    item: UpsertItem,
    stamp: datetime,
) -> Any:
    """Write one item in its own savepoint; its row id, or ValueError saying why not."""
    params = _params(table, item, stamp)
    db_id = None if item.id is None else table.id_value(item.id)
    with connection.begin_nested():
        if db_id is None:
            db_id = _existing(connection, table, item)
        if db_id is None:
            if table.key is not None:
                params[table.key.key] = item.key
            inserted = connection.execute(sa.insert(table.table).values(params))
            key = inserted.inserted_primary_key
            return key[0] if key else None
        done = connection.execute(sa.update(table.table).where(table.id == db_id).values(params))
        if done.rowcount == 0:
            raise ValueError(f"no {table.entity} with id {db_id}")
        return db_id


def _read_back(
    connection: sa.Connection, table: TableMap, ids: list[Any]
) -> dict[str, NativeRecord]:
    if not ids:
        return {}
    rows = connection.execute(sa.select(*table.select_columns()).where(table.id.in_(ids)))
    return {record["id"]: record for record in (table.native(row) for row in rows)}


def _batch(db: OficrmDatabase, table: TableMap, items: list[UpsertItem]) -> list[UpsertResult]:
    written: dict[int, Any] = {}
    failed: dict[int, str] = {}
    with db.engine.begin() as connection:
        stamps = db.stamps(connection, table, len(items))
        for index, item in enumerate(items):
            try:
                written[index] = _write(db, connection, table, item, stamps[index])
            except (ValueError, TypeError, ArithmeticError) as error:
                failed[index] = f"cannot store {table.entity}: {error}"
            except sa.exc.DBAPIError as error:
                failed[index] = db.message(error)
        stored = _read_back(connection, table, list(written.values()))
    results = []
    for index, item in enumerate(items):
        if index in failed:
            results.append(UpsertResult.failed(item.key, failed[index]))
            continue
        native_id = str(written[index])
        results.append(UpsertResult(key=item.key, id=native_id, record=stored.get(native_id)))
    return results


def upsert_extra(
    db: OficrmDatabase, entity: str, items: list[UpsertItem]
) -> Iterator[UpsertResult]:
    """The results of ``upsert`` for a plugin entity, batch by batch, each committed first."""
    table = db.table(entity)
    size = db.settings.batch_size
    for start in range(0, len(items), size):
        chunk = items[start : start + size]
        try:
            results = _batch(db, table, chunk)
        except sa.exc.SQLAlchemyError as error:
            # the transaction itself failed (connection lost at commit): outcome unknown
            reason = db.message(error)
            results = [UpsertResult.failed(item.key, reason, unknown=True) for item in chunk]
        yield from results


def lookup_extra(db: OficrmDatabase, entity: str, keys: list[str]) -> dict[str, str]:
    """``{key: id}`` of rows created with these idempotency keys."""
    table = db.table(entity)
    if table.key is None or not keys:
        return {}
    with db.engine.connect() as connection:
        rows = connection.execute(sa.select(table.key, table.id).where(table.key.in_(keys)))
        return {str(key): str(row_id) for key, row_id in rows}
