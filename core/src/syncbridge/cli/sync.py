"""``syncbridge plan`` (the dry run) and ``syncbridge run`` (apply)."""

from __future__ import annotations

import json

import click

from syncbridge.cli.common import EXIT_FAILURES, console, handle_errors, open_workspace
from syncbridge.cli.progress import progress_output
from syncbridge.cli.render import summary_table
from syncbridge.cli.report import detail_lines
from syncbridge.engine.report import FAILURES
from syncbridge.engine.runner import RunSummary, run_sync
from syncbridge.errors import ConfigError
from syncbridge.workspace import Workspace


def _syncs(workspace: Workspace, sync: str | None) -> list[str]:
    if sync is not None:
        if sync not in workspace.config.syncs:
            known = ", ".join(sorted(workspace.config.syncs)) or "none"
            raise ConfigError(f"--sync: no sync named {sync!r} (syncs: {known})")
        return [sync]
    if not workspace.config.syncs:
        raise ConfigError("syncs: the config defines no sync; add a [syncs.<name>] table")
    return sorted(workspace.config.syncs)


def _verbose(workspace: Workspace, summary: RunSummary) -> None:
    from sqlalchemy import select

    from syncbridge.engine.report import RUN_ITEM

    with workspace.store.engine.connect() as db:
        rows = db.execute(
            select(RUN_ITEM)
            .where(RUN_ITEM.c.run_id == summary.run_id)
            .where(RUN_ITEM.c.action != "skipped")
            .order_by(RUN_ITEM.c.id)
        ).all()
    for row in rows:
        twin = "right" if row.side == "left" else "left"
        target = f" -> {twin} {row.target_id}" if row.target_id else ""
        console.print(
            f"  {row.entity} {row.side} {row.record_id}{target}: {row.action}"
            f"{' — ' + row.reason if row.reason else ''}",
            markup=False,
        )
        for line in detail_lines(json.loads(row.detail) if row.detail else None):
            console.print(f"      {line}", markup=False)


def _execute(
    ctx: click.Context,
    *,
    sync: str | None,
    entity: tuple[str, ...],
    full: bool,
    dry_run: bool,
    record: str | None,
    side: str | None,
    quiet: bool,
    verbose: bool,
    wait: float,
) -> None:
    workspace = open_workspace(ctx)
    if record is not None and side is None:
        raise ConfigError("--record needs --side left|right (the side the id belongs to)")
    names = _syncs(workspace, sync)
    if record is not None and len(names) > 1:
        raise ConfigError("--record needs --sync (which sync the record belongs to)")
    failed = False
    with progress_output(quiet) as progress:
        for name in names:
            connections = workspace.sync_connections(name)
            summary = run_sync(
                name,
                workspace.config.syncs[name],
                connections,
                workspace.store,
                entities=list(entity) or None,
                full=full,
                dry_run=dry_run,
                record=(side, record) if record is not None else None,  # type: ignore[arg-type]
                wait=wait,
                progress=progress,
            )
            if not quiet:
                summary_table(summary)
                if verbose:
                    _verbose(workspace, summary)
            failed = (
                failed
                or summary.failed
                or any(r.counts[o] for r in summary.entities for o in FAILURES)
            )
    if failed:
        ctx.exit(EXIT_FAILURES)


_common = [
    click.option("--sync", "sync", help="Only this sync (default: all)."),
    click.option("--entity", "entity", multiple=True, help="Only this entity (repeatable)."),
    click.option("--quiet", "-q", is_flag=True, help="No progress and no summary."),
    click.option("--verbose", "-v", is_flag=True, help="List every record that changes."),
]


def _with_common(command: click.Command) -> click.Command:
    for option in reversed(_common):
        command = option(command)
    return command


@click.command()
@click.option("--full", is_flag=True, help="Ignore cursors: re-read and re-compare everything.")
@click.pass_context
@handle_errors
def _plan(
    ctx: click.Context,
    sync: str | None,
    entity: tuple[str, ...],
    full: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Dry run: what a run would create, update, skip, and why. Writes nothing to either side."""
    _execute(
        ctx,
        sync=sync,
        entity=entity,
        full=full,
        dry_run=True,
        record=None,
        side=None,
        quiet=quiet,
        verbose=verbose,
        wait=0,
    )


@click.command()
@click.option(
    "--full",
    is_flag=True,
    help="Sync all: ignore cursors, re-compare everything, write only what differs.",
)
@click.option(
    "--record",
    help="Sync only this record id (with --side; --sync if there are several syncs; --entity "
    "if several entities have that id).",
)
@click.option("--side", type=click.Choice(["left", "right"]), help="The side --record is on.")
@click.option(
    "--wait",
    type=float,
    default=0.0,
    help="Seconds to wait for another run of the same sync/entity to finish.",
)
@click.pass_context
@handle_errors
def _run(
    ctx: click.Context,
    sync: str | None,
    entity: tuple[str, ...],
    full: bool,
    record: str | None,
    side: str | None,
    wait: float,
    quiet: bool,
    verbose: bool,
) -> None:
    """Sync: read changes on both sides, reconcile, write, and report.

    Exit code 1 when a record failed (it is reported and retried by the next run), or
    when --record names an id that its side does not have.
    """
    _execute(
        ctx,
        sync=sync,
        entity=entity,
        full=full,
        dry_run=False,
        record=record,
        side=side,
        quiet=quiet,
        verbose=verbose,
        wait=wait,
    )


plan = _with_common(_plan)
plan.name = "plan"
run = _with_common(_run)
run.name = "run"
