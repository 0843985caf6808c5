"""``syncbridge check``: the red/green light of each connection."""

from __future__ import annotations

import click
from rich.markup import escape

from syncbridge.cli.common import EXIT_FAILURES, console, handle_errors, open_workspace
from syncbridge.errors import ConfigError, SyncbridgeError


@click.command()
@click.argument("connection", required=False)
@click.pass_context
@handle_errors
def check(ctx: click.Context, connection: str | None) -> None:
    """Test CONNECTION (default: every connection): status, account, companies, scopes."""
    workspace = open_workspace(ctx)
    if connection is not None and connection not in workspace.config.connections:
        known = ", ".join(sorted(workspace.config.connections)) or "none"
        raise ConfigError(f"CONNECTION: no connection named {connection!r} (connections: {known})")
    names = [connection] if connection else sorted(workspace.config.connections)
    failing = 0
    for name in names:
        try:
            result = workspace.connection(name).check()
        except SyncbridgeError as error:
            failing += 1
            console.print(f"[red]●[/red] {name}: failing — {escape(str(error))}")
            continue
        except Exception as error:  # a connector bug must not hide the other connections
            failing += 1
            console.print(
                f"[red]●[/red] {name}: failing — {type(error).__name__}: {escape(str(error))}"
            )
            continue
        if result.ok:
            console.print(
                f"[green]●[/green] {name}: ok" + (f" — {result.account}" if result.account else "")
            )
        else:
            failing += 1
            console.print(f"[red]●[/red] {name}: failing — {escape(result.reason)}")
        for company in result.companies:
            label = company.get("name", "")
            console.print(f"    company {company.get('id', '?')}: {label}")
        if result.scopes:
            console.print(f"    scopes: {', '.join(result.scopes)}")
        requests = workspace.store.recent_requests(name, limit=1)
        if requests:
            console.print(f"    last access: {requests[-1].at:%Y-%m-%d %H:%M:%S} UTC")
    if failing:
        ctx.exit(EXIT_FAILURES)
