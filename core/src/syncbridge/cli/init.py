"""``syncbridge init``: write a starting ``syncbridge.toml``.

The file must be one step from working: every setting the chosen connectors need is there,
with its description as a comment, so the next command (``plan``, ``check``) fails, if it
does, by naming the one value still to give, never on a key nobody said was needed.

Which settings a connector needs is read from its settings model rather than listed here:
the required fields, plus the smallest set of optional ones that makes the model valid (a
connector that accepts a token *or* an OAuth app needs one of the two; a connector's
emulator, when it has one, says which set it uses). Values to give are ``${ENV_VAR}``
placeholders, so that secrets never have to be written into the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from itertools import combinations
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo

from syncbridge.cli.common import EXIT_USAGE, console, say
from syncbridge.emulator.config import toml_key
from syncbridge.emulator.options import EmulatorOptions
from syncbridge.plugins import describe_plugin, list_connectors, load_connector, load_emulators

TEMPLATE = """\
# syncbridge configuration. Reference: docs/ (configuration reference), `syncbridge --help`.
# Secrets: write "${{ENV_VAR}}" and export the variable; never put them in this file.

[state]
url = "sqlite:///syncbridge-state.db"   # or "postgresql+psycopg://user@host/db"
# stored OAuth tokens are encrypted with the key in $SYNCBRIDGE_CREDENTIALS_KEY
credentials = "encrypted"

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

#: the most optional settings tried together to make a connector's settings valid
MOST_OPTIONAL = 4


def env_name(connection: str, key: str) -> str:
    """``FATTUREINCLOUD_ACCESS_TOKEN``: the variable a placeholder names."""
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{connection}_{key}").strip("_").upper()


def _is_secret(field: FieldInfo) -> bool:
    annotation = field.annotation
    return annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ())


def _stand_in(field: FieldInfo) -> Any:
    """A value of the field's type, to try a set of settings with (never written)."""
    annotation = field.annotation
    kinds = (annotation, *getattr(annotation, "__args__", ()))
    for kind, value in ((bool, True), (int, 1), (float, 1.0), (str, "x"), (SecretStr, "x")):
        if kind in kinds:
            return value
    return None


def needed_settings(model: type[BaseModel], sample: Mapping[str, Any]) -> list[str]:
    """The settings of ``model`` a configuration must give, in the model's order.

    Candidates are the fields without a usable default (required, or defaulting to None);
    the smallest set of them that validates wins, trying those the connector's emulator
    uses (``sample``) first. Without a valid set, the required fields.
    """
    fields = model.model_fields
    candidates = [name for name, f in fields.items() if f.is_required() or f.default is None]
    values = {name: sample[name] if name in sample else _stand_in(fields[name])
              for name in candidates}
    # the emulator's own choice first (the connector's main way in), then any
    for pool in ([name for name in candidates if name in sample], candidates):
        for size in range(min(MOST_OPTIONAL, len(pool)) + 1):
            for chosen in combinations(pool, size):
                if any(values[name] is None for name in chosen):
                    continue
                try:
                    model.model_validate({name: values[name] for name in chosen})
                except ValidationError:
                    continue
                return [name for name in fields if name in chosen]
    return [name for name in candidates if fields[name].is_required()]


def _sample(connector: str) -> dict[str, Any]:
    """The settings the connector's emulator hands out (values never written), or {}."""
    factories, _failures = load_emulators()
    factory = factories.get(connector)
    if factory is None:
        return {}
    try:
        return dict(factory(EmulatorOptions(records=0)).settings_for("http://127.0.0.1:1"))
    except Exception:  # an emulator that cannot start only loses us its hint
        return {}


def settings_lines(connector: str, name: str, folder: Path) -> Iterator[str]:
    """The ``[connections.NAME.settings]`` body for ``connector``."""
    if connector == "sql":  # a runnable start: a local SQLite file, no secret involved
        yield f'url = "sqlite:///{(folder / name).resolve()}.db"'
        return
    model = describe_plugin(load_connector(connector)).settings
    fields = model.model_fields
    for key in needed_settings(model, _sample(connector)):
        field = fields[key]
        description = (field.description or key).replace("\n", " ")
        variable = env_name(name, key)
        if _is_secret(field):
            yield f"# {description} — a secret: export {variable}"
        else:
            yield f"# {description} — export {variable}, or write the value here"
        yield f'{toml_key(key)} = "${{{variable}}}"'
    if "base_url" in fields:
        yield (
            f"# base_url: `syncbridge emulate {connector} --print-settings` prints a block "
            "that reaches its emulator instead"
        )


@click.command()
@click.option("--left", "left_connector", default="sql", show_default=True,
              help="Connector of the left side.")
@click.option("--right", "right_connector", default="sql", show_default=True,
              help="Connector of the right side.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def init(ctx: click.Context, left_connector: str, right_connector: str, force: bool) -> None:
    """Write a commented syncbridge.toml to start from (or to the -c path).

    Every setting the chosen connectors need is written, secrets as ${ENV_VAR} placeholders.
    """
    path = Path(ctx.find_root().obj.get("config_path") or "syncbridge.toml")
    if path.exists() and not force:
        say(f"{path} exists; pass --force to overwrite it")
        ctx.exit(EXIT_USAGE)
    installed = ", ".join(entry.name for entry in list_connectors() if entry.info) or "none"
    left = left_connector if left_connector != right_connector else f"{left_connector}_left"
    right = right_connector if left_connector != right_connector else f"{right_connector}_right"
    text = TEMPLATE.format(
        left=left, right=right, left_connector=left_connector,
        right_connector=right_connector, installed=installed,
        left_settings="\n".join(settings_lines(left_connector, left, path.parent)),
        right_settings="\n".join(settings_lines(right_connector, right, path.parent)),
    )
    path.write_text(text, encoding="utf-8")
    console.print(f"wrote {path}; check it with `syncbridge -c {path} plan`", markup=False)
