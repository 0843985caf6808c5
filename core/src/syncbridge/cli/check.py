"""``syncbridge check``: the red/green light of each connection."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape

from syncbridge.cli.common import (
    EXIT_FAILURES,
    console,
    emit_json,
    explain,
    json_output,
    open_workspace,
    secrets_in,
)
from syncbridge.cli.schemas import VERSION
from syncbridge.errors import ConfigError
from syncbridge.workspace import Workspace


def _check(workspace: Workspace, name: str) -> dict[str, Any]:
    """One connection's light as the ``--json`` document lists it (schema CHECK).

    Whatever opening or asking the connection raises makes it red with the reason (the
    boundary's own wording), so one broken connection never hides the others.
    """
    entry: dict[str, Any] = {
        "name": name,
        "ok": False,
        "reason": None,
        "account": None,
        "companies": [],
        "scopes": [],
        "last_access": None,
    }
    try:
        result = workspace.connection(name).check()
    except Exception as error:  # each failure is this connection's, reported as such
        _label, sentence, _code = explain(error, secrets_in(workspace))
        entry["reason"] = sentence
    else:
        entry["ok"] = result.ok
        # a green light may come with a word all the same ("a demo account: read only")
        entry["reason"] = result.reason or None
        entry["account"] = result.account or None
        entry["companies"] = [dict(company) for company in result.companies]
        entry["scopes"] = list(result.scopes)
    requests = workspace.store.recent_requests(name, limit=1)
    if requests:
        entry["last_access"] = f"{requests[-1].at:%Y-%m-%dT%H:%M:%S}Z"
    return entry


@click.command()
@click.argument("connection", required=False)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON document on stdout (schema in the CLI reference).",
)
@click.pass_context
def check(ctx: click.Context, connection: str | None, as_json: bool) -> None:
    """Test CONNECTION (default: every connection): status, account, companies, scopes.

    Exit code 1 when a connection is failing.
    """
    json_output(ctx, as_json)
    workspace = open_workspace(ctx)
    if connection is not None and connection not in workspace.config.connections:
        known = ", ".join(sorted(workspace.config.connections)) or "none"
        raise ConfigError(f"CONNECTION: no connection named {connection!r} (connections: {known})")
    names = [connection] if connection else sorted(workspace.config.connections)
    entries = []
    for name in names:
        entry = _check(workspace, name)
        entries.append(entry)
        if not as_json:
            _print(entry)
    ok = all(entry["ok"] for entry in entries)
    if as_json:
        emit_json({"version": VERSION, "ok": ok, "connections": entries})
    if not ok:
        ctx.exit(EXIT_FAILURES)


def _print(entry: dict[str, Any]) -> None:
    name = entry["name"]
    if entry["ok"]:
        account = f" — {escape(entry['account'])}" if entry["account"] else ""
        note = f" ({escape(entry['reason'])})" if entry["reason"] else ""
        console.print(f"[green]●[/green] {escape(name)}: ok{account}{note}")
    else:
        console.print(f"[red]●[/red] {escape(name)}: failing — {escape(entry['reason'] or '')}")
    for company in entry["companies"]:
        label = company.get("name", "")
        console.print(f"    company {company.get('id', '?')}: {label}", markup=False)
    if entry["scopes"]:
        console.print(f"    scopes: {', '.join(entry['scopes'])}", markup=False)
    if entry["last_access"]:
        when = entry["last_access"].replace("T", " ").removesuffix("Z")
        console.print(f"    last access: {when} UTC")
