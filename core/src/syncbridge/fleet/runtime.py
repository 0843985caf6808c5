"""What one fleet process holds: the fleet's config, its store engine and tenants' workspaces.

Built lazily in each process (a Celery worker forks its pool's children after loading the
config: a database pool must not cross a fork), and shared by the tasks that process runs.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass

from syncbridge.engine.runner import run_sync
from syncbridge.errors import LeaseBusy, SyncbridgeError
from syncbridge.fleet import schedule
from syncbridge.fleet.config import FleetConfig
from syncbridge.fleet.metrics import observe_run
from syncbridge.fleet.tenants import Tenants, WorkspaceCache
from syncbridge.http.requestlog import redact_text, secrets_of
from syncbridge.state.store import CONNECT_TIMEOUT

log = logging.getLogger("syncbridge.fleet")


@dataclass
class Outcome:
    """How one entity's turn ended, as the task reports it."""

    entity: str
    result: str
    run_id: int | None = None
    error: str | None = None


class Runtime:
    """The fleet as one process sees it."""

    def __init__(self, fleet: FleetConfig) -> None:
        self.fleet = fleet
        self.pid = os.getpid()
        self.worker = f"{socket.gethostname()}:{self.pid}"
        self._base, self.engine = schedule.fleet_engine(
            fleet.state.url,
            fleet.schedule_schema,
            pool_pre_ping=True,
            pool_size=2,
            max_overflow=4,
            connect_args={"connect_timeout": CONNECT_TIMEOUT},
        )
        schedule.ensure_tables(self.engine, fleet.schedule_schema)
        self.tenants = Tenants(fleet)
        self.workspaces = WorkspaceCache(self.tenants, fleet.worker.open_tenants)

    def run_due(
        self, tenant: str, sync: str, items: list[tuple[str, str]], priority: str
    ) -> list[Outcome]:
        """Run the entities of a dispatched task in turn, each only if its token is still
        the schedule's (see :mod:`syncbridge.fleet.schedule`)."""
        outcomes = []
        for entity, token in items:
            key = (tenant, sync, entity)
            if not schedule.claim(self.engine, key, token, self.worker):
                outcomes.append(Outcome(entity, "superseded"))
                continue
            started = time.monotonic()
            outcome = self._run(tenant, sync, entity, priority)
            schedule.finish(
                self.engine, key, token, result=outcome.result, run_id=outcome.run_id,
                error=outcome.error,
            )
            observe_run(tenant, sync, entity, outcome.result, time.monotonic() - started)
            outcomes.append(outcome)
        return outcomes

    def _run(self, tenant: str, sync: str, entity: str, priority: str) -> Outcome:
        secrets: list[str] = []
        try:
            workspace = self.workspaces.get(tenant)
            if sync not in workspace.config.syncs:
                return Outcome(entity, "error", error=f"tenant {tenant} has no sync {sync!r}")
            connections = workspace.sync_connections(sync)
            for connection in connections.values():
                connection.priority = "bulk" if priority == "bulk" else "poll"
                secrets.extend(secrets_of(connection.settings))
            summary = run_sync(
                sync,
                workspace.config.syncs[sync],
                connections,
                workspace.store,
                entities=[entity],
            )
        except LeaseBusy as busy:
            return Outcome(entity, "busy", error=str(busy))
        except SyncbridgeError as error:
            return Outcome(entity, "error", error=f"{type(error).__name__}: {error}")
        except Exception as error:  # the worker goes on with the next task
            log.exception("tenant %s sync %s entity %s: unexpected error", tenant, sync, entity)
            text = redact_text(f"{type(error).__name__}: {error}", secrets)
            return Outcome(entity, "error", error=text)
        result = "failed" if summary.failed else "ok"
        return Outcome(entity, result, run_id=summary.run_id)

    def close(self) -> None:
        self.workspaces.close()
        self._base.dispose()


_runtime: Runtime | None = None
_fleet: FleetConfig | None = None


def configure(fleet: FleetConfig) -> None:
    """Set the fleet this process (and the children it forks) works for."""
    global _fleet, _runtime
    _fleet, _runtime = fleet, None


def runtime() -> Runtime:
    """This process's runtime, built on first use (again after a fork)."""
    global _runtime
    if _fleet is None:
        raise SyncbridgeError("this process has no fleet configured (syncbridge worker does)")
    if _runtime is None or _runtime.pid != os.getpid():
        _runtime = Runtime(_fleet)
    return _runtime
