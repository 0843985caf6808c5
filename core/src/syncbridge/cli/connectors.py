"""``syncbridge connectors``: what is installed, and what each connector can do."""

from __future__ import annotations

import json

import click
from rich.markup import escape

from syncbridge.cli.common import console
from syncbridge.cli.render import new_table
from syncbridge.describe import Capability
from syncbridge.plugins import list_connectors

_ORDER = list(Capability)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def connectors(as_json: bool) -> None:
    """List installed connectors with their entities and capabilities.

    A connector that fails to load is listed with its error; the others still work.
    """
    entries = list_connectors()
    if as_json:
        out = []
        for entry in entries:
            item: dict[str, object] = {
                "name": entry.name,
                "distribution": entry.distribution,
                "version": entry.version,
                "error": entry.error,
            }
            if entry.info is not None:
                item["title"] = entry.info.title
                item["entities"] = {
                    name: sorted(c.value for c in info.capabilities)
                    for name, info in entry.info.entities.items()
                }
                item["unsupported"] = entry.info.unsupported
                item["rate_limits"] = [str(limit) for limit in entry.info.rate_limits]
            out.append(item)
        click.echo(json.dumps(out, indent=2))
        return
    table = new_table("Installed connectors", "name", "version", "entities (capabilities)",
                      "status")
    for entry in entries:
        if entry.info is None:
            broken = f"[red]broken: {escape(entry.error or '')}[/red]"
            table.add_row(entry.name, entry.version or "?", "", broken)
            continue
        lines = []
        for name, info in entry.info.entities.items():
            caps = ", ".join(c.value for c in _ORDER if c in info.capabilities)
            lines.append(f"{name} ({caps})")
        table.add_row(entry.name, entry.version or "?", "\n".join(lines), "[green]ok[/green]")
    console.print(table)
