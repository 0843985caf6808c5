"""The configuration reference page, generated from :mod:`syncbridge.config.schema`.

The pydantic models are what the loader validates against, so documenting them directly is
the only way the reference stays true: a key added, renamed or re-defaulted in the schema
shows up here on the next docs build, and the site test fails if a key loses its
description.
"""

from __future__ import annotations

from syncbridge.config.schema import DEFAULT_MATCH, Config
from syncbridge.docsgen.fields import Section, keys_table, sections
from syncbridge.docsgen.text import code, rst_inline, table
from syncbridge.models import DEPENDENCY_ORDER, REFERENCE_DATA

PATH = "reference/config.md"

_INTRO = """\
# Configuration reference

syncbridge reads one TOML file: `syncbridge.toml` in the current directory, or the file given
with `syncbridge -c PATH`. This page is generated from the pydantic models that validate it
(`syncbridge.config.schema`), so every key the loader accepts is listed here with its type,
default and allowed values.

- **Unknown keys are errors.** A misspelt key is reported with its full path
  (`syncs.main.entities.company.direction: ...`) instead of being ignored.
- **Secrets** are written as `${ENV_VAR}` anywhere in a string value; the variable is
  substituted when the file is read, and a variable that is not set is an error naming it.
- **Field names** in `match`, `fields`, `exclude` and `filter` are canonical field names
  (see [Canonical models](models.md)); an unknown one is an error listing the entity's fields.
- **Connector settings** (`[connections.<connection>.settings]`) are validated by the
  connector's own model: see its page under [Connectors](../connectors/index.md).
- A relative SQLite path in `state.url` is relative to the config file, not to the current
  directory.

The skeleton of a file:

```toml
[state]
url = "sqlite:///state.db"

[connections.erp]
connector = "sql"
settings = { url = "sqlite:///erp.db" }

[connections.crm]
connector = "sql"
settings = { url = "sqlite:///crm.db" }

[syncs.erp_crm]
left = "erp"
right = "crm"

[syncs.erp_crm.entities.company]
direction = "both"
```
"""


def _section(section: Section) -> str:
    heading = f"## {code('[' + section.path + ']')}"
    parts = [heading]
    if section.description:
        text = section.description.rstrip(".")
        parts.append(rst_inline(text[:1].upper() + text[1:]) + ".")
    parts.append(keys_table(section.keys))
    return "\n\n".join(parts)


def _defaults() -> str:
    rows = []
    for entity in DEPENDENCY_ORDER:
        cascade = DEFAULT_MATCH.get(entity, [])
        levels = " then ".join(code(" + ".join(key)) for key in cascade) or "none (never matched)"
        linked = "yes" if entity in REFERENCE_DATA else ""
        rows.append((code(entity), levels, linked))
    return "\n\n".join(
        [
            "## Per-entity defaults",
            "When an entity's rule gives no `match`, this cascade is used. Entities marked "
            "*reference data* are linked by value: unless the rule sets `create` or `update` "
            "explicitly, they are neither created nor updated on the other side, only linked. "
            "Entities run in this order (dependency order), whatever order the file lists "
            "them in.",
            table(("entity", "default match cascade", "reference data"), rows),
        ]
    )


def render() -> str:
    """The whole page."""
    parts = [_INTRO]
    parts.extend(_section(section) for section in sections(Config))
    parts.append(_defaults())
    return "\n\n".join(parts) + "\n"
