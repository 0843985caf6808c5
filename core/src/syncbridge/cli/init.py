"""``syncbridge init``: write a starting ``syncbridge.toml``."""

from __future__ import annotations

from pathlib import Path

import click

from syncbridge.cli.common import EXIT_USAGE, console
from syncbridge.plugins import list_connectors

TEMPLATE = """\
# syncbridge configuration. Reference: docs/ (configuration reference), `syncbridge --help`.
# Secrets: write "${{ENV_VAR}}" and export the variable; never put them in this file.

[state]
url = "sqlite:///syncbridge-state.db"   # or "postgresql+psycopg://user@host/db"

[connections.{left}]
connector = "{left_connector}"
[connections.{left}.settings]
{left_settings}

[connections.{right}]
connector = "{right_connector}"
[connections.{right}.settings]
{right_settings}

[syncs.main]
left = "{left}"
right = "{right}"

[syncs.main.entities.company]
direction = "both"            # left-to-right | right-to-left | both
priority = "left"             # the side that wins when a record changed on both sides
every = "10m"                 # for `syncbridge daemon`; "manual" leaves it to `syncbridge run`
match = [["vat_number"], ["name", "city"]]

# Installed connectors: {installed}
"""


def _settings_lines(connector: str, name: str, folder: Path) -> str:
    if connector == "sql":
        return f'url = "sqlite:///{(folder / name).resolve()}.db"'
    return (f'base_url = "http://127.0.0.1:8080"   # `syncbridge emulate {connector} '
            "--print-settings` prints a ready block")


@click.command()
@click.option("--left", "left_connector", default="sql", show_default=True,
              help="Connector of the left side.")
@click.option("--right", "right_connector", default="sql", show_default=True,
              help="Connector of the right side.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def init(ctx: click.Context, left_connector: str, right_connector: str, force: bool) -> None:
    """Write a commented syncbridge.toml to start from (or to the -c path)."""
    path = Path(ctx.find_root().obj.get("config_path") or "syncbridge.toml")
    if path.exists() and not force:
        console.print(f"{path} exists; pass --force to overwrite it")
        ctx.exit(EXIT_USAGE)
    installed = ", ".join(entry.name for entry in list_connectors() if entry.info) or "none"
    left = left_connector if left_connector != right_connector else f"{left_connector}_left"
    right = right_connector if left_connector != right_connector else f"{right_connector}_right"
    path.write_text(TEMPLATE.format(
        left=left, right=right, left_connector=left_connector,
        right_connector=right_connector, installed=installed,
        left_settings=_settings_lines(left_connector, left, path.parent),
        right_settings=_settings_lines(right_connector, right, path.parent)), encoding="utf-8")
    console.print(f"wrote {path}; check it with `syncbridge -c {path} plan`")
