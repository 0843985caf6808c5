"""``syncbridge daemon``: run every entity on its own schedule (``every = "10m"``)."""

from __future__ import annotations

import click

from syncbridge.cli.common import console, for_option, open_workspace, stop_on_signals
from syncbridge.engine.schedule import Schedule, Tick


@click.command()
@click.option("--sync", "sync", help="Only this sync (default: all).")
@for_option
@click.pass_context
def daemon(ctx: click.Context, sync: str | None, seconds: float | None) -> None:
    """Run each sync/entity on its schedule until stopped (SIGINT/SIGTERM).

    Every entity runs once at start, then every interval its config gives; entities set
    to "manual" are left to `syncbridge run`. A turn whose lease another process holds is
    skipped and tried again at the next one.
    """
    workspace = open_workspace(ctx)

    def report(tick: Tick) -> None:
        when = f"{tick.at:%H:%M:%S}"
        if tick.skipped:
            console.print(f"{when} {tick.sync}/{tick.entity}: skipped — {tick.skipped}")
            return
        assert tick.summary is not None
        counts = {k: v for r in tick.summary.entities for k, v in r.counts.items() if v}
        text = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do"
        result = "failed" if tick.summary.failed else "ok"
        console.print(
            f"{when} {tick.sync}/{tick.entity}: {result} (run {tick.summary.run_id}): {text}"
        )

    schedule = Schedule(workspace, only_sync=sync, on_tick=report)
    stop = stop_on_signals()
    jobs = schedule.jobs()
    for sync_name, entity, interval in jobs:
        console.print(f"scheduled {sync_name}/{entity} every {interval:g} s")
    schedule.serve(stop, seconds)
    console.print("daemon stopped")
