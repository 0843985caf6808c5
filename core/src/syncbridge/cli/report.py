"""``syncbridge report``: the outcome of every record of a run, with the reason."""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

import click
from rich.markup import escape
from sqlalchemy import select

from syncbridge.cli.common import console, json_output, open_workspace
from syncbridge.cli.render import new_table
from syncbridge.config.loader import unknown_line
from syncbridge.engine.report import (
    ENTITY_RUN,
    KILLED,
    KILLED_MESSAGE,
    RUN,
    RUN_ITEM,
    settle_runs,
)
from syncbridge.errors import ConfigError
from syncbridge.outcomes import Outcome

_LEGEND: dict[str, str] = {
    Outcome.CREATED: "green",
    Outcome.UPDATED: "green",
    Outcome.LINKED: "green",
    Outcome.DELETED: "green",
    Outcome.SKIPPED: "dim",
    Outcome.FILTERED: "dim",
    Outcome.CONFLICT: "yellow",
    Outcome.AMBIGUOUS: "yellow",
    Outcome.WAITING: "yellow",
    Outcome.MISSING: "yellow",
    Outcome.FAILED: "red",
    Outcome.UNKNOWN: "red",
}


@click.command()
@click.argument("run_id", required=False, type=int)
@click.option("--json", "as_json", is_flag=True, help="JSON rows.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV rows.")
@click.option("--all", "show_all", is_flag=True, help="Include skipped records.")
@click.option("--entity", help="Only this entity.")
@click.option(
    "--line",
    help="Only this sync line's rows (and, without RUN, its sync's latest run).",
)
@click.pass_context
def report(
    ctx: click.Context,
    run_id: int | None,
    as_json: bool,
    as_csv: bool,
    show_all: bool,
    entity: str | None,
    line: str | None,
) -> None:
    """Per-record outcome of RUN (default: the latest run), with a legend of the outcomes."""
    json_output(ctx, as_json)
    workspace = open_workspace(ctx)
    dead = settle_runs(workspace.store.engine)  # a run whose process died says so
    sync_of_line: str | None = None
    if line is not None:
        lines = workspace.config.lines()
        if line not in lines:
            raise ConfigError(f"--line: {unknown_line(line, lines)}")
        if entity is not None:
            raise ConfigError("--line names its entity already; drop --entity")
        sync_of_line, entity = lines[line]
    with workspace.store.engine.connect() as db:
        if run_id is None:
            latest = select(RUN.c.id).order_by(RUN.c.id.desc()).limit(1)
            if sync_of_line is not None:  # the latest run of that line's entity
                latest = (
                    select(ENTITY_RUN.c.run_id)
                    .where(ENTITY_RUN.c.sync == sync_of_line, ENTITY_RUN.c.entity == entity)
                    .order_by(ENTITY_RUN.c.run_id.desc())
                    .limit(1)
                )
            run_id = db.execute(latest).scalar()
            if run_id is None:
                raise ConfigError("no run yet: `syncbridge run` first")
        run = db.execute(select(RUN).where(RUN.c.id == run_id)).first()
        if run is None:
            raise ConfigError(f"RUN: there is no run #{run_id}")
        query = select(RUN_ITEM).where(RUN_ITEM.c.run_id == run_id).order_by(RUN_ITEM.c.id)
        if entity:
            query = query.where(RUN_ITEM.c.entity == entity)
        if not (show_all or as_json or as_csv):
            query = query.where(RUN_ITEM.c.action != Outcome.SKIPPED)
        rows = db.execute(query).all()
    records = [
        {
            "run": run_id,
            "entity": r.entity,
            "side": r.side,
            "record_id": r.record_id,
            "target_id": r.target_id,
            "outcome": r.action,
            "reason": r.reason,
            "detail": json.loads(r.detail) if r.detail else None,
        }
        for r in rows
    ]
    if as_json:
        click.echo(json.dumps(records, indent=2, default=str))
        return
    if as_csv:
        writer = csv.DictWriter(
            sys.stdout,
            fieldnames=list(records[0])
            if records
            else ["run", "entity", "side", "record_id", "target_id", "outcome", "reason", "detail"],
        )
        writer.writeheader()
        for record in records:
            writer.writerow(
                {
                    **record,
                    "detail": json.dumps(record["detail"], default=str) if record["detail"] else "",
                }
            )
        return
    status = KILLED if run.status == "running" and run_id in dead else run.status
    table = new_table(
        f"{run.mode.capitalize()} #{run_id} of {run.sync} — {status}",
        "entity", "record", "target", "outcome", "reason",
    )
    for record in records:
        colour = _LEGEND.get(record["outcome"], "white")
        reason = escape(record["reason"])
        reason += "".join(f"\n{escape(line)}" for line in detail_lines(record["detail"]))
        table.add_row(
            escape(record["entity"]),
            escape(f"{record['side']} {record['record_id']}"),
            escape(record["target_id"] or ""),
            f"[{colour}]{record['outcome']}[/{colour}]",
            reason,
            end_section=False,
        )
    console.print(table)
    if status == KILLED:
        console.print(f"{run.mode.capitalize()} #{run_id} {KILLED_MESSAGE}.")
    legend = "legend: " + "  ".join(f"[{c}]{o}[/{c}]" for o, c in _LEGEND.items())
    console.print(legend, soft_wrap=False)  # wrapped to the terminal, like the table


def detail_lines(detail: Any) -> list[str]:
    """A report row's fields, one line each: what was written where, before and after, and
    both values of a conflict (``city: left 'Bergamo' / right 'Brescia', left wins``)."""
    if not isinstance(detail, dict):
        return []
    lines = []
    for name, values in detail.items():
        if not isinstance(values, dict) or "to" not in values:
            continue
        if "winner" in values:
            lines.append(
                f"{name}: left {values.get('left')!r} / right {values.get('right')!r}, "
                f"{values['winner']} wins"
            )
        else:
            lines.append(
                f"{name} -> {values['to']}: {values.get('before')!r} -> {values.get('after')!r}"
            )
    return lines
