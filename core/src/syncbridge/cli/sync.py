"""``syncbridge plan`` (the dry run) and ``syncbridge run`` (apply)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from syncbridge.cli.common import (
    EXIT_FAILURES,
    console,
    emit_json,
    json_output,
    open_workspace,
    say,
)
from syncbridge.cli.progress import progress_output
from syncbridge.cli.render import summary_table
from syncbridge.cli.report import detail_lines
from syncbridge.cli.schemas import VERSION
from syncbridge.cli.selection import read_selection, write_selection
from syncbridge.config import Config
from syncbridge.config.loader import unknown_line
from syncbridge.engine.runner import RunSummary, ordered_entities, run_sync
from syncbridge.errors import ConfigError
from syncbridge.outcomes import FAILURES, Outcome
from syncbridge.workspace import Workspace


def _syncs(workspace: Workspace, sync: str | None) -> list[str]:
    if sync is not None:
        if sync not in workspace.config.syncs:
            known = ", ".join(sorted(workspace.config.syncs)) or "none"
            raise ConfigError(f"--sync: no sync named {sync!r} (syncs: {known})")
        return [sync]
    if not workspace.config.syncs:
        raise ConfigError("syncs: the config defines no sync; add a [syncs.<name>] table")
    return workspace.config.sync_order()


def selected_lines(config: Config, line: tuple[str, ...]) -> set[tuple[str, str]]:
    """The (sync, entity) of each ``--line``; an unknown name is a usage error."""
    lines = config.lines()
    for name in line:
        if name not in lines:
            raise ConfigError(f"--line: {unknown_line(name, lines)}")
    return {lines[name] for name in line}


def run_blocks(
    config: Config, names: list[str], units: set[tuple[str, str]] | None
) -> list[tuple[str, list[str] | None]]:
    """The runs to make, in order: (sync, its entities in this run; None: all of them).

    ``units`` limits the run to those (sync, entity) pairs (``--line``, ``--entity``).
    Units go in :meth:`Config.run_order` (``after``, then the syncs' and entities' own
    order), and each stretch of one sync's units is one run; a sync runs in several only
    when a line of another sync has to go between its lines. Without ``after`` that is one
    run per sync, in the order of the syncs, as always.
    """
    blocks: list[tuple[str, list[str]]] = []
    for sync_name, entity in config.run_order():
        if sync_name not in names or (units is not None and (sync_name, entity) not in units):
            continue
        if blocks and blocks[-1][0] == sync_name:
            blocks[-1][1].append(entity)
        else:
            blocks.append((sync_name, [entity]))
    if units is None:
        # a sync without entities still runs (and says it had nothing to do), in its place
        for index, name in enumerate(names):
            if not config.syncs[name].entities:
                later = set(names[index + 1 :])
                at = next((i for i, (n, _) in enumerate(blocks) if n in later), len(blocks))
                blocks.insert(at, (name, []))
    whole = [
        units is None and len(entities) == len(config.syncs[name].entities)
        for name, entities in blocks
    ]
    return [
        (name, None if all_of_it else entities)
        for (name, entities), all_of_it in zip(blocks, whole, strict=True)
    ]


def _verbose(workspace: Workspace, summary: RunSummary) -> None:
    from sqlalchemy import select

    from syncbridge.engine.report import RUN_ITEM

    with workspace.store.engine.connect() as db:
        rows = db.execute(
            select(RUN_ITEM)
            .where(RUN_ITEM.c.run_id == summary.run_id)
            .where(RUN_ITEM.c.action != Outcome.SKIPPED)
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


def _check_entities(workspace: Workspace, names: list[str], entity: tuple[str, ...]) -> None:
    """Refuse an --entity a sync does not configure before any run starts, so the refusal
    leaves no empty run behind for `syncbridge report` to show."""
    for name in names:
        sync = workspace.config.syncs[name]
        unknown = [e for e in entity if e not in sync.entities]
        if unknown:
            configured = ", ".join(ordered_entities(sync)) or "none"
            raise ConfigError(
                f"--entity: {', '.join(unknown)} is not configured for sync {name} "
                f"(configured: {configured})"
            )


def problems(summary: RunSummary) -> list[str]:
    """What went wrong in a run, a line each, with where to look: said on stderr even with
    --quiet, so a failing run is never silent."""
    what = "plan" if summary.mode == "plan" else "run"
    head = f"{what} #{summary.run_id} of {summary.sync}"
    lines = []
    for result in summary.entities:
        if result.result == "error":
            lines.append(f"{head}: {result.entity} stopped: {result.message}")
        failed = result.counts[Outcome.FAILED]
        if failed:
            records = "record" if failed == 1 else "records"
            lines.append(
                f"{head}: {result.entity}: {failed} {records} failed; "
                f"`syncbridge report {summary.run_id}` says why"
            )
        unknown = result.counts[Outcome.UNKNOWN]
        if unknown:
            lines.append(
                f"{head}: {result.entity}: {unknown} create(s) held as unknown; "
                "`syncbridge held` says how to settle them"
            )
    return lines


def run_document(summary: RunSummary) -> dict[str, Any]:
    """One run of the ``--json`` document (schema: :data:`syncbridge.cli.schemas.RUN`)."""
    return {
        "run": summary.run_id,
        "sync": summary.sync,
        "mode": summary.mode,
        "status": "failed" if summary.failed else "ok",
        "entities": [
            {
                "entity": result.entity,
                "result": result.result,
                "message": result.message,
                "counts": {k: v for k, v in sorted(result.counts.items()) if v},
            }
            for result in summary.entities
        ],
    }


def _execute(
    ctx: click.Context,
    *,
    sync: str | None,
    entity: tuple[str, ...],
    line: tuple[str, ...],
    full: bool,
    dry_run: bool,
    record: str | None,
    side: str | None,
    quiet: bool,
    verbose: bool,
    wait: float,
    as_json: bool,
    selection: Path | None = None,
) -> None:
    json_output(ctx, as_json)
    workspace = open_workspace(ctx)
    if selection is not None and not dry_run:
        _run_selection(ctx, workspace, selection, sync, entity, line, record, quiet, wait, as_json)
        return
    if selection is not None and len(line) != 1:
        raise ConfigError("--selection: plan one line (--line NAME) to review it")
    if line and (sync is not None or entity or record is not None):
        options = (("--sync", sync), ("--entity", entity), ("--record", record))
        given = [option for option, value in options if value]
        raise ConfigError(
            f"--line names its sync and entity already; drop {' and '.join(given)}, or "
            "select with --sync/--entity instead of --line"
        )
    if record is not None and side is None:
        raise ConfigError("--record needs --side left|right (the side the id belongs to)")
    units: set[tuple[str, str]] | None = None
    if line:
        units = selected_lines(workspace.config, line)
        names = [name for name in workspace.config.sync_order() if name in dict(units)]
    else:
        names = _syncs(workspace, sync)
    if record is not None and len(names) > 1:
        raise ConfigError("--record needs --sync (which sync the record belongs to)")
    _check_entities(workspace, names, entity)
    if entity:
        units = {(name, e) for name in names for e in entity}
    if record is not None:
        blocks: list[tuple[str, list[str] | None]] = [(names[0], list(entity) or None)]
    else:
        blocks = run_blocks(workspace.config, names, units)
    failed = False
    runs = []
    for name, entities in blocks:
        config = workspace.config.syncs[name]
        connections = workspace.sync_connections(name)
        sides = {"left": config.left, "right": config.right}
        with progress_output(quiet, sides=sides, dry_run=dry_run) as progress:
            summary = run_sync(
                name,
                config,
                connections,
                workspace.store,
                entities=entities,
                full=full,
                dry_run=dry_run,
                record=(side, record) if record is not None else None,  # type: ignore[arg-type]
                wait=wait,
                progress=progress,
            )
        runs.append(run_document(summary))
        if selection is not None:
            _line_sync, line_entity = workspace.config.lines()[line[0]]
            count = write_selection(
                workspace, selection, run_id=summary.run_id, sync=name, entity=line_entity,
                line=line[0],
            )
            say(f"{count} row(s) to review in {selection}: untick what must not go, then "
                f"syncbridge run --selection {selection}")
        if not quiet and not as_json:
            summary_table(summary)
            if verbose:
                _verbose(workspace, summary)
        for problem in problems(summary):
            say(problem)
        failed = (
            failed
            or summary.failed
            or any(r.counts[o] for r in summary.entities for o in FAILURES)
        )
    if as_json:
        emit_json({"version": VERSION, "ok": not failed, "runs": runs})
    if failed:
        ctx.exit(EXIT_FAILURES)


def _run_selection(
    ctx: click.Context,
    workspace: Workspace,
    path: Path,
    sync: str | None,
    entity: tuple[str, ...],
    line: tuple[str, ...],
    record: str | None,
    quiet: bool,
    wait: float,
    as_json: bool,
) -> None:
    """``run --selection FILE``: exactly the ticked rows and columns of a reviewed plan."""
    if sync is not None or entity or line or record is not None:
        raise ConfigError(
            "--selection names its line, rows and columns already; drop --sync, --entity, "
            "--line and --record"
        )
    name, chosen = read_selection(workspace, path)
    config = workspace.config.syncs[name]
    connections = workspace.sync_connections(name)
    with progress_output(quiet, sides={"left": config.left, "right": config.right}) as progress:
        summary = run_sync(
            name, config, connections, workspace.store, selection=chosen, wait=wait,
            progress=progress,
        )
    if not quiet and not as_json:
        summary_table(summary)
    for problem in problems(summary):
        say(problem)
    failed = summary.failed or any(r.counts[o] for r in summary.entities for o in FAILURES)
    if as_json:
        emit_json({"version": VERSION, "ok": not failed, "runs": [run_document(summary)]})
    if failed:
        ctx.exit(EXIT_FAILURES)


_common = [
    click.option("--sync", "sync", help="Only this sync (default: all)."),
    click.option("--entity", "entity", multiple=True, help="Only this entity (repeatable)."),
    click.option(
        "--line",
        "line",
        multiple=True,
        help="Only this sync line (repeatable; `syncbridge lines list`): the lines given, "
        "in their order (`after`), without the lines they run after.",
    ),
    click.option(
        "--quiet",
        "-q",
        is_flag=True,
        help="No progress and no summary; what failed is still said, on stderr.",
    ),
    click.option("--verbose", "-v", is_flag=True, help="List every record that changes."),
    click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="The outcome as one JSON document on stdout (schema in the CLI reference).",
    ),
]


def _with_common(command: click.Command) -> click.Command:
    for option in reversed(_common):
        command = option(command)
    return command


@click.command()
@click.option("--full", is_flag=True, help="Ignore cursors: re-read and re-compare everything.")
@click.option(
    "--selection",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With one --line: write the rows and columns the run would transfer to FILE, each "
    "ticked, for review (then `syncbridge run --selection FILE`).",
)
@click.pass_context
def _plan(
    ctx: click.Context,
    sync: str | None,
    entity: tuple[str, ...],
    line: tuple[str, ...],
    full: bool,
    selection: Path | None,
    quiet: bool,
    verbose: bool,
    as_json: bool,
) -> None:
    """Dry run: what a run would create, update, skip, and why. Writes nothing to either side."""
    _execute(
        ctx,
        selection=selection,
        sync=sync,
        entity=entity,
        line=line,
        full=full,
        dry_run=True,
        record=None,
        side=None,
        quiet=quiet,
        verbose=verbose,
        wait=0,
        as_json=as_json,
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
@click.option(
    "--selection",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Transfer exactly the ticked rows and columns of a reviewed plan (`syncbridge plan "
    "--line L --selection FILE`); refused if a ticked record changed since.",
)
@click.pass_context
def _run(
    ctx: click.Context,
    sync: str | None,
    entity: tuple[str, ...],
    line: tuple[str, ...],
    full: bool,
    record: str | None,
    side: str | None,
    wait: float,
    selection: Path | None,
    quiet: bool,
    verbose: bool,
    as_json: bool,
) -> None:
    """Sync: read changes on both sides, reconcile, write, and report.

    Exit code 1 when a record failed (it is reported and retried by the next run), or
    when --record names an id that its side does not have.
    """
    _execute(
        ctx,
        selection=selection,
        sync=sync,
        entity=entity,
        line=line,
        full=full,
        dry_run=False,
        record=record,
        side=side,
        quiet=quiet,
        verbose=verbose,
        wait=wait,
        as_json=as_json,
    )


plan = _with_common(_plan)
plan.name = "plan"
run = _with_common(_run)
run.name = "run"
