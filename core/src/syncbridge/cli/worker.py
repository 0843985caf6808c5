"""``syncbridge worker``: a Celery worker running the fleet's due entity runs."""

from __future__ import annotations

import os
import socket
import tempfile

import click

from syncbridge.cli.common import console
from syncbridge.cli.fleet import fleet_option, metrics_port_option


@click.command()
@fleet_option
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Runs at once, each in a process of its own (default: the number of CPUs).",
)
@click.option(
    "--queues",
    default="poll,bulk",
    show_default=True,
    help="Which runs to take: poll (entities already synced), bulk (first syncs).",
)
@metrics_port_option("Prometheus metrics")
@click.option(
    "--loglevel", default="INFO", show_default=True, help="Celery's log level."
)
def worker(
    fleet_path: str | None,
    concurrency: int | None,
    queues: str,
    metrics_port: int | None,
    loglevel: str,
) -> None:
    """Run the fleet's due entity runs as they are queued, until stopped (SIGTERM finishes
    the runs under way first).

    Start as many as the load needs, on any machines that reach the state store and the
    broker; the schedule and each entity's lease make sure no run happens twice.
    """
    from syncbridge.fleet import runtime as fleet_runtime
    from syncbridge.fleet.config import load_fleet
    from syncbridge.fleet.tasks import PRIORITIES, celery_app

    fleet = load_fleet(fleet_path)
    names = [name.strip() for name in queues.split(",") if name.strip()]
    unknown = [name for name in names if name not in PRIORITIES]
    if unknown or not names:
        raise click.UsageError(
            f"--queues: {', '.join(unknown) or 'none given'}; choose from poll, bulk"
        )
    fleet_runtime.configure(fleet)
    if metrics_port is not None:
        # the pool's children count their runs in files here; set before they fork
        os.environ.setdefault(
            "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="syncbridge-metrics-")
        )
        from syncbridge.fleet.metrics import serve_metrics

        serve_metrics(metrics_port, fleet_runtime.runtime().engine)
        console.print(f"metrics on :{metrics_port}/metrics")
    app = celery_app(fleet)
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        "-Q",
        ",".join(fleet.queue(name) for name in names),
        "-n",
        f"syncbridge-{os.getpid()}@{socket.gethostname()}",
        "--without-mingle",
        "--without-gossip",
    ]
    if concurrency is not None:
        argv.append(f"--concurrency={concurrency}")
    app.worker_main(argv=argv)
