"""Fast seeding of an sql connection's tables, for benchmarks.

The table is created and reflected by the sql plugin itself (:class:`Database.table`), so it
has exactly the connector's default layout; rows are then converted with the plugin's own
column converters and stamped with its write clock (:meth:`Database.stamps`), exactly as
``upsert`` would store them, but written with plain executemany batches in one transaction
instead of going through the engine-facing ``upsert`` (idempotency keys, read-back).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import sqlalchemy as sa

from syncbridge.connection import Connection
from syncbridge.models import model_for
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from syncbridge_sql.database import Database
from syncbridge_sql.settings import SqlSettings

BATCH = 10_000
CITIES = ("Milano", "Roma", "Torino", "Napoli", "Bologna", "Firenze", "Genova", "Bari")


def company(index: int) -> dict[str, Any]:
    """A valid canonical company, unique by name (and by name + city)."""
    return {
        "name": f"Company {index:07d}",
        "city": CITIES[index % len(CITIES)],
        "country": "IT",
        "address": f"Via Roma {index}",
        "email": f"c{index}@example.com",
    }


def companies(indexes: Iterable[int]) -> Iterator[dict[str, Any]]:
    return (company(index) for index in indexes)


def _batches(records: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def seed(url: str, entity: str, records: Iterable[dict[str, Any]]) -> int:
    """Insert canonical ``records`` into ``entity``'s table at ``url``; returns the count.

    The first record is validated against the canonical model (the others share its shape):
    a seed that the engine would reject would measure failures, not syncs.
    """
    db = Database(SqlSettings(url=url))
    table = db.table(entity)
    model = model_for(entity)
    names = list(table.fields)
    count = 0
    try:
        with db.engine.begin() as connection:
            for batch in _batches(records, BATCH):
                if count == 0:
                    model.model_validate(batch[0])
                stamps = db.stamps(connection, table, len(batch))
                rows = []
                for record, stamp in zip(batch, stamps, strict=True):
                    params = table.params({name: record.get(name) for name in names}, names)
                    if table.updated_at is not None:
                        params[table.updated_at.key] = table.stamp_to_db(stamp)
                    rows.append(params)
                connection.execute(sa.insert(table.table), rows)
                count += len(rows)
    finally:
        db.dispose()
    return count


def edit(url: str, entity: str, ids: list[str], **fields: Any) -> None:
    """Change ``fields`` of the records ``ids`` through the connector (a real sparse update)."""
    with Connection("bench-edit", load_connector("sql"), {"url": url}) as conn:
        results = conn.upsert(entity, [
            UpsertItem(key=f"edit-{rid}", id=rid, record=fields, changed=frozenset(fields))
            for rid in ids])
    failed = [result.error for result in results if not result.ok]
    if failed:
        raise RuntimeError(f"editing {entity} failed: {failed}")


def ids(url: str, entity: str, limit: int) -> list[str]:
    """The first ``limit`` ids of ``entity``'s table, in id order."""
    db = Database(SqlSettings(url=url))
    try:
        table = db.table(entity)
        with db.engine.connect() as connection:
            query = sa.select(table.id).order_by(table.id).limit(limit)
            return [str(value) for value in connection.scalars(query)]
    finally:
        db.dispose()
