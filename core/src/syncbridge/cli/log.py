"""``syncbridge log``: the last requests a connection made (secrets redacted)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import click
from rich.markup import escape

from syncbridge.cli.common import console, json_output, open_workspace
from syncbridge.cli.render import new_table
from syncbridge.state import REQUEST_LOG_SIZE


@click.command()
@click.argument("connection")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--last", type=click.IntRange(1, REQUEST_LOG_SIZE), default=REQUEST_LOG_SIZE,
              show_default=True, help="How many of the latest requests.")
@click.pass_context
def log(ctx: click.Context, connection: str, as_json: bool, last: int) -> None:
    """Show the last requests CONNECTION made (up to 50): time, method, path, status, duration.

    Secrets are redacted before a request is stored: API keys in paths and query strings,
    tokens and passwords never appear here.
    """
    json_output(ctx, as_json)
    workspace = open_workspace(ctx)
    workspace.connection(connection)  # an unknown name is a config error, not an empty log
    rows = workspace.store.recent_requests(connection, last)
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
    table = new_table(
        f"Last {len(rows)} requests of {escape(connection)}",
        "time (UTC)", "method", "path", "status", "ms", right=("ms",),
    )
    for row in rows:
        status = (str(row.status) if row.status is not None
                  else f"[red]{escape(row.error or 'no response')}[/red]")
        parts = urlsplit(row.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        table.add_row(f"{row.at:%Y-%m-%d %H:%M:%S}", row.method, escape(path), status,
                      f"{row.duration_ms:.0f}")
    console.print(table)
