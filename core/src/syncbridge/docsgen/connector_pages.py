"""One page per installed connector, generated from its ``describe()``, plus its README.

Connectors are separate distributions written by different people, so the documentation
reads what is installed when the site is built rather than a list kept by hand: the
entities, capabilities, limits and settings shown are exactly what the engine will plan
with. A connector that fails to load is listed on the index with its error instead of
breaking the build, the way ``syncbridge connectors`` lists it.
"""

from __future__ import annotations

import email
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

from syncbridge.describe import Capability, ConnectorInfo, EntityInfo
from syncbridge.docsgen.fields import keys_table, sections
from syncbridge.docsgen.text import code, embed_readme, inline, rst_inline, slug, table
from syncbridge.models import DEPENDENCY_ORDER, META_FIELDS, MODELS
from syncbridge.plugins import CONNECTORS_GROUP, EMULATORS_GROUP, ConnectorEntry, list_connectors

FOLDER = "connectors"

_CAPABILITIES = list(Capability)


def page_path(name: str) -> str:
    return f"{FOLDER}/{name}.md"


def _source_readme(plugin: Any, distribution: str | None) -> str | None:
    """README.md beside the pyproject.toml of the plugin's source tree (editable installs).

    Only a pyproject naming the same distribution counts, so that a wheel installed in a
    virtualenv inside some other project never picks up that project's README.
    """
    file = getattr(plugin, "__file__", None)
    if not file or distribution is None:
        return None
    for folder in list(Path(file).resolve().parents)[:4]:
        pyproject = folder / "pyproject.toml"
        if not pyproject.is_file():
            continue
        try:
            name = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
        except (tomllib.TOMLDecodeError, KeyError, TypeError):
            return None
        readme = folder / "README.md"
        if _same(name, distribution) and readme.is_file():
            return readme.read_text(encoding="utf-8")
        return None
    return None


def _same(a: str, b: str) -> bool:
    def normal(name: str) -> str:
        return name.lower().replace("_", "-").replace(".", "-")

    return normal(a) == normal(b)


def _metadata_readme(distribution: str | None) -> str | None:
    """The long description of an installed wheel, when it is Markdown."""
    if distribution is None:
        return None
    try:
        text = metadata.distribution(distribution).read_text("METADATA")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    message = email.message_from_string(text)
    kind = message.get("Description-Content-Type", "")
    body = message.get_payload()
    if not isinstance(body, str) or not body.strip() or "markdown" not in kind:
        return None
    return body


def readme(entry: ConnectorEntry) -> str | None:
    """The connector's README: from its source tree if there, else from its metadata."""
    return _source_readme(entry.plugin, entry.distribution) or _metadata_readme(entry.distribution)


def _emulators() -> set[str]:
    return {entry_point.name for entry_point in metadata.entry_points(group=EMULATORS_GROUP)}


def _capability_matrix(info: ConnectorInfo) -> str:
    headers = ["entity", *(code(c.value) for c in _CAPABILITIES)]
    rows = [
        [f"[{code(name)}](#{slug(name)})"] + ["✓" if entity.can(c) else "" for c in _CAPABILITIES]
        for name, entity in _ordered(info.entities).items()
    ]
    return table(headers, rows)


def _ordered(entities: dict[str, EntityInfo]) -> dict[str, EntityInfo]:
    order = {name: index for index, name in enumerate(DEPENDENCY_ORDER)}
    return dict(sorted(entities.items(), key=lambda item: order.get(item[0], len(order))))


def _entity(name: str, entity: EntityInfo) -> str:
    capabilities = ", ".join(code(c.value) for c in _CAPABILITIES if entity.can(c)) or "none"
    facts = [
        f"- **Capabilities:** {capabilities}",
        f"- **Source:** {code(entity.source)}" if entity.source else "",
        f"- **Batch size:** {entity.batch_size} · **page size:** {entity.page_size}",
        f"- **Native id field:** {code(entity.id_field)}",
    ]
    model = MODELS.get(name)
    if entity.fields is not None:
        fields = sorted(entity.fields)
        mapped = f"- **Mapped fields** ({len(fields)}): " + ", ".join(code(f) for f in fields)
    elif model is not None:
        fields = sorted(set(model.model_fields) - META_FIELDS)
        mapped = (
            f"- **Mapped fields:** all {len(fields)} fields of the canonical model: "
            + ", ".join(code(f) for f in fields)
        )
    else:
        mapped = "- **Mapped fields:** all fields of the canonical model"
    facts.append(mapped)
    parts = [f"### {name}", "\n".join(fact for fact in facts if fact)]
    if entity.notes:
        parts.append(inline(entity.notes[:1].upper() + entity.notes[1:]))
    return "\n\n".join(parts)


def _settings(info: ConnectorInfo) -> str:
    model = info.settings
    parts = [
        "## Settings",
        f"`[connections.<name>.settings]`, validated by `{model.__module__}.{model.__name__}`. "
        "Write secrets as `${ENV_VAR}`.",
    ]
    for section in sections(model, "settings"):
        if section.path != "settings":
            parts.append(f"### {code('[' + section.path + ']')}")
        if section.description:
            parts.append(rst_inline(section.description))
        parts.append(keys_table(section.keys) if section.keys else "No settings.")
    return "\n\n".join(parts)


def _limits(info: ConnectorInfo) -> str:
    lines = ["## Limits"]
    if info.rate_limits:
        lines.append(
            "Published rate limits, applied client-side so that a well-behaved run never "
            "hits them:\n\n" + "\n".join(f"- {limit}" for limit in info.rate_limits)
        )
    elif info.uses_http:
        lines.append("No published rate limit.")
    else:
        lines.append("Does not speak HTTP: no rate limit applies.")
    lines.append(f"At most **{info.max_concurrency}** request(s) in flight at once per account.")
    return "\n\n".join(lines)


def render_connector(entry: ConnectorEntry, emulators: set[str] | None = None) -> str:
    """The page of one connector that loaded."""
    info = entry.info
    assert info is not None
    emulators = _emulators() if emulators is None else emulators
    distribution = entry.distribution or f"syncbridge-{entry.name}"
    version = entry.version or info.version
    parts = [
        f"# {inline(info.title)}",
        f"Connector {code(entry.name)} · distribution {code(distribution)} {version} · "
        f"`pip install {distribution}`",
    ]
    if info.docs:
        parts.append(inline(info.docs))
    example = ["```toml", f"[connections.my_{entry.name}]", f'connector = "{entry.name}"']
    example.append(f"[connections.my_{entry.name}.settings]")
    top = next(sections(info.settings, "settings"))
    for key in top.keys:
        if key.default == "**required**":
            value = '"..."' if key.type.startswith("string") else f"...  # {key.type}"
            example.append(f"{key.name} = {value}")
    example.append("```")
    parts.append("\n".join(example))
    if entry.name in emulators:
        parts.append(
            "An emulator of the system ships with the connector. Try the connector offline:\n\n"
            f"```sh\nsyncbridge emulate {entry.name} --print-settings\n```\n\n"
            "prints the `[connections.…]` block that reaches it, then serves the API on "
            "127.0.0.1 until stopped."
        )
    parts.append("## Entities")
    parts.append(
        _capability_matrix(info) if info.entities else "This connector declares no entity."
    )
    parts.extend(_entity(name, entity) for name, entity in _ordered(info.entities).items())
    if info.unsupported:
        parts.append("## Not supported")
        parts.append(
            "A sync that asks for one of these entities fails at config time with this reason."
        )
        parts.append(
            table(
                ("entity", "reason"),
                ((code(name), inline(reason)) for name, reason in sorted(info.unsupported.items())),
            )
        )
    parts.append(_settings(info))
    parts.append(_limits(info))
    text = readme(entry)
    if text:
        parts.append("---")
        parts.append(
            "*The rest of this page is the connector's own README, from its distribution.*"
        )
        parts.append(embed_readme(text))
    return "\n\n".join(parts) + "\n"


def render_index(entries: list[ConnectorEntry]) -> str:
    rows = []
    for entry in entries:
        if entry.info is None:
            rows.append(
                (
                    code(entry.name),
                    entry.version or "?",
                    "",
                    f"**fails to load:** {inline(entry.error or '')}",
                )
            )
            continue
        rows.append(
            (
                f"[{code(entry.name)}]({entry.name}.md)",
                entry.version or entry.info.version,
                inline(entry.info.title),
                ", ".join(code(name) for name in _ordered(entry.info.entities)),
            )
        )
    parts = [
        "# Connectors",
        "The connectors installed where this site was built, each documented from what it "
        "declares about itself (`describe()`): the same information `syncbridge connectors` "
        f"prints. A connector is a distribution publishing an entry point in the "
        f"`{CONNECTORS_GROUP}` group; install one with `pip install syncbridge-<system>`.",
        table(("connector", "version", "system", "entities"), rows)
        if rows
        else "No connector is installed.",
        "Capabilities, as the engine reads them:",
        table(
            ("capability", "meaning"),
            ((code(c.value), CAPABILITY_MEANINGS.get(c.value, "")) for c in _CAPABILITIES),
        ),
    ]
    return "\n\n".join(parts) + "\n"


#: what each capability promises, in words (the site test checks every one is here)
CAPABILITY_MEANINGS = {
    "read": "`fetch` returns every record (a full read)",
    "incremental": "`fetch(since=cursor)` returns the records changed since the cursor",
    "create": "`upsert` creates records",
    "update": "`upsert` updates records by id",
    "delete": "`delete` removes records (used only with `deletes = true`)",
    "batch": "`upsert` writes several records per request (up to the entity's batch size)",
    "idempotent_create": "a create re-sent with the same idempotency key never makes a second "
    "record",
    "lookup": "`lookup` finds a record by the idempotency key written with it (crash recovery)",
    "filter": "`fetch` reads only the records matching the entity's `filter` (a one-way sync "
    "pushes it down to its source)",
}


def _nav_title(title: str) -> str:
    return title.replace("[", "(").replace("]", ")")


def render() -> dict[str, str]:
    """Every connector page and the index, by path under ``docs/``."""
    entries = list_connectors()
    emulators = _emulators()
    pages = {f"{FOLDER}/index.md": render_index(entries)}
    for entry in entries:
        if entry.info is not None:
            pages[page_path(entry.name)] = render_connector(entry, emulators)
    nav = ["* [Overview](index.md)"]
    nav.extend(
        f"* [{_nav_title(entry.info.title)}]({entry.name}.md)"
        for entry in entries
        if entry.info is not None
    )
    pages[f"{FOLDER}/SUMMARY.md"] = "\n".join(nav) + "\n"
    return pages
