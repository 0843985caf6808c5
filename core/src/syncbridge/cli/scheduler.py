"""``syncbridge scheduler``: queue the fleet's due entity runs."""

from __future__ import annotations

import click

from syncbridge.cli.common import console, for_option, stop_on_signals
from syncbridge.cli.fleet import fleet_option, metrics_port_option, open_fleet


@click.command()
@fleet_option
@for_option
@metrics_port_option("the schedule's Prometheus gauges")
def scheduler(fleet_path: str | None, seconds: float | None, metrics_port: int | None) -> None:
    """Keep the schedule in step with the tenants' configs and queue each entity when its
    `every` comes round, until stopped (SIGINT/SIGTERM).

    Run one (or two, for availability: they never queue the same run twice) per fleet.
    """
    from syncbridge.fleet.scheduler import Scheduler
    from syncbridge.fleet.tasks import celery_app, sender

    runtime = open_fleet(fleet_path)
    fleet = runtime.fleet
    if metrics_port is not None:
        from syncbridge.fleet.metrics import serve_metrics

        serve_metrics(metrics_port, runtime.engine)
    app = celery_app(fleet)
    planner = Scheduler(runtime.tenants, runtime.engine, sender(app, fleet))
    stop = stop_on_signals()
    console.print(f"scheduling the tenants of {fleet.tenants.dir}")
    planner.serve(stop, seconds)
    for tenant, reason in sorted(planner.broken.items()):
        console.print(f"tenant {tenant} not scheduled: {reason}")
    console.print(f"scheduler stopped ({planner.sent} tasks sent)")
