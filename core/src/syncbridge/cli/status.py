"""``syncbridge status``: per sync and entity, the last run and when the next is due."""

from __future__ import annotations

import json
from datetime import UTC

import click
from rich.markup import escape
from sqlalchemy import select

from syncbridge.cli.common import console, emit_json, json_output, open_workspace
from syncbridge.cli.fleet import fleet_option, open_fleet
from syncbridge.cli.render import new_table, when
from syncbridge.engine.report import ENTITY_RUN, KILLED, KILLED_MESSAGE, RUN, settle_runs


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--tenant",
    default=None,
    help="A fleet's tenant: its entities' last runs, lag and failures (with --fleet).",
)
@fleet_option
@click.pass_context
def status(
    ctx: click.Context, as_json: bool, tenant: str | None, fleet_path: str | None
) -> None:
    """Last run, result, counts and next due time of every sync/entity."""
    json_output(ctx, as_json)
    if tenant is not None:
        tenant_status(tenant, fleet_path, as_json)
        return
    workspace = open_workspace(ctx)
    dead = settle_runs(workspace.store.engine)  # a run whose process died says so
    rows = []
    with workspace.store.engine.connect() as db:
        for sync_name, sync in sorted(workspace.config.syncs.items()):
            for entity, rule in sync.entities.items():
                last = db.execute(
                    select(ENTITY_RUN)
                    .join(RUN, RUN.c.id == ENTITY_RUN.c.run_id)
                    .where(
                        ENTITY_RUN.c.sync == sync_name,
                        ENTITY_RUN.c.entity == entity,
                        RUN.c.mode == "run",
                    )
                    .order_by(ENTITY_RUN.c.run_id.desc())
                    .limit(1)
                ).first()
                finished = last.finished_at if last is not None else None
                if finished is not None and finished.tzinfo is None:
                    finished = finished.replace(tzinfo=UTC)
                interval = rule.interval
                due = (
                    "manual"
                    if interval is None
                    else (
                        "now"
                        if finished is None
                        else (finished + interval).isoformat(timespec="seconds")
                    )
                )
                result = last.result if last is not None else "never run"
                message = last.message if last is not None else None
                if last is not None and result == "running" and last.run_id in dead:
                    result, message = KILLED, KILLED_MESSAGE  # the store could not be written
                rows.append(
                    {
                        "sync": sync_name,
                        "entity": entity,
                        "last_run": last.run_id if last is not None else None,
                        "finished": finished.isoformat(timespec="seconds") if finished else None,
                        "result": result,
                        "counts": json.loads(last.counts) if last is not None else {},
                        "next_due": due,
                        "message": message,
                    }
                )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = new_table(
        "Sync status", "sync", "entity", "run", "finished (UTC)", "result", "counts",
        "next due (UTC)",
    )
    for row in rows:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(row["counts"].items()))
        due = row["next_due"]
        table.add_row(
            escape(row["sync"]),
            escape(row["entity"]),
            str(row["last_run"] or "-"),
            when(row["finished"]),
            escape(row["result"]),
            counts,
            due if due in ("now", "manual") else when(due),
        )
    console.print(table)
    for row in rows:
        if row["result"] == KILLED:
            console.print(
                f"{row['sync']} {row['entity']}: run #{row['last_run']} {row['message']}"
            )


def tenant_status(tenant: str, fleet_path: str | None, as_json: bool) -> None:
    """``status --tenant``: the fleet schedule's view of one tenant."""
    from syncbridge.fleet import status as fleet_status

    runtime = open_fleet(fleet_path)
    runtime.tenants.file(tenant)  # an unknown tenant is an error, not an empty table
    rows = fleet_status.tenant_status(runtime.engine, runtime.tenants, tenant)
    if as_json:
        emit_json(fleet_status.as_dicts(rows))
        return
    table = new_table(
        f"Tenant {tenant}", "sync", "entity", "every", "state", "last run", "result",
        "finished (UTC)", "lag (s)", "failures", "next due (UTC)",
        right=("lag (s)", "failures"),
    )
    for row in rows:
        table.add_row(
            escape(row.sync),
            escape(row.entity),
            "manual" if row.every_seconds is None else f"{row.every_seconds:g} s",
            row.state,
            str(row.last_run or "-"),
            escape(row.last_result or "never run"),
            when(row.last_finished),
            "-" if row.lag_seconds is None else f"{row.lag_seconds:g}",
            str(row.failures),
            when(row.next_due) if row.next_due else "-",
        )
    console.print(table)
    for row in rows:
        if row.error:
            console.print(f"{escape(row.sync)} {escape(row.entity)}: {escape(row.error)}")
