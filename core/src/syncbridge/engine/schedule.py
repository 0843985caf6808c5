"""The daemon's schedule: each sync/entity runs on its own interval (APScheduler).

Each job is an ordinary run of one entity under its lease, so a daemon and a manual
``syncbridge run`` (or two daemons on two machines) never write the same entity at once:
whoever finds the lease taken skips that turn and tries at the next one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from syncbridge.engine.runner import RunSummary, run_sync
from syncbridge.errors import LeaseBusy, SyncbridgeError
from syncbridge.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class Tick:
    """One scheduled run's outcome, for the daemon's output and for tests."""

    sync: str
    entity: str
    at: datetime
    summary: RunSummary | None = None
    skipped: str | None = None


@dataclass
class Schedule:
    workspace: Workspace
    only_sync: str | None = None
    on_tick: Callable[[Tick], None] = lambda _tick: None
    ticks: list[Tick] = field(default_factory=list)

    def jobs(self) -> list[tuple[str, str, float]]:
        """(sync, entity, seconds) of every entity with an interval, in the run order
        (:meth:`~syncbridge.config.Config.run_order`: a line after the lines of its
        ``after``)."""
        config = self.workspace.config
        found = []
        for sync_name, entity in config.run_order():
            if self.only_sync and sync_name != self.only_sync:
                continue
            interval = config.syncs[sync_name].entities[entity].interval
            if interval is not None:
                found.append((sync_name, entity, interval.total_seconds()))
        return found

    def run_one(self, sync_name: str, entity: str) -> None:
        tick = Tick(sync_name, entity, datetime.now(UTC))
        try:
            connections = self.workspace.sync_connections(sync_name)
            tick.summary = run_sync(
                sync_name,
                self.workspace.config.syncs[sync_name],
                connections,
                self.workspace.store,
                entities=[entity],
            )
        except LeaseBusy as busy:
            tick.skipped = str(busy)
        except SyncbridgeError as error:  # the daemon goes on; the next turn retries
            tick.skipped = f"{type(error).__name__}: {error}"
        self.ticks.append(tick)
        self.on_tick(tick)

    def serve(self, stop: threading.Event, seconds: float | None = None) -> None:
        """Run every job now and then on its interval, until ``stop`` is set or time is up."""
        jobs = self.jobs()
        if not jobs:
            raise SyncbridgeError(
                'no entity has a schedule: set `every = "10m"` (or similar) on an entity'
            )
        # entities of one sync share connections: one worker keeps their runs in turn
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        # Jobs due at the same moment run in the run order, so a line runs after the lines
        # of its `after` when they are due together: every trigger counts from the same
        # start (turns that coincide are due at the very same time), the scheduler hands
        # due jobs to the executor sorted by time and then by id, the ids sort in the run
        # order, and the one worker takes them first in, first out.
        now = datetime.now(UTC)
        for index, (sync_name, entity, interval) in enumerate(jobs):
            scheduler.add_job(
                self.run_one,
                IntervalTrigger(seconds=interval, start_date=now, timezone=UTC),
                args=(sync_name, entity),
                next_run_time=now,
                id=f"{index:06d}:{sync_name}:{entity}",
                misfire_grace_time=None,
            )
        scheduler.start()
        try:
            stop.wait(seconds)
        finally:
            scheduler.shutdown(wait=True)
