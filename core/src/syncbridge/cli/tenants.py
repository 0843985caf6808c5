"""``syncbridge tenants``: the fleet's tenants, whether their configs read, and how they do."""

from __future__ import annotations

import click
from rich.markup import escape

from syncbridge.cli.common import console, emit_json, json_output
from syncbridge.cli.fleet import fleet_option, open_fleet
from syncbridge.cli.render import new_table
from syncbridge.errors import ConfigError


@click.command()
@fleet_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def tenants(ctx: click.Context, fleet_path: str | None, as_json: bool) -> None:
    """Every tenant of the fleet: config readable, entities scheduled, failing, worst lag."""
    from syncbridge.fleet.status import fleet_summary

    json_output(ctx, as_json)
    runtime = open_fleet(fleet_path)
    summary = fleet_summary(runtime.engine)
    rows = []
    for tenant in runtime.tenants.files():
        problem = None
        try:
            runtime.tenants.config(tenant)
        except ConfigError as error:
            problem = str(error)
        rows.append({"tenant": tenant, "config": problem or "ok", **summary.get(tenant, {})})
    if as_json:
        emit_json(rows)
        return
    table = new_table(
        "Tenants", "tenant", "config", "entities", "failing", "worst lag (s)",
        right=("entities", "failing", "worst lag (s)"),
    )
    for row in rows:
        lag = row.get("worst_lag_seconds")
        table.add_row(
            escape(row["tenant"]),
            escape(row["config"]),
            str(row.get("entities", 0)),
            str(row.get("failing", 0)),
            "-" if lag is None else f"{lag:g}",
        )
    console.print(table)
