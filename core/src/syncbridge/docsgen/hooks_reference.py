"""The hooks reference page, generated from :mod:`syncbridge.hookspecs`.

The spec module is the contract and its docstrings are the plugin author's guide (STYLE.md:
"the hook spec file is the plugin author's guide"); this page renders exactly that, in
contract order, so the two can never drift. A hook that is marked as a spec but missing
from :func:`~syncbridge.hookspecs.hook_names` is still documented (after the others).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from syncbridge import hookspecs
from syncbridge.describe import Capability, ConnectorInfo, EntityInfo, RateLimit
from syncbridge.docsgen.connector_pages import CAPABILITY_MEANINGS
from syncbridge.docsgen.fields import python_type
from syncbridge.docsgen.source import attribute_docs, signature
from syncbridge.docsgen.text import code, first_line, rst_inline, rst_to_markdown, slug, table
from syncbridge.records import CheckResult, Page, UpsertItem, UpsertResult

PATH = "writing-a-connector/hooks.md"
_MARKER = f"{hookspecs.PROJECT}_spec"


def specs() -> dict[str, Callable[..., Any]]:
    """Every hook spec by name: ``hook_names()`` order first, then source order."""
    marked = {
        name: value
        for name, value in vars(hookspecs).items()
        if callable(value) and hasattr(value, _MARKER)
    }
    ordered = [name for name in hookspecs.hook_names() if name in marked]
    rest = sorted(
        (name for name in marked if name not in ordered),
        key=lambda name: inspect.getsourcelines(marked[name])[1],
    )
    return {name: marked[name] for name in [*ordered, *rest]}


def _options(function: Callable[..., Any]) -> str:
    options: dict[str, Any] = getattr(function, _MARKER, {}) or {}
    notes = []
    if options.get("firstresult"):
        notes.append("first result wins: the first implementation returning non-None answers")
    if options.get("historic"):
        notes.append("historic: implementations registered later are called too")
    if options.get("warn_on_impl"):
        notes.append(f"deprecated: {options['warn_on_impl']}")
    return "*" + "; ".join(notes) + "*" if notes else ""


def _python_default(field: FieldInfo) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    else:
        return "**required**"
    return code(value.__name__ if isinstance(value, type) else repr(value))


def _model_table(model: type[BaseModel]) -> str:
    documented = attribute_docs(model)
    rows = []
    for name, field in model.model_fields.items():
        rows.append(
            (
                code(name),
                code(python_type(field.annotation)),
                _python_default(field),
                rst_inline(field.description or documented.get(name, "")),
            )
        )
    return table(("field", "type", "default", "meaning"), rows)


def _dataclass_table(cls: type) -> str:
    rows = []
    for item in dataclasses.fields(cls):
        if item.default is not dataclasses.MISSING:
            default = code(repr(item.default))
        elif item.default_factory is not dataclasses.MISSING:
            default = code(repr(item.default_factory()))
        else:
            default = "**required**"
        rows.append((code(item.name), code(item.type), default))
    return table(("field", "type", "default"), rows)


def _types() -> str:
    """The values hooks receive and return, from ``describe.py`` and ``records.py``."""
    parts = [
        "## Types that cross the hook boundary",
        "### Capabilities",
        "Declared per entity in `EntityInfo.capabilities` (`syncbridge.describe.Capability`). "
        "The engine plans from them, and the [test kit](test-kit.md) fails a connector whose "
        "declarations are not true.",
        table(
            ("capability", "meaning"),
            ((code(c.value), CAPABILITY_MEANINGS.get(c.value, "")) for c in Capability),
        ),
    ]
    for model in (ConnectorInfo, EntityInfo, RateLimit):
        parts.append(f"### {model.__name__}")
        parts.append(rst_to_markdown(model.__doc__))
        parts.append(_model_table(model))
    for cls in (Page, UpsertItem, UpsertResult, CheckResult):
        parts.append(f"### {cls.__name__}")
        parts.append(rst_to_markdown(cls.__doc__))
        parts.append(_dataclass_table(cls))
    return "\n\n".join(parts)


def render() -> str:
    """The whole page."""
    found = specs()
    overview = table(
        ("hook", "what it is for"),
        ((f"[{code(name)}](#{slug(name)})", first_line(fn.__doc__)) for name, fn in found.items()),
    )
    parts = [
        "# Hooks reference",
        "Generated from `syncbridge.hookspecs`, the connector contract. Implement the hooks as "
        "functions marked `@hookimpl` (`from syncbridge.hookspecs import hookimpl`) in the "
        "module your `syncbridge.connectors` entry point names.",
        "## The contract",
        rst_to_markdown(hookspecs.__doc__),
        "## Hooks",
        overview,
    ]
    for name, function in found.items():
        parts.append(f"### {name}")
        parts.append(f"```python\n{signature(name, function)}\n```")
        options = _options(function)
        if options:
            parts.append(options)
        parts.append(rst_to_markdown(function.__doc__))
    parts.append(_types())
    return "\n\n".join(parts) + "\n"
