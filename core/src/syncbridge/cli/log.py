"""``syncbridge log``: the last requests a connection made (secrets redacted)."""

from __future__ import annotations

import json

import click
from rich.table import Table

from syncbridge.cli.common import console, handle_errors, open_workspace
from syncbridge.state import REQUEST_LOG_SIZE


@click.command()
@click.argument("connection")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@handle_errors
def log(ctx: click.Context, connection: str, as_json: bool) -> None:
    """Show the last 50 requests CONNECTION made: time, method, path, status, duration."""
    workspace = open_workspace(ctx)
    workspace.connection(connection)  # an unknown name is a config error, not an empty log
    rows = workspace.store.recent_requests(connection, REQUEST_LOG_SIZE)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "at": row.at.isoformat(),
                        "method": row.method,
                        "url": row.url,
                        "status": row.status,
                        "duration_ms": round(row.duration_ms, 1),
                        "error": row.error,
                    }
                    for row in rows
                ],
                indent=2,
            )
        )
        return
    table = Table(title=f"Last {len(rows)} requests of {connection}")
    for column in ("time (UTC)", "method", "path", "status", "ms"):
        table.add_column(column)
    for row in rows:
        status = str(row.status) if row.status is not None else f"[red]{row.error}[/red]"
        table.add_row(
            f"{row.at:%Y-%m-%d %H:%M:%S}", row.method, row.url, status, f"{row.duration_ms:.0f}"
        )
    console.print(table)
