"""Finding connectors and extensions, and giving each connection its own plugin manager.

Connectors are found by name through stevedore in the entry-point group
``syncbridge.connectors``; a connector that fails to import is reported with its error and
breaks nothing else. ``SYNCBRIDGE_PLUGINS=sql,acme`` limits which installed connectors load;
``SYNCBRIDGE_TRACE_HOOKS=1`` logs every hook call (pluggy's hook-call monitoring), which is
how you find out what an unexpected extension is doing.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from difflib import get_close_matches
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy
from stevedore import ExtensionManager, NamedExtensionManager

from syncbridge import hookspecs
from syncbridge.describe import ConnectorInfo
from syncbridge.errors import ConfigError

CONNECTORS_GROUP = "syncbridge.connectors"
EXTENSIONS_GROUP = "syncbridge.extensions"
EMULATORS_GROUP = "syncbridge.emulators"

log = logging.getLogger(__name__)


@dataclass
class ConnectorEntry:
    """One installed connector as ``syncbridge connectors`` lists it."""

    name: str
    distribution: str | None
    version: str | None
    plugin: Any = None
    info: ConnectorInfo | None = None
    error: str | None = None


def _allowed() -> set[str] | None:
    value = os.environ.get("SYNCBRIDGE_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _load_group(group: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Load every entry point of ``group``: ``(loaded, {name: error})``."""
    failures: dict[str, str] = {}

    def on_failure(_manager: Any, entry_point: Any, error: BaseException) -> None:
        failures[entry_point.name] = f"{type(error).__name__}: {error}"

    allowed = _allowed()
    manager: ExtensionManager[Any]
    if allowed is None:
        manager = ExtensionManager(
            namespace=group, invoke_on_load=False, on_load_failure_callback=on_failure
        )
    else:  # load only the allowed ones: a disallowed broken plugin is never imported
        manager = NamedExtensionManager(
            namespace=group,
            names=sorted(allowed),
            invoke_on_load=False,
            on_load_failure_callback=on_failure,
        )
    return {ext.name: ext.plugin for ext in manager.extensions}, failures


def _distribution(group: str, name: str) -> tuple[str | None, str | None]:
    for entry_point in metadata.entry_points(group=group, name=name):
        dist = entry_point.dist
        if dist is not None:
            return dist.metadata["Name"], dist.version
    return None, None


def new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    if os.environ.get("SYNCBRIDGE_TRACE_HOOKS"):
        manager.trace.root.setwriter(lambda message: log.warning("hook: %s", message.rstrip()))
        manager.enable_tracing()
    return manager


def describe_plugin(plugin: ModuleType | object) -> ConnectorInfo:
    """Ask a connector module for its info through a throwaway manager."""
    manager = new_manager()
    manager.register(plugin)
    manager.check_pending()
    info = manager.hook.describe()
    if not isinstance(info, ConnectorInfo):
        raise TypeError(f"describe() returned {type(info).__name__}, not ConnectorInfo")
    return info


def list_connectors() -> list[ConnectorEntry]:
    """Every installed connector, loaded or with the error that kept it from loading."""
    loaded, failures = _load_group(CONNECTORS_GROUP)
    entries: list[ConnectorEntry] = []
    for name in sorted({*loaded, *failures}):
        dist, version = _distribution(CONNECTORS_GROUP, name)
        entry = ConnectorEntry(name=name, distribution=dist, version=version)
        if name in failures:
            entry.error = failures[name]
        else:
            entry.plugin = loaded[name]
            try:
                entry.info = describe_plugin(entry.plugin)
            except Exception as error:  # a broken describe() must not hide the others
                entry.error = f"{type(error).__name__}: {error}"
        entries.append(entry)
    return entries


def load_connector(name: str) -> Any:
    """The connector plugin named ``name``, or a ConfigError naming what is installed."""
    loaded, failures = _load_group(CONNECTORS_GROUP)
    if name in loaded:
        return loaded[name]
    if name in failures:
        raise ConfigError(f"connector {name!r} is installed but failed to load: {failures[name]}")
    known = ", ".join(sorted(loaded)) or "none"
    # a near miss is a typo: suggest the installed name, never a package to install that a
    # typo-squatter could have published under the misspelt name
    close = get_close_matches(name, [*loaded, *failures], n=1, cutoff=0.75)
    if close:
        raise ConfigError(
            f"no connector named {name!r} is installed; did you mean {close[0]!r}? "
            f"(installed: {known})"
        )
    raise ConfigError(
        f"no connector named {name!r} is installed (installed: {known}); "
        f"pip install syncbridge-{name}"
    )


def load_extensions(names: list[str]) -> list[Any]:
    """Extensions by entry-point name or dotted module path, in the order given."""
    import importlib

    loaded, failures = _load_group(EXTENSIONS_GROUP)
    plugins: list[Any] = []
    for name in names:
        if name in loaded:
            plugins.append(loaded[name])
        elif name in failures:
            raise ConfigError(f"extension {name!r} failed to load: {failures[name]}")
        else:
            try:
                plugins.append(importlib.import_module(name))
            except ImportError as error:
                raise ConfigError(
                    f"extension {name!r} is neither an installed extension nor an importable "
                    f"module: {error}"
                ) from None
    return plugins


def connection_manager(connector: Any, extensions: list[Any] = []) -> pluggy.PluginManager:  # noqa: B006
    """A fresh manager holding one connector and its extensions (never shared)."""
    manager = new_manager()
    manager.register(connector)
    for extension in extensions:
        manager.register(extension)
    manager.check_pending()
    return manager


def load_emulators() -> tuple[dict[str, Any], dict[str, str]]:
    """Emulator factories by system name, and the ones that failed to load."""
    return _load_group(EMULATORS_GROUP)
