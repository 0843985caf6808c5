"""The CLI reference page, generated from the click commands.

It walks :data:`syncbridge.cli.COMMANDS` (the same table the lazy ``syncbridge`` group
dispatches on), so a command or option added in code appears here without anyone editing
the docs, and the site test fails if one is missing. The ``--json`` shapes come from
:mod:`syncbridge.cli.schemas`, the schemas the CLI's tests validate real output against.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import click

from syncbridge.docsgen.text import code, inline, rst_to_markdown, slug, table

PATH = "reference/cli.md"


def _help(command: click.Command) -> str:
    """The command's help as Markdown paragraphs (click's ``\\b`` markers removed)."""
    text = inspect.cleandoc(command.help or "")
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "\n\n".join(inline(p.replace("\b", "")) for p in paragraphs)


def _type(info: dict[str, Any], param: click.Parameter) -> str:
    kind = info["type"]
    name = kind.get("param_type", "")
    if isinstance(param, click.Option) and param.is_flag and not param.count:
        return "flag"
    if name == "Choice":
        return "one of " + ", ".join(code(choice) for choice in kind["choices"])
    if name in ("IntRange", "FloatRange"):
        low, high = kind.get("min"), kind.get("max")
        base = "integer" if name == "IntRange" else "number"
        if low is not None and high is not None:
            return f"{base}, {low} to {high}"
        if low is not None:
            return f"{base} ≥ {low}"
        if high is not None:
            return f"{base} ≤ {high}"
        return base
    return {
        "String": "text",
        "Int": "integer",
        "Float": "number",
        "Bool": "boolean",
        "Path": "path",
        "File": "file",
    }.get(name, inline(str(kind.get("name", name))))


def _default(info: dict[str, Any], param: click.Parameter) -> str:
    default = info.get("default")
    if isinstance(param, click.Option) and param.is_flag and default in (False, None):
        return ""
    if default is None or default == () or callable(default):
        return ""
    return code(default)


def _options(command: click.Command) -> str:
    rows = []
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden:
            continue
        info = param.to_info_dict()
        names = ", ".join(code(opt) for opt in sorted(param.opts, key=len))
        if param.secondary_opts:
            names += " / " + ", ".join(code(opt) for opt in param.secondary_opts)
        if param.metavar and not param.is_flag:
            names += f" {code(param.metavar)}"
        notes = []
        if param.required:
            notes.append("**required**")
        if param.multiple:
            notes.append("repeatable")
        help_text = inline(param.help or "")
        rows.append(
            (
                names,
                _type(info, param),
                _default(info, param),
                " ".join([*notes, help_text]).strip(),
            )
        )
    if not rows:
        return ""
    return "**Options**\n\n" + table(("option", "type", "default", "description"), rows)


def _arguments(command: click.Command) -> str:
    lines = []
    for param in command.params:
        if not isinstance(param, click.Argument):
            continue
        info = param.to_info_dict()
        metavar = (param.name or "").upper()
        need = "required" if param.required else "optional"
        many = ", any number" if param.nargs == -1 else ""
        lines.append(f"- {code(metavar)} — {_type(info, param)}, {need}{many}")
    return "**Arguments**\n\n" + "\n".join(lines) if lines else ""


def _usage(command: click.Command, prog: str) -> str:
    with click.Context(command, info_name=prog) as ctx:
        pieces = command.collect_usage_pieces(ctx)
    return f"```text\n{prog} {' '.join(pieces)}\n```"


def _schema(schema: dict[str, Any]) -> str:
    return f"```json\n{json.dumps(schema, indent=2)}\n```"


def _json_output(name: str) -> str:
    """The ``--json`` shape of command ``name``, folded away (schemas are long)."""
    from syncbridge.cli.schemas import SCHEMAS, VERSION

    schema = SCHEMAS.get(name)
    if schema is None:
        return ""
    return (
        f"**JSON output** (`--json`, version {VERSION}, see [JSON output](#json-output)): "
        f"`{schema['$id']}`\n\n"
        f'??? note "JSON Schema of `syncbridge {name} --json`"\n\n'
        + "\n".join(f"    {line}" if line else "" for line in _schema(schema).splitlines())
    )


def _json_section() -> str:
    from syncbridge.cli import schemas

    return "\n\n".join(
        [
            "## JSON output",
            rst_to_markdown(inspect.cleandoc(schemas.__doc__ or "").split("\n\n", 1)[-1]),
            "A failed command run with `--json` prints this document on stdout (and its "
            "sentence on stderr):",
            _schema(schemas.ERROR),
        ]
    )


def _command(name: str, command: click.Command, level: int = 2) -> str:
    """A command's section; a group's subcommands (``syncbridge lines add``) follow it, each
    in a section one level down."""
    prog = f"syncbridge {name}"
    parts = [f"{'#' * level} {code(prog)}", _usage(command, prog), _help(command)]
    parts.extend(part for part in (_arguments(command), _options(command)) if part)
    parts.append(_json_output(name))
    if isinstance(command, click.Group):
        parts.extend(
            _command(f"{name} {sub}", command.commands[sub], level + 1)
            for sub in sorted(command.commands)
        )
    return "\n\n".join(part for part in parts if part)


def commands() -> dict[str, click.Command]:
    """Every subcommand, by name, loaded the way the ``syncbridge`` group loads it."""
    from syncbridge.cli import COMMANDS, main

    found: dict[str, click.Command] = {}
    with click.Context(main, info_name="syncbridge") as ctx:
        for name in sorted(COMMANDS):
            command = main.get_command(ctx, name)
            if command is not None:
                found[name] = command
    return found


def every_command() -> dict[str, click.Command]:
    """:func:`commands` and the subcommands of each group, by their full name
    (``lines add``)."""
    found: dict[str, click.Command] = {}
    for name, command in commands().items():
        found[name] = command
        if isinstance(command, click.Group):
            for sub in sorted(command.commands):
                found[f"{name} {sub}"] = command.commands[sub]
    return found


def render() -> str:
    """The whole page."""
    from syncbridge.cli import main

    found = commands()
    overview = table(
        ("command", "what it does"),
        (
            (f"[{code(name)}](#{slug('syncbridge ' + name)})", inline(cmd.get_short_help_str(90)))
            for name, cmd in found.items()
        ),
    )
    parts = [
        "# CLI reference",
        "Generated from the click commands of `syncbridge.cli`. Every command accepts "
        "`-h` / `--help`; the global options go before the command name "
        "(`syncbridge -c prod.toml run`).",
        "## `syncbridge`",
        _usage(main, "syncbridge"),
        _help(main),
        _options(main),
        "**Commands**",
        overview,
    ]
    parts.append(_json_section())
    parts.extend(_command(name, command) for name, command in found.items())
    return "\n\n".join(parts) + "\n"
