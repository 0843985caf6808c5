"""``syncbridge lines``: list, add, edit and remove sync lines in the config file.

A sync line is one entity rule of one sync with a name (``line = "customers"`` in
``[syncs.<sync>.entities.<entity>]``). These commands edit ``syncbridge.toml`` in place with
tomlkit, so the user's comments and layout stay as they were; the edited text is validated
with the same loader every command uses before it is written, and a change that would make
the config invalid is refused with the loader's message, leaving the file untouched.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click
import tomlkit
from rich.markup import escape
from tomlkit.items import AoT, Comment, InlineTable, Table, Whitespace
from tomlkit.toml_document import TOMLDocument

from syncbridge.cli.common import console, emit_json, json_output, say
from syncbridge.cli.render import new_table
from syncbridge.config import Config, loader
from syncbridge.config.loader import unknown_line
from syncbridge.errors import ConfigError


def _path(ctx: click.Context) -> Path:
    return Path((ctx.find_root().obj or {}).get("config_path") or loader.DEFAULT_PATH)


def _read(path: Path) -> tuple[Config, str, TOMLDocument]:
    """The config (validated, as any command reads it), its text and its TOML document."""
    config = loader.load(path)
    text = path.read_text(encoding="utf-8")
    return config, text, tomlkit.parse(text)


def _write(path: Path, before: str, document: TOMLDocument) -> None:
    """Validate the edited document with the loader, then replace the file atomically
    (keeping its permissions); an invalid result is refused and nothing is written."""
    text = tomlkit.dumps(document)
    if text.endswith("\n\n") and not before.endswith("\n\n"):
        text = text.rstrip("\n") + "\n"
    try:
        loader.parse(text, source=str(path))
    except ConfigError as error:
        raise ConfigError(
            f"{error}\nrefused: {path} is left unchanged (the change would make it invalid)"
        ) from None
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", text=True)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _line(config: Config, name: str) -> tuple[str, str]:
    lines = config.lines()
    if name not in lines:
        raise ConfigError(f"NAME: {unknown_line(name, lines)}")
    return lines[name]


def _set(rule: Any, options: dict[str, Any]) -> None:
    """Set the options given on an entity rule (a table or an inline table): each in its
    place when the key is there already, else after the rule's last key (before the
    comment lines that describe the next table)."""
    for key, value in options.items():
        if value is None:
            continue
        if key == "after" and not value:
            if key in rule:
                del rule[key]
            continue
        value = list(value) if isinstance(value, tuple) else value
        body = rule.value.body if isinstance(rule, Table) else []
        pairs = [
            i for i, (k, v) in enumerate(body) if k is not None and not isinstance(v, Table | AoT)
        ]
        at = pairs[-1] + 1 if pairs else 0
        if key in rule or at >= len(body):
            rule[key] = value
        else:
            rule.value._insert_at(at, key, value)


def _trailing_comments(body: list[tuple[Any, Any]]) -> int:
    """Where the comment lines at the end of a body start (they describe what follows)."""
    index = len(body)
    while index > 0 and isinstance(body[index - 1][1], Comment):
        index -= 1
    return index


def _remove_rule(document: TOMLDocument, sync: str, entity: str) -> None:
    """Delete ``[syncs.<sync>.entities.<entity>]`` with the comment lines right above it;
    the comment lines at its end describe the next table, and stay above that one."""
    sync_table = document["syncs"][sync]  # type: ignore[index]
    entities = sync_table["entities"]
    rule = entities[entity]
    if isinstance(rule, Table) and not isinstance(entities, InlineTable):
        # the body whose end holds the comment lines above the rule's header
        host: list[tuple[Any, Any]] | None = None
        end = 0
        keys = [key.key if key is not None else None for key, _ in entities.value.body]
        position = keys.index(entity)
        if position == 0 and isinstance(sync_table, Table):
            host = sync_table.value.body
            end = [key.key if key is not None else None for key, _ in host].index("entities")
        elif position > 0:
            previous = entities.value.body[position - 1][1]
            while isinstance(previous, Table) and previous.value.body:
                last = previous.value.body[-1][1]
                if not isinstance(last, Table):
                    host, end = previous.value.body, len(previous.value.body)
                    break
                previous = last
        tail = rule
        while tail.value.body and isinstance(tail.value.body[-1][1], Table):
            tail = tail.value.body[-1][1]
        moved = tail.value.body[_trailing_comments(tail.value.body) :]
        if host is not None:
            start = _trailing_comments(host[:end])
            host[start:end] = moved
    del entities[entity]
    if not entities:
        del sync_table["entities"]


_direction = click.option(
    "--direction",
    type=click.Choice(["left-to-right", "right-to-left", "both"]),
    help="Which way changes flow.",
)
_priority = click.option(
    "--priority",
    type=click.Choice(["left", "right"]),
    help="The side that wins when a record changed on both sides (direction both).",
)
_every = click.option(
    "--every", help='How often `syncbridge daemon` runs it: "10m", "3h", "1d" or "manual".'
)
_after = click.option(
    "--after",
    "after",
    multiple=True,
    metavar="LINE",
    help="A line this line runs after; the lines given replace its list.",
)


@click.group()
def lines() -> None:
    """Sync lines: each syncs one kind of data (one entity of one sync, with a name).

    A line is an entity rule of the config named with `line = "NAME"`; these commands
    edit the config file in place, keeping its comments and layout, and refuse a change
    that would make it invalid (the file is left untouched). Run lines alone or together
    with `syncbridge run --line NAME`.
    """


@lines.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_lines(ctx: click.Context, as_json: bool) -> None:
    """List the lines, in the order a run of all of them goes."""
    json_output(ctx, as_json)
    config = loader.load(_path(ctx))
    names = {unit: name for name, unit in config.lines().items()}
    rows: list[dict[str, Any]] = []
    for unit in config.run_order():
        if unit not in names:
            continue
        sync = config.syncs[unit[0]]
        rule = sync.entities[unit[1]]
        rows.append(
            {
                "line": names[unit],
                "sync": unit[0],
                "entity": unit[1],
                "left": sync.left,
                "right": sync.right,
                "direction": rule.direction,
                "priority": rule.priority,
                "every": rule.every,
                "after": list(rule.after),
            }
        )
    if as_json:
        emit_json(rows)
        return
    if not rows:
        say(
            "no sync lines: name an entity rule with line = \"NAME\", or "
            "`syncbridge lines add NAME --sync SYNC --entity ENTITY`"
        )
        return
    table = new_table(
        f"{len(rows)} sync line(s)", "line", "sync", "entity", "direction", "priority",
        "every", "after",
    )
    for row in rows:
        table.add_row(
            escape(row["line"]),
            escape(f"{row['sync']} ({row['left']} <-> {row['right']})"),
            escape(row["entity"]),
            row["direction"],
            row["priority"],
            escape(row["every"]),
            escape(", ".join(row["after"]) or "-"),
        )
    console.print(table)


@lines.command("add")
@click.argument("name")
@click.option("--sync", "sync", required=True, help="The sync the line belongs to.")
@click.option("--entity", "entity", required=True, help="The entity it syncs (company, ...).")
@_direction
@_priority
@_every
@_after
@click.pass_context
def add(
    ctx: click.Context,
    name: str,
    sync: str,
    entity: str,
    direction: str | None,
    priority: str | None,
    every: str | None,
    after: tuple[str, ...],
) -> None:
    """Add line NAME: the rule of ENTITY in SYNC, created with the options given (an
    existing rule without a name is named NAME and given them)."""
    path = _path(ctx)
    config, before, document = _read(path)
    if name in config.lines():
        sync_name, entity_name = config.lines()[name]
        raise ConfigError(
            f"NAME: there is a line {name!r} already ({sync_name}/{entity_name}); change it "
            f"with `syncbridge lines edit {name}`"
        )
    if sync not in config.syncs:
        known = ", ".join(sorted(config.syncs)) or "none"
        raise ConfigError(f"--sync: no sync named {sync!r} (syncs: {known})")
    existing = config.syncs[sync].entities.get(entity)
    if existing is not None and existing.line is not None:
        raise ConfigError(
            f"--entity: {entity} of sync {sync} is line {existing.line!r} already; change it "
            f"with `syncbridge lines edit {existing.line}`"
        )
    options = {"direction": direction, "priority": priority, "every": every,
               "after": after or None}
    sync_table = document["syncs"][sync]  # type: ignore[index]
    if existing is not None:
        rule = sync_table["entities"][entity]
        _set(rule, {"line": name})
    else:
        if "entities" not in sync_table:
            sync_table.add("entities", tomlkit.table(is_super_table=True))
        entities = sync_table["entities"]
        rule = tomlkit.inline_table() if isinstance(entities, InlineTable) else tomlkit.table()
        rule["line"] = name
        entities[entity] = rule
        rule = entities[entity]
    _set(rule, options)
    if existing is None and isinstance(rule, Table):
        rule.add(Whitespace("\n"))
    _write(path, before, document)
    what = "named the rule of" if existing is not None else "added"
    console.print(f"line {escape(name)}: {what} {escape(entity)} in sync {escape(sync)}")


@lines.command("edit")
@click.argument("name")
@_direction
@_priority
@_every
@_after
@click.option("--no-after", is_flag=True, help="Run after no other line.")
@click.pass_context
def edit(
    ctx: click.Context,
    name: str,
    direction: str | None,
    priority: str | None,
    every: str | None,
    after: tuple[str, ...],
    no_after: bool,
) -> None:
    """Change line NAME: the options given replace the rule's; the others stay."""
    if after and no_after:
        raise ConfigError("--after and --no-after contradict each other; give one of them")
    if not (direction or priority or every or after or no_after):
        raise ConfigError(
            "nothing to change: give --direction, --priority, --every, --after or --no-after"
        )
    path = _path(ctx)
    config, before, document = _read(path)
    sync, entity = _line(config, name)
    rule = document["syncs"][sync]["entities"][entity]  # type: ignore[index]
    _set(
        rule,
        {
            "direction": direction,
            "priority": priority,
            "every": every,
            "after": () if no_after else (after or None),
        },
    )
    _write(path, before, document)
    console.print(f"line {escape(name)}: changed ({escape(entity)} in sync {escape(sync)})")


@lines.command("rm")
@click.argument("name")
@click.pass_context
def rm(ctx: click.Context, name: str) -> None:
    """Remove line NAME: its rule goes from the config (with the comment lines right above
    it). Its links and state are kept: adding the line again resumes where it stopped."""
    path = _path(ctx)
    config, before, document = _read(path)
    sync, entity = _line(config, name)
    _remove_rule(document, sync, entity)
    _write(path, before, document)
    console.print(
        f"line {escape(name)}: removed ({escape(entity)} is no longer synced by sync "
        f"{escape(sync)}; its links and state are kept)"
    )
