"""``syncbridge scheduler``: keeps the schedule in step with the tenants' configs and queues
what is due.

Not Celery beat: beat keeps a fixed table of entries in one process, while a fleet's
entries come and go with its tenants' files, and its state (what ran, what is queued) must
survive the scheduler and be shared with the webhook receiver. The schedule lives in
PostgreSQL (:mod:`syncbridge.fleet.schedule`); any number of schedulers may run (for
availability), since rows are taken with ``SKIP LOCKED``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from syncbridge.errors import ConfigError
from syncbridge.fleet import schedule
from syncbridge.fleet.schedule import Dispatch, Key, Wanted
from syncbridge.fleet.tenants import Tenants

log = logging.getLogger("syncbridge.fleet.scheduler")


class Scheduler:
    """Reads the tenants every ``reload_seconds`` and dispatches due rows every
    ``tick_seconds`` (both from ``[scheduler]`` of fleet.toml)."""

    def __init__(
        self,
        tenants: Tenants,
        engine: Engine,
        send: Callable[[Dispatch], None],
    ) -> None:
        self.tenants = tenants
        self.engine = engine
        self.send = send
        self.settings = tenants.fleet.scheduler
        #: tenants whose config could not be read at the last reload, with the reason
        self.broken: dict[str, str] = {}
        #: tasks sent since start
        self.sent = 0

    def reload(self) -> int:
        """Bring the schedule in step with the tenants' files; returns the rows changed.

        A tenant whose config is broken keeps its rows (its syncs go on as they were)
        until its file is fixed or removed.
        """
        wanted: dict[Key, Wanted] = {}
        readable = []
        broken = {}
        known = set(self.tenants.files())
        for tenant in sorted(known):
            try:
                config = self.tenants.config(tenant)
            except ConfigError as error:
                broken[tenant] = str(error)
                continue
            readable.append(tenant)
            for position, (sync, entity) in enumerate(config.run_order()):
                interval = config.syncs[sync].entities[entity].interval
                every = None if interval is None else interval.total_seconds()
                wanted[(tenant, sync, entity)] = Wanted(position, every)
        for tenant, reason in broken.items():
            if self.broken.get(tenant) != reason:
                log.error("%s", reason)
        self.broken = broken
        # rows of tenants whose file is gone are removed too
        gone = self._scheduled_tenants() - known
        schedule.forget_turns(self.engine, self.settings.keep_turns_days)
        return schedule.reconcile(self.engine, wanted, [*readable, *gone])

    def _scheduled_tenants(self) -> set[str]:
        from sqlalchemy import select

        with self.engine.connect() as db:
            return set(db.execute(select(schedule.SCHEDULE.c.tenant).distinct()).scalars())

    def tick(self) -> list[Dispatch]:
        """Queue what is due now."""
        sent = schedule.dispatch(
            self.engine,
            self.send,
            requeue_after=self.settings.requeue_after_seconds,
            schema_of=self.tenants.schema,
        )
        self.sent += len(sent)
        return sent

    def serve(self, stop: threading.Event, seconds: float | None = None) -> None:
        """Reload and tick until ``stop`` is set (or ``seconds`` have passed)."""
        deadline = None if seconds is None else time.monotonic() + seconds
        self.reload()  # a missing tenants directory stops here, with its message
        next_reload = time.monotonic() + self.settings.reload_seconds
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            now = time.monotonic()
            try:
                if now >= next_reload:
                    self.reload()
                    next_reload = now + self.settings.reload_seconds
                self.tick()
            except Exception:  # a database hiccup: try again at the next tick
                log.exception("scheduler tick failed; trying again")
            stop.wait(self.settings.tick_seconds)
