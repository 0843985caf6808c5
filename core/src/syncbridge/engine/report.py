"""Recording a run: the run row, per-entity counts and one row per record (the report)."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from syncbridge.engine.db import insert_rows
from syncbridge.engine.lease import LEASE, pid_alive
from syncbridge.outcomes import Outcome
from syncbridge.state.store import sqlite_file
from syncbridge.state.tables import EntityRun, Run, RunItem, table

RUN = table(Run)
ENTITY_RUN = table(EntityRun)
RUN_ITEM = table(RunItem)

#: seconds between two signs of life of a running run (``run.alive_at``)
BEAT = 10.0
#: a run silent for this long is dead: six beats missed, as long as a lease lives unrenewed
SILENCE = timedelta(seconds=60)
#: status of a run, and result of its unfinished entity, whose process died
KILLED = "killed"
KILLED_MESSAGE = (
    "stopped without finishing, at an unknown point (its process is gone: killed, or its "
    "machine went down); the next run resumes safely, with nothing duplicated or lost"
)

@dataclass
class Item:
    entity: str
    side: str
    record_id: str
    action: Outcome
    reason: str = ""
    target_id: str | None = None
    detail: dict[str, Any] | None = None


@dataclass
class EntityResult:
    entity: str
    counts: Counter[str] = field(default_factory=Counter)
    result: str = "ok"
    message: str | None = None
    writes: int = 0


class Recorder:
    """Writes a run's rows as it goes, so a killed run still leaves its report behind.

    It also keeps the run's sign of life: the row names the host and pid of the process, and
    a thread renews ``alive_at`` every :data:`BEAT` seconds until :meth:`finish`. A thread,
    not the stages of the run, because a run is alive also while one request takes minutes
    or while it waits for another run's lease. Before starting, it marks the runs whose
    process died as killed (:func:`settle_runs`): the next run is one of the places where
    that shows.
    """

    def __init__(self, engine: Engine, sync: str, mode: str) -> None:
        self.engine = engine
        self.sync = sync
        settle_runs(engine)
        # an in-memory store is seen by this process only: its pid says all, no beat needed
        beats = engine.dialect.name != "sqlite" or sqlite_file(engine.url) is not None
        now = datetime.now(UTC)
        with engine.begin() as db:
            key = db.execute(
                insert(RUN).values(
                    sync=sync,
                    mode=mode,
                    started_at=now,
                    status="running",
                    pid=os.getpid(),
                    host=socket.gethostname(),
                    alive_at=now if beats else None,
                )
            ).inserted_primary_key
            assert key is not None
            self.run_id = int(key[0])
        self._heartbeat = _Heartbeat(engine, self.run_id) if beats else None

    def start_entity(self, entity: str) -> None:
        with self.engine.begin() as db:
            db.execute(
                insert(ENTITY_RUN).values(
                    run_id=self.run_id,
                    entity=entity,
                    sync=self.sync,
                    started_at=datetime.now(UTC),
                    result="running",
                    counts="{}",
                )
            )

    def items(self, db: Any, items: list[Item]) -> None:
        """Insert report rows inside the caller's transaction (with the writes they report)."""
        if items:
            insert_rows(
                db,
                RUN_ITEM,
                [
                    {
                        "run_id": self.run_id,
                        "entity": i.entity,
                        "side": i.side,
                        "record_id": i.record_id,
                        "target_id": i.target_id,
                        "action": i.action,
                        "reason": i.reason,
                        "detail": json.dumps(i.detail, default=str) if i.detail else None,
                    }
                    for i in items
                ],
            )

    def finish_entity(self, result: EntityResult) -> None:
        with self.engine.begin() as db:
            db.execute(
                update(ENTITY_RUN)
                .where(ENTITY_RUN.c.run_id == self.run_id, ENTITY_RUN.c.entity == result.entity)
                .values(
                    finished_at=datetime.now(UTC),
                    result=result.result,
                    counts=json.dumps(dict(result.counts)),
                    message=result.message,
                )
            )

    def finish(self, status: str) -> None:
        """The run's end. It replaces a ``killed`` too: a run that finishes was not dead
        (a process stopped for a while, say, and judged dead meanwhile)."""
        if self._heartbeat is not None:
            self._heartbeat.stop()
        with self.engine.begin() as db:
            db.execute(
                update(RUN)
                .where(RUN.c.id == self.run_id)
                .values(finished_at=datetime.now(UTC), status=status)
            )


class _Heartbeat:
    """Renews ``run.alive_at`` every :data:`BEAT` seconds from a daemon thread.

    A run found marked killed while it beats (it was stopped longer than :data:`SILENCE`,
    say, or a clock jumped) is put back to running: it is not dead, its end will be written.
    A beat that fails (the store busy or unreachable for a moment) is simply tried again at
    the next one; silence for :data:`SILENCE` is what makes a run dead, not one miss.
    """

    def __init__(self, engine: Engine, run_id: int) -> None:
        self.engine, self.run_id = engine, run_id
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"syncbridge-run-{run_id}-alive", daemon=True
        )
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopped.wait(BEAT):
            try:
                self.beat()
            except SQLAlchemyError:
                continue

    def beat(self) -> None:
        with self.engine.begin() as db:
            db.execute(
                update(RUN).where(RUN.c.id == self.run_id).values(alive_at=datetime.now(UTC))
            )
            revived = db.execute(
                update(RUN)
                .where(RUN.c.id == self.run_id, RUN.c.status == KILLED)
                .values(status="running")
            ).rowcount
            if revived:
                db.execute(
                    update(ENTITY_RUN)
                    .where(
                        ENTITY_RUN.c.run_id == self.run_id,
                        ENTITY_RUN.c.result == KILLED,
                        ENTITY_RUN.c.finished_at.is_(None),
                    )
                    .values(result="running", message=None)
                )

    def stop(self) -> None:
        self._stopped.set()
        # a beat held up by a busy store may finish after the run's end: harmless, it only
        # touches alive_at then (the end is not "killed")
        self._thread.join(timeout=BEAT)


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every time stored here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _dead(run: Any, now: datetime, leases: Sequence[Any]) -> bool:
    """Whether the process of a ``running`` run is gone.

    A pid means something only on the host that ran it: there, a pid that is gone is
    conclusive at once. From another host, the run is dead once silent for
    :data:`SILENCE`. A silence that long also outweighs a live pid on the same host: the
    pid was reused after the run died (a reboot, or a long time). Rows written before the
    run knew its host and had a sign of life are alive while their pid holds a lease that
    has not expired.
    """
    here = socket.gethostname()
    if run.host == here and run.pid == os.getpid():
        return False  # this very process: alive, whatever its heartbeat says
    silent = run.alive_at is not None and _aware(run.alive_at) < now - SILENCE
    if run.host == here:
        return silent or not pid_alive(run.pid)
    if run.host is not None:
        return silent
    return not any(
        lease.pid == run.pid
        and _aware(lease.expires_at) > now
        and (lease.host != here or pid_alive(lease.pid))
        for lease in leases
    )


def settle_runs(engine: Engine) -> set[int]:
    """Mark the ``running`` runs whose process died as killed; returns their ids.

    Called wherever runs are looked at (``status``, ``report``) and when a run starts, so a
    killed run is shown as such the next time anyone looks, from any process. The unfinished
    entity of such a run gets the result ``killed`` and :data:`KILLED_MESSAGE`. The ids are
    returned even when the store cannot be written (a read-only copy, say), so that what is
    shown is right anyway.
    """
    now = datetime.now(UTC)
    with engine.connect() as db:
        running = db.execute(
            select(RUN.c.id, RUN.c.pid, RUN.c.host, RUN.c.alive_at).where(
                RUN.c.status == "running"
            )
        ).all()
        if not running:
            return set()
        leases = (
            db.execute(select(LEASE.c.host, LEASE.c.pid, LEASE.c.expires_at)).all()
            if any(run.host is None for run in running)
            else []
        )
    dead = {int(run.id) for run in running if _dead(run, now, leases)}
    if dead:
        try:
            with engine.begin() as db:
                for run_id in sorted(dead):
                    marked = db.execute(
                        update(RUN)
                        .where(RUN.c.id == run_id, RUN.c.status == "running")
                        .values(status=KILLED)
                    ).rowcount
                    if marked:
                        db.execute(
                            update(ENTITY_RUN)
                            .where(
                                ENTITY_RUN.c.run_id == run_id, ENTITY_RUN.c.result == "running"
                            )
                            .values(result=KILLED, message=KILLED_MESSAGE)
                        )
        except SQLAlchemyError:
            pass  # shown as killed all the same; marked by the next look that can write
    return dead
