"""The emulator's in-memory database: named tables of dict records with integer ids.

Ids are auto-increment integers per table (real systems hand out ids; deterministic ids make
test failures reproducible). Every write stamps ``created_at``/``updated_at`` from the store's
:class:`~syncbridge.emulator.clock.Clock`, so ``changed_since`` answers incremental reads
exactly, and every delete leaves a tombstone for systems that report deletions.

Records are copy-on-write: a write deep-copies what it is given and replaces the stored dict, so
a record read earlier is a stable snapshot that no later write changes. Reads return the stored
snapshot itself (typed read-only) rather than a copy, which keeps listing large tables cheap;
build response bodies from it (``{**record, ...}``) instead of mutating it.

One lock guards the whole store: uvicorn runs handlers on one event loop, but tests touch the
store from their own thread at the same time.
"""

from __future__ import annotations

import builtins
import copy
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from syncbridge.emulator.clock import Clock

Record = Mapping[str, Any]
#: called after every write with (table name, "create" | "update" | "delete", the record)
Listener = Callable[[str, str, Record], None]

CREATED = "created_at"
UPDATED = "updated_at"


@dataclass(frozen=True)
class Tombstone:
    """A deleted record: its id, when it was deleted, and what it was."""

    id: int
    deleted_at: datetime
    record: Record


class Table:
    """One resource's records, in id order. Get it from :meth:`Store.table`."""

    def __init__(
        self,
        name: str,
        *,
        clock: Clock,
        lock: threading.RLock,
        start: int = 1,
        id_field: str = "id",
        listeners: builtins.list[Listener] | None = None,
    ) -> None:
        self.name = name
        #: the store's listeners (shared list): told of every write, e.g. to send webhooks
        self._listeners = [] if listeners is None else listeners
        self.id_field = id_field
        self._clock = clock
        self._lock = lock
        self._next_id = start
        self._rows: dict[int, dict[str, Any]] = {}
        self._tombstones: list[Tombstone] = []
        #: bumped by every write: an emulator may cache a rendered, sorted listing under it
        #: so that reading N records page by page costs O(N), not O(N) per page
        self.revision = 0

    def insert(self, record: Mapping[str, Any], *, id: int | None = None) -> Record:
        """Store a new record and return it with its id and timestamps.

        :param id: a fixed id (reference data with well-known ids); by default the next one.
        """
        with self._lock:
            if id is None:
                id = self._next_id
            elif id in self._rows:
                raise KeyError(f"{self.name}: id {id} already exists")
            self._next_id = max(self._next_id, id + 1)
            now = self._clock.now()
            row = copy.deepcopy(dict(record))
            row.update({self.id_field: id, CREATED: now, UPDATED: now})
            self._rows[id] = row
            self.revision += 1
            self._tell("create", row)
            return row

    def get(self, id: int) -> Record | None:
        """The record with this id, or None."""
        with self._lock:
            return self._rows.get(id)

    def update(self, id: int, changes: Mapping[str, Any]) -> Record | None:
        """Merge ``changes`` into the record (a PATCH); None when there is no such record."""
        with self._lock:
            current = self._rows.get(id)
            if current is None:
                return None
            return self._write(id, {**current, **copy.deepcopy(dict(changes))}, current)

    def replace(self, id: int, record: Mapping[str, Any]) -> Record | None:
        """Replace the record's fields (a PUT), keeping its id and ``created_at``."""
        with self._lock:
            current = self._rows.get(id)
            if current is None:
                return None
            return self._write(id, copy.deepcopy(dict(record)), current)

    def delete(self, id: int) -> Record | None:
        """Remove the record and leave a tombstone; returns what was deleted, or None."""
        with self._lock:
            row = self._rows.pop(id, None)
            if row is not None:
                self._tombstones.append(Tombstone(id, self._clock.now(), row))
                self.revision += 1
                self._tell("delete", row)
            return row

    def list(self, where: Callable[[Record], bool] | None = None) -> list[Record]:
        """The records (those ``where`` accepts), in id order."""
        with self._lock:
            rows: builtins.list[Record] = [*self._rows.values()]
        return rows if where is None else [row for row in rows if where(row)]

    def changed_since(self, since: datetime | None) -> builtins.list[Record]:
        """Records created or updated strictly after ``since`` (all when None), oldest first."""
        with self._lock:
            rows = [row for row in self._rows.values() if since is None or row[UPDATED] > since]
        return sorted(rows, key=lambda row: row[UPDATED])

    def deleted_since(self, since: datetime | None) -> builtins.list[Tombstone]:
        """Tombstones of records deleted strictly after ``since``, oldest first."""
        with self._lock:
            return [t for t in self._tombstones if since is None or t.deleted_at > since]

    def clear(self) -> None:
        """Forget every record and tombstone; ids keep counting up (as in a real system)."""
        with self._lock:
            self._rows.clear()
            self._tombstones.clear()
            self.revision += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)

    def __contains__(self, id: object) -> bool:
        with self._lock:
            return id in self._rows

    def __iter__(self) -> Iterator[Record]:
        return iter(self.list())

    def __repr__(self) -> str:
        return f"<Table {self.name!r}: {len(self)} records>"

    def _write(self, id: int, row: dict[str, Any], current: Record) -> Record:
        row.update({self.id_field: id, CREATED: current[CREATED], UPDATED: self._clock.now()})
        self._rows[id] = row
        self.revision += 1
        self._tell("update", row)
        return row

    def _tell(self, operation: str, row: Record) -> None:
        for listener in self._listeners:
            listener(self.name, operation, row)


class Store:
    """Named tables sharing one clock and one lock.

    :param resolution: the clock's smallest step (see :class:`Clock`).
    """

    def __init__(self, *, resolution: timedelta = timedelta(microseconds=1)) -> None:
        self.clock = Clock(resolution)
        self._lock = threading.RLock()
        self._tables: dict[str, Table] = {}
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """Call ``listener(table, operation, record)`` after every write to any table, under
        the store's lock (keep it quick: queue the work, as a webhook sender does)."""
        with self._lock:
            self._listeners.append(listener)

    def table(self, name: str, *, start: int = 1, id_field: str = "id") -> Table:
        """The table ``name``, created on first use (``start`` and ``id_field`` apply then)."""
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                table = Table(
                    name,
                    clock=self.clock,
                    lock=self._lock,
                    start=start,
                    id_field=id_field,
                    listeners=self._listeners,
                )
                self._tables[name] = table
            return table

    def __getitem__(self, name: str) -> Table:
        with self._lock:
            return self._tables[name]

    @property
    def tables(self) -> dict[str, Table]:
        """The tables by name (a copy)."""
        with self._lock:
            return dict(self._tables)
