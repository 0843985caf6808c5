"""The engine's reads and writes of the state store, in bulk, with SQLAlchemy Core.

Everything here works on a chunk of ids at a time so that the cost of a run follows the
number of changed records, not the size of the tables.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite

from syncbridge.engine.values import match_value
from syncbridge.state.tables import Cursor, Link, MatchKey, Outbox, Pending, Snapshot, table

SNAPSHOT = table(Snapshot)
MATCH_KEY = table(MatchKey)
LINK = table(Link)
CURSOR = table(Cursor)
OUTBOX = table(Outbox)
PENDING = table(Pending)

#: ids per IN (...) list: under SQLite's default variable limit with room to spare
CHUNK = 500

#: a record as the state store keeps it: (native id, fingerprint, JSON of its content)
SnapshotRow = tuple[str, str, str]


def _marker(db: Connection) -> str:
    """The driver's positional placeholder (``?`` for sqlite3, ``%s`` for psycopg)."""
    return "?" if db.dialect.paramstyle == "qmark" else "%s"


#: rows per multi-row ``INSERT`` (see :func:`_insert_values`)
ROWS_PER_INSERT = 500
#: bound parameters per statement: PostgreSQL takes up to 65,535 (SQLite says its own)
_PG_MAX_PARAMS = 65_535


def _insert_values(
    db: Connection, head: str, values: Sequence[tuple[Any, ...]], tail: str = ""
) -> None:
    """``{head} VALUES (...), (...), ...{tail}``: many rows a statement.

    The driver's executemany steps once per row, and sqlite3 lets go of the interpreter
    lock around every step. With the sending or fetching threads busy, taking it back cost
    up to a switch interval each time: measured with one busy thread, 2.5 ms a row through
    executemany against 23 us a row this way (and, with none, 4.5 against 2.6 us).
    """
    if not values:
        return
    width = len(values[0])
    if db.dialect.name == "sqlite":
        raw = db.connection.dbapi_connection
        limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
    else:
        limit = _PG_MAX_PARAMS
    per = max(1, min(ROWS_PER_INSERT, limit // width))
    row = "(" + ", ".join([_marker(db)] * width) + ")"
    for start in range(0, len(values), per):
        part = values[start : start + per]
        db.exec_driver_sql(
            f"{head} VALUES {', '.join([row] * len(part))}{tail}",
            tuple(chain.from_iterable(part)),
        )


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert_rows(
    db: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert rows, replacing the non-key columns of rows whose key already exists."""
    if not rows:
        return
    names = list(rows[0])
    upsert_values(db, table, names, [tuple(row[name] for name in names) for row in rows], keys)


def upsert_values(
    db: Connection,
    table: Table,
    names: Sequence[str],
    values: list[tuple[Any, ...]],
    keys: Sequence[str],
) -> None:
    """:func:`upsert_rows` for rows given as tuples in the order of ``names``."""
    if not values:
        return
    dialect = db.dialect.name
    columns = [name for name in names if name not in keys]
    if dialect in ("sqlite", "postgresql") and columns:
        # the hot path (a page of snapshots at a time): through the driver, without
        # SQLAlchemy's per-row parameter processing. PostgreSQL refuses a statement that
        # touches a key twice: a key given twice keeps its last row, as row by row it would
        # (SQLite applies a statement's rows in turn, so it needs no help)
        unique = values
        if dialect == "postgresql":
            at = [names.index(key) for key in keys]
            unique = list({tuple(row[i] for i in at): row for row in values}.values())
        _insert_values(
            db,
            f"INSERT INTO {table.name} ({', '.join(names)})",
            unique,
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{name} = excluded.{name}" for name in columns),
        )
        return
    rows = [dict(zip(names, row, strict=True)) for row in values]
    if dialect in ("sqlite", "postgresql"):
        module: Any = sqlite if dialect == "sqlite" else postgresql
        statement = module.insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: statement.excluded[name] for name in columns},
        )
        db.execute(statement, rows)
    elif dialect in ("mysql", "mariadb"):
        statement = mysql.insert(table)
        statement = statement.on_duplicate_key_update(
            {name: statement.inserted[name] for name in columns}
        )
        db.execute(statement, rows)
    else:  # portable fallback: delete then insert, in the caller's transaction
        for row in rows:
            db.execute(delete(table).where(and_(*[table.c[k] == row[k] for k in keys])))
        db.execute(insert(table), rows)


def insert_rows(db: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Plain inserts, through the driver many rows a statement where the dialect allows it.

    Values pass through their column type's own conversion for the dialect (a datetime
    becomes what SQLAlchemy would store), so rows read back the same either way.
    """
    if not rows:
        return
    if db.dialect.name in ("sqlite", "postgresql"):
        names = list(rows[0])
        convert = [table.c[name].type.bind_processor(db.dialect) for name in names]
        if any(convert):
            values = [
                tuple(
                    value if fn is None or value is None else fn(value)
                    for fn, value in zip(convert, (row[name] for name in names), strict=True)
                )
                for row in rows
            ]
        else:
            values = [tuple(row[name] for name in names) for row in rows]
        _insert_values(db, f"INSERT INTO {table.name} ({', '.join(names)})", values)
    else:
        db.execute(insert(table), rows)


def _by_ids(
    db: Connection, sql: str, head: tuple[Any, ...], ids: Sequence[str]
) -> Any:
    """Run ``sql`` with ``{ids}`` replaced by an ``IN`` list of ``ids``, through the driver.

    The hot statements of a chunk (marking done, clearing pending, reading snapshots) take
    up to 500 ids; SQLAlchemy renders such a list anew at every execution, which cost more
    than the statement itself. None when the dialect has no driver path here: the caller
    then goes through SQLAlchemy.
    """
    if db.dialect.name not in ("sqlite", "postgresql"):
        return None
    return db.exec_driver_sql(sql.format(ids=", ".join([_marker(db)] * len(ids))), (*head, *ids))


def loads(data: str) -> dict[str, Any]:
    value = orjson.loads(data)
    assert isinstance(value, dict)
    return value


_KEY_COLUMNS = ("sync", "entity", "side", "record_id", "level", "value")
_SNAPSHOT_COLUMNS = ("sync", "entity", "side", "record_id", "hash", "data", "seen_run", "done_run")


class SideStore:
    """State of one side of one sync/entity."""

    def __init__(self, sync: str, entity: str, side: str) -> None:
        self.sync, self.entity, self.side = sync, entity, side

    def _scope(self) -> tuple[str, str, str]:
        return (self.sync, self.entity, self.side)

    @staticmethod
    def _scope_sql(db: Connection) -> str:
        marker = _marker(db)
        return f"sync = {marker} AND entity = {marker} AND side = {marker}"

    def _where(self, table: Table) -> Any:
        return and_(
            table.c.sync == self.sync, table.c.entity == self.entity, table.c.side == self.side
        )

    # -- snapshots ------------------------------------------------------------------------
    def save_snapshots(
        self,
        db: Connection,
        rows: list[SnapshotRow],
        run_id: int,
        match_levels: list[list[str]],
        *,
        done: bool = False,
    ) -> None:
        """Store rows as seen in ``run_id``, with their keys for each of ``match_levels``.

        A record read twice in one batch (changed while it was read) keeps its last version.
        ``match_levels`` is empty where the keys would never be looked up: for a side no
        record is matched against (the source of a one-way sync), and for records just
        written, which are linked (see :meth:`rekey`). ``done`` stores them as handled in
        this run already (what a write just stored).
        """
        if not rows:
            return
        rows = list({row[0]: row for row in rows}.values())
        scope = self._scope()
        done_run = run_id if done else 0
        upsert_values(
            db,
            SNAPSHOT,
            _SNAPSHOT_COLUMNS,
            [(*scope, rid, digest, data, run_id, done_run) for rid, digest, data in rows],
            ("sync", "entity", "side", "record_id"),
        )
        if match_levels:
            self.save_match_keys(db, rows, match_levels)

    def save_match_keys(
        self, db: Connection, rows: Sequence[SnapshotRow], match_levels: list[list[str]]
    ) -> None:
        """Replace the match keys of these records (none when ``match_levels`` is empty)."""
        for part in chunks([row[0] for row in rows]):
            db.execute(
                delete(MATCH_KEY).where(self._where(MATCH_KEY), MATCH_KEY.c.record_id.in_(part))
            )
        if not match_levels:
            return
        keys = []
        scope = self._scope()
        for rid, _digest, data in rows:
            content = loads(data)
            for level, fields in enumerate(match_levels):
                value = match_value(content, fields)
                if value is not None:
                    keys.append((*scope, rid, level, value))
        upsert_values(db, MATCH_KEY, _KEY_COLUMNS, keys, _KEY_COLUMNS[:-1])

    def rekey(self, db: Connection, ids: Sequence[str], match_levels: list[list[str]]) -> None:
        """Rebuild the match keys of records whose link has just gone, from their snapshots.

        Matching only ever looks for unlinked records, so a record's keys are not kept up
        to date while it is linked: a write stores the record without them, leaving none
        (a create) or those of its last read, from before the write (an update). Once
        unlinked (its twin deleted, or a pinned link taking its place) it must be found by
        its current values again.
        """
        if match_levels and ids:
            self.save_match_keys(db, self.snapshot_rows(db, ids), match_levels)

    def drop_match_keys(self, db: Connection) -> None:
        db.execute(delete(MATCH_KEY).where(self._where(MATCH_KEY)))

    def all_snapshots(self, db: Connection) -> Iterator[SnapshotRow]:
        """Every snapshot of this side, streamed in id order (for rebuilding match keys)."""
        after = ""
        while True:
            rows = db.execute(
                select(SNAPSHOT.c.record_id, SNAPSHOT.c.hash, SNAPSHOT.c.data)
                .where(self._where(SNAPSHOT), SNAPSHOT.c.record_id > after)
                .order_by(SNAPSHOT.c.record_id)
                .limit(CHUNK)
            ).all()
            if not rows:
                return
            yield from ((rid, digest, data) for rid, digest, data in rows)
            after = rows[-1][0]

    def snapshots(
        self, db: Connection, ids: Iterable[str]
    ) -> dict[str, tuple[str, dict[str, Any]]]:
        return {rid: (digest, loads(data)) for rid, digest, data in self.snapshot_rows(db, ids)}

    def snapshot_rows(self, db: Connection, ids: Iterable[str]) -> list[SnapshotRow]:
        """``(id, hash, JSON)`` of these records' snapshots, those that have one."""
        found: list[SnapshotRow] = []
        for part in chunks(list(ids)):
            rows = _by_ids(
                db,
                f"SELECT record_id, hash, data FROM snapshot WHERE {self._scope_sql(db)} "
                "AND record_id IN ({ids})",
                self._scope(),
                part,
            )
            if rows is None:
                rows = db.execute(
                    select(SNAPSHOT.c.record_id, SNAPSHOT.c.hash, SNAPSHOT.c.data).where(
                        self._where(SNAPSHOT), SNAPSHOT.c.record_id.in_(part)
                    )
                )
            found.extend((rid, digest, data) for rid, digest, data in rows.all())
        return found

    def seen_runs(self, db: Connection, ids: Iterable[str]) -> dict[str, int]:
        """The run that last read each of these records (those with a snapshot)."""
        found: dict[str, int] = {}
        for part in chunks(list(ids)):
            found.update(
                (rid, int(run))
                for rid, run in db.execute(
                    select(SNAPSHOT.c.record_id, SNAPSHOT.c.seen_run).where(
                        self._where(SNAPSHOT), SNAPSHOT.c.record_id.in_(part)
                    )
                )
            )
        return found

    def candidate_ids(self, db: Connection, run_id: int, after: str, limit: int) -> list[str]:
        """Ids read in this run and not handled yet, after ``after`` in id order."""
        return list(
            db.execute(
                select(SNAPSHOT.c.record_id)
                .where(
                    self._where(SNAPSHOT),
                    SNAPSHOT.c.seen_run == run_id,
                    SNAPSHOT.c.done_run != run_id,
                    SNAPSHOT.c.record_id > after,
                )
                .order_by(SNAPSHOT.c.record_id)
                .limit(limit)
            ).scalars().all()
        )

    def seen_snapshots(self, db: Connection, run_id: int) -> Iterator[SnapshotRow]:
        """The snapshots of this side that ``run_id`` read."""
        rows = db.execute(
            select(SNAPSHOT.c.record_id, SNAPSHOT.c.hash, SNAPSHOT.c.data).where(
                self._where(SNAPSHOT), SNAPSHOT.c.seen_run == run_id
            )
        )
        yield from ((rid, digest, data) for rid, digest, data in rows)

    def unseen_ids(self, db: Connection, run_id: int) -> list[str]:
        """Ids with a snapshot that a complete read in ``run_id`` did not return."""
        return list(
            db.execute(
                select(SNAPSHOT.c.record_id).where(
                    self._where(SNAPSHOT), SNAPSHOT.c.seen_run != run_id
                )
            ).scalars().all()
        )

    def mark_done(self, db: Connection, ids: list[str], run_id: int) -> None:
        for part in chunks(ids):
            done = _by_ids(
                db,
                f"UPDATE snapshot SET done_run = {_marker(db)} WHERE {self._scope_sql(db)} "
                "AND record_id IN ({ids})",
                (run_id, *self._scope()),
                part,
            )
            if done is None:
                db.execute(
                    update(SNAPSHOT)
                    .where(self._where(SNAPSHOT), SNAPSHOT.c.record_id.in_(part))
                    .values(done_run=run_id)
                )

    def forget(self, db: Connection, ids: list[str]) -> None:
        for part in chunks(ids):
            for tab in (SNAPSHOT, MATCH_KEY):
                db.execute(delete(tab).where(self._where(tab), tab.c.record_id.in_(part)))

    def find_matches(self, db: Connection, level: int, values: list[str]) -> dict[str, list[str]]:
        """Unlinked records of this side per match-key value at ``level``.

        A record whose twin was deleted on the other side (a tombstone) counts as unlinked:
        a record entered again there after the deletion is linked to it, not duplicated.
        """
        id_column = LINK.c.left_id if self.side == "left" else LINK.c.right_id
        twin_side = "right" if self.side == "left" else "left"
        twin_id = LINK.c.right_id if self.side == "left" else LINK.c.left_id
        # the deleted twin is back (read again, same id): the link is about to be live again
        back = select(SNAPSHOT.c.record_id).where(
            SNAPSHOT.c.sync == LINK.c.sync,
            SNAPSHOT.c.entity == LINK.c.entity,
            SNAPSHOT.c.side == twin_side,
            SNAPSHOT.c.record_id == twin_id,
        )
        found: dict[str, list[str]] = {}
        for part in chunks(values):
            query = (
                select(MATCH_KEY.c.value, MATCH_KEY.c.record_id)
                .select_from(
                    MATCH_KEY.outerjoin(
                        LINK,
                        and_(
                            LINK.c.sync == MATCH_KEY.c.sync,
                            LINK.c.entity == MATCH_KEY.c.entity,
                            id_column == MATCH_KEY.c.record_id,
                        ),
                    )
                )
                .where(
                    self._where(MATCH_KEY),
                    MATCH_KEY.c.level == level,
                    MATCH_KEY.c.value.in_(part),
                    or_(
                        LINK.c.id.is_(None),
                        and_(LINK.c.deleted == twin_side, ~exists(back)),
                    ),
                )
            )
            for value, rid in db.execute(query).all():  # one fetch, not one per row
                found.setdefault(value, []).append(rid)
        return found

    # -- cursors ----------------------------------------------------------------------------
    def cursor(self, db: Connection) -> str | None:
        return db.execute(select(CURSOR.c.value).where(self._where(CURSOR))).scalar()

    def set_cursor(self, db: Connection, value: str) -> None:
        upsert_rows(
            db,
            CURSOR,
            [{"sync": self.sync, "entity": self.entity, "side": self.side, "value": value}],
            ("sync", "entity", "side"),
        )

    # -- pending ------------------------------------------------------------------------------
    def pending(self, db: Connection) -> dict[str, tuple[str, str, str | None, str | None]]:
        """Records to retry: id -> (kind, reason, native JSON or None, context JSON or None)."""
        return {
            rid: (kind, reason, native, context)
            for rid, kind, reason, native, context in db.execute(
                select(
                    PENDING.c.record_id,
                    PENDING.c.kind,
                    PENDING.c.reason,
                    PENDING.c.native,
                    PENDING.c.context,
                ).where(self._where(PENDING))
            )
        }

    def set_pending(
        self,
        db: Connection,
        rows: list[tuple[str, str, str, str | None]],
        now: datetime,
        contexts: Mapping[str, str] = {},
    ) -> None:
        """Keep ``(id, kind, reason, native JSON)`` rows to retry, with the context (JSON) of
        those ``contexts`` names; a row kept again replaces what was kept of it."""
        upsert_rows(
            db,
            PENDING,
            [
                {
                    "sync": self.sync,
                    "entity": self.entity,
                    "side": self.side,
                    "record_id": rid,
                    "kind": kind,
                    "reason": reason,
                    "native": native,
                    "context": contexts.get(rid),
                    "since": now,
                }
                for rid, kind, reason, native in rows
            ],
            ("sync", "entity", "side", "record_id"),
        )

    def clear_pending(self, db: Connection, ids: list[str]) -> None:
        for part in chunks(ids):
            sql = f"DELETE FROM pending WHERE {self._scope_sql(db)} AND record_id IN ({{ids}})"
            if _by_ids(db, sql, self._scope(), part) is None:
                db.execute(
                    delete(PENDING).where(self._where(PENDING), PENDING.c.record_id.in_(part))
                )


def link_row(
    pair: tuple[str, str],
    hashes: tuple[str, str],
    bases: tuple[str | None, str | None],
    now: datetime,
) -> dict[str, Any]:
    """A new link of ``pair`` (left id, right id), synced ``now`` with these hashes and bases."""
    return {
        "left_id": pair[0],
        "right_id": pair[1],
        "left_hash": hashes[0],
        "right_hash": hashes[1],
        "synced_at": now,
        "left_base": bases[0],
        "right_base": bases[1],
    }


class LinkStore:
    """Links of one sync/entity."""

    def __init__(self, sync: str, entity: str) -> None:
        self.sync, self.entity = sync, entity

    def _where(self) -> Any:
        return and_(LINK.c.sync == self.sync, LINK.c.entity == self.entity)

    def by_side(self, db: Connection, side: str, ids: Iterable[str]) -> dict[str, Any]:
        """Links whose ``side`` id is in ``ids``, keyed by that id."""
        column = LINK.c.left_id if side == "left" else LINK.c.right_id
        found: dict[str, Any] = {}
        for part in chunks(list(ids)):
            for row in db.execute(select(LINK).where(self._where(), column.in_(part))).all():
                found[row.left_id if side == "left" else row.right_id] = row
        return found

    def add(self, db: Connection, rows: list[dict[str, Any]]) -> None:
        if rows:
            insert_rows(
                db, LINK, [{"sync": self.sync, "entity": self.entity, **row} for row in rows]
            )

    def set_hashes(
        self, db: Connection, link_id: int, left_hash: str, right_hash: str, now: datetime
    ) -> None:
        db.execute(
            update(LINK)
            .where(LINK.c.id == link_id)
            .values(left_hash=left_hash, right_hash=right_hash, synced_at=now)
        )

    def settle_many(
        self,
        db: Connection,
        rows: list[tuple[int, str, str, str | None, str | None]],
        now: datetime,
    ) -> None:
        """Record these pairs as synced now: ``(link id, left hash, right hash, left base,
        right base)``, in one statement."""
        if rows:
            db.execute(
                update(LINK)
                .where(LINK.c.id == bindparam("link_id"))
                .values(
                    left_hash=bindparam("lh"),
                    right_hash=bindparam("rh"),
                    left_base=bindparam("lb"),
                    right_base=bindparam("rb"),
                    synced_at=now,
                ),
                [
                    {"link_id": i, "lh": lh, "rh": rh, "lb": lb, "rb": rb}
                    for i, lh, rh, lb, rb in rows
                ],
            )

    def tombstone(self, db: Connection, link_ids: list[int], side: str) -> None:
        """Mark these links' records as deleted on ``side`` (their twins are kept)."""
        for part in chunks(link_ids):
            db.execute(update(LINK).where(LINK.c.id.in_(part)).values(deleted=side))

    def drop_tombstones(self, db: Connection, left_ids: list[str], right_ids: list[str]) -> None:
        """Remove the tombstones of records about to be linked anew."""
        for column, ids in ((LINK.c.left_id, left_ids), (LINK.c.right_id, right_ids)):
            for part in chunks(ids):
                db.execute(
                    delete(LINK).where(
                        self._where(), column.in_(part), LINK.c.deleted.is_not(None)
                    )
                )

    def revive(self, db: Connection, link_ids: list[int]) -> None:
        """A tombstoned record is back: its link is live again."""
        for part in chunks(link_ids):
            db.execute(update(LINK).where(LINK.c.id.in_(part)).values(deleted=None))

    def remove(self, db: Connection, link_ids: list[int]) -> None:
        for part in chunks(link_ids):
            db.execute(delete(LINK).where(LINK.c.id.in_(part)))

    def count(self, db: Connection) -> int:
        from sqlalchemy import func

        return int(
            db.execute(select(func.count()).select_from(LINK).where(self._where())).scalar() or 0
        )
