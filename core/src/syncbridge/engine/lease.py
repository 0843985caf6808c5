"""The lease: one row per (sync, entity) in the state store, held by one process at a time.

A row in the database rather than a file lock, so that it also holds across machines (Celery
workers on one PostgreSQL state store). It expires unless renewed, so a holder that dies
frees it; on the same host a dead holder is recognised at once by its pid.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import TracebackType

from sqlalchemy import ColumnElement, Engine, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from syncbridge.errors import LeaseBusy
from syncbridge.state.tables import Lease, table

LEASE = table(Lease)
TTL = timedelta(seconds=60)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs (meaningless for another host's pid).

    A process killed but not yet reaped by its parent (a zombie) still answers ``kill(pid,
    0)``; it runs no code any more, so on Linux, where ``/proc`` tells, it counts as dead.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # "pid (command) state ...": the command may hold spaces and parentheses
            state = stat.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state not in (b"Z", b"X")


class EntityLease:
    """``with EntityLease(engine, sync, entity):`` — raises LeaseBusy if someone holds it."""

    def __init__(self, engine: Engine, sync: str, entity: str, *, wait: float = 0.0) -> None:
        self.engine, self.sync, self.entity, self.wait = engine, sync, entity, wait
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.holder = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}"
        self._renewed = 0.0

    def _key(self) -> ColumnElement[bool]:
        return and_(LEASE.c.sync == self.sync, LEASE.c.entity == self.entity)

    def _try(self) -> str | None:
        """Take the lease; None on success, else a description of the holder."""
        now = datetime.now(UTC)
        with self.engine.begin() as db:
            row = db.execute(select(LEASE).where(self._key())).first()
            if row is not None:
                expires = (
                    row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
                )
                dead = row.host == self.host and not pid_alive(row.pid)
                if expires > now and not dead:
                    return f"{row.host} pid {row.pid} since {row.acquired_at:%Y-%m-%d %H:%M:%S}"
                db.execute(delete(LEASE).where(self._key(), LEASE.c.holder == row.holder))
            try:
                db.execute(
                    insert(LEASE).values(
                        sync=self.sync,
                        entity=self.entity,
                        holder=self.holder,
                        host=self.host,
                        pid=self.pid,
                        acquired_at=now,
                        expires_at=now + TTL,
                    )
                )
            except IntegrityError:
                return "another process that took it a moment ago"
        self._renewed = time.monotonic()
        return None

    def acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                holder = self._try()
            except IntegrityError:
                holder = "another process that took it a moment ago"
            if holder is None:
                return
            if time.monotonic() >= deadline:
                raise LeaseBusy(
                    f"sync {self.sync!r} entity {self.entity!r} is being run by {holder}; "
                    "not starting a second run (try again later, or pass --wait SECONDS)"
                )
            time.sleep(0.5)

    def renew(self) -> None:
        """Push the expiry forward; cheap to call often (renews at most every few seconds)."""
        if time.monotonic() - self._renewed < TTL.total_seconds() / 6:
            return
        with self.engine.begin() as db:
            db.execute(
                update(LEASE)
                .where(self._key(), LEASE.c.holder == self.holder)
                .values(expires_at=datetime.now(UTC) + TTL)
            )
        self._renewed = time.monotonic()

    def release(self) -> None:
        with self.engine.begin() as db:
            db.execute(delete(LEASE).where(self._key(), LEASE.c.holder == self.holder))

    def __enter__(self) -> EntityLease:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
