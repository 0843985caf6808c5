"""Prometheus metrics of a fleet: what its workers did, and how far behind each tenant is.

Two sources. The runs a worker's processes finish are counted where they happen
(``syncbridge_runs_total``, ``syncbridge_run_seconds``); a Celery worker runs its tasks in
forked children, so the counters use prometheus_client's multiprocess mode (the worker
command sets ``PROMETHEUS_MULTIPROC_DIR`` before forking). What each tenant's sync looks
like now — seconds since its last good run started (its lag), failures in a row, runs
waiting — is read from the schedule at every scrape (:class:`ScheduleCollector`), so every
worker, or the scheduler, reports the same fleet-wide figures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

RUN_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600)

_counters: dict[str, Any] = {}


def _metric(name: str) -> Any:
    """The process's counter or histogram ``name``, made on first use (after the fork,
    where multiprocess mode needs it)."""
    if not _counters:
        from prometheus_client import Counter, Histogram

        _counters["runs"] = Counter(
            "syncbridge_runs",
            "Entity runs finished by this fleet's workers",
            ["tenant", "sync", "entity", "result"],
        )
        _counters["seconds"] = Histogram(
            "syncbridge_run_seconds",
            "How long an entity run took",
            ["result"],
            buckets=RUN_BUCKETS,
        )
    return _counters[name]


def observe_run(tenant: str, sync: str, entity: str, result: str, seconds: float) -> None:
    """Count one finished turn."""
    if result == "superseded":
        return
    _metric("runs").labels(tenant, sync, entity, result).inc()
    _metric("seconds").labels(result).observe(seconds)


class ScheduleCollector:
    """Per (tenant, sync, entity): lag, failures in a row, when it last ran; fleet-wide:
    runs due but not queued, queued and running."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from syncbridge.fleet.schedule import SCHEDULE, row_state

        labels = ["tenant", "sync", "entity"]
        lag = GaugeMetricFamily(
            "syncbridge_lag_seconds",
            "Seconds since the start of the last run that went well (how stale the other "
            "side may be); absent until one has",
            labels=labels,
        )
        failures = GaugeMetricFamily(
            "syncbridge_consecutive_failures", "Failed or erred runs in a row", labels=labels
        )
        last = GaugeMetricFamily(
            "syncbridge_last_run_finished_timestamp_seconds",
            "When the last run finished (Unix time)",
            labels=labels,
        )
        by_state = GaugeMetricFamily(
            "syncbridge_schedule_rows", "Schedule rows by state", labels=["state"]
        )
        counts = {"due": 0, "queued": 0, "running": 0}
        now = datetime.now(UTC)
        with self.engine.connect() as db:
            rows = db.execute(
                select(
                    SCHEDULE.c.tenant, SCHEDULE.c.sync, SCHEDULE.c.entity,
                    SCHEDULE.c.ok_started_at, SCHEDULE.c.failures, SCHEDULE.c.finished_at,
                    SCHEDULE.c.queued_at, SCHEDULE.c.started_at, SCHEDULE.c.due_at,
                )
            ).all()
        for row in rows:
            key = [row.tenant, row.sync, row.entity]
            if row.ok_started_at is not None:
                lag.add_metric(key, (now - row.ok_started_at).total_seconds())
            failures.add_metric(key, row.failures)
            if row.finished_at is not None:
                last.add_metric(key, row.finished_at.timestamp())
            state = row_state(row)
            if state != "idle":
                counts[state] += 1
            elif row.due_at is not None and row.due_at <= now:
                counts["due"] += 1
        for name, value in counts.items():
            by_state.add_metric([name], value)
        yield from (lag, failures, last, by_state)


def serve_metrics(port: int, engine: Engine, host: str = "0.0.0.0") -> None:
    """Serve /metrics on ``port`` from a background thread: this process's (and with
    ``PROMETHEUS_MULTIPROC_DIR``, its children's) counters and the schedule's gauges."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    registry.register(ScheduleCollector(engine))  # type: ignore[arg-type]
    start_http_server(port, addr=host, registry=registry)
