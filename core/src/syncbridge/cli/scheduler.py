"""``syncbridge scheduler``: queue the fleet's due entity runs."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from syncbridge.cli.common import console
from syncbridge.cli.fleet import fleet_option


@click.command()
@fleet_option
@click.option(
    "--for",
    "seconds",
    type=float,
    default=None,
    help="Stop after this many seconds (default: until stopped).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(min=1, max=65535),
    default=None,
    help="Serve the schedule's Prometheus gauges on this port (/metrics).",
)
def scheduler(fleet_path: str | None, seconds: float | None, metrics_port: int | None) -> None:
    """Keep the schedule in step with the tenants' configs and queue each entity when its
    `every` comes round, until stopped (SIGINT/SIGTERM).

    Run one (or two, for availability: they never queue the same run twice) per fleet.
    """
    from syncbridge.fleet import runtime as fleet_runtime
    from syncbridge.fleet.config import load_fleet
    from syncbridge.fleet.scheduler import Scheduler
    from syncbridge.fleet.tasks import celery_app, sender

    fleet = load_fleet(fleet_path)
    fleet_runtime.configure(fleet)
    runtime = fleet_runtime.runtime()
    if metrics_port is not None:
        from syncbridge.fleet.metrics import serve_metrics

        serve_metrics(metrics_port, runtime.engine)
    app = celery_app(fleet)
    planner = Scheduler(runtime.tenants, runtime.engine, sender(app, fleet))
    stop = threading.Event()

    def stop_now(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stop_now)
    signal.signal(signal.SIGINT, stop_now)
    console.print(f"scheduling the tenants of {fleet.tenants.dir}")
    try:
        planner.serve(stop, seconds)
    finally:
        runtime.close()
    for tenant, reason in sorted(planner.broken.items()):
        console.print(f"tenant {tenant} not scheduled: {reason}")
    console.print(f"scheduler stopped ({planner.sent} tasks sent)")
