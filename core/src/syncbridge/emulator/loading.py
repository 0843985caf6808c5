"""Finding an emulator factory by system name, or by ``module:attribute`` path.

Installed plugins publish their factories under the entry-point group ``syncbridge.emulators``;
a dotted path lets tests and plugin authors run an emulator that is not installed yet.
"""

from __future__ import annotations

import importlib
from difflib import get_close_matches
from typing import cast

from syncbridge.emulator.base import EmulatorFactory
from syncbridge.errors import ConfigError
from syncbridge.plugins import load_emulators


class UnknownEmulator(ConfigError):
    """No installed emulator has that name, and it is no importable ``module:factory``."""


def installed_emulators() -> list[str]:
    """Names of the installed emulators that load."""
    factories, _failures = load_emulators()
    return sorted(factories)


def load_factory(system: str) -> EmulatorFactory:
    """The factory of ``system``: an entry-point name, or ``package.module:factory``."""
    factories, failures = load_emulators()
    if system in factories:
        return cast(EmulatorFactory, factories[system])
    if system in failures:
        raise ConfigError(
            f"emulator {system!r} is installed but failed to load: {failures[system]}"
        )
    if ":" in system:
        return _import(system)
    known = ", ".join(sorted(factories)) or "none"
    close = get_close_matches(system, [*factories, *failures], n=1, cutoff=0.75)
    if close:  # a typo: the installed name, not a package a typo-squatter could publish
        raise UnknownEmulator(
            f"no emulator named {system!r} is installed; did you mean {close[0]!r}? "
            f"(installed: {known})"
        )
    raise UnknownEmulator(
        f"no emulator named {system!r} is installed (installed: {known}); install its plugin "
        f"(pip install syncbridge-{system}) or name a factory as package.module:create_app"
    )


def _import(path: str) -> EmulatorFactory:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UnknownEmulator(f"cannot import emulator module {module_name!r}: {error}") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise UnknownEmulator(f"{module_name!r} has no emulator factory {attribute!r}")
    return cast(EmulatorFactory, factory)
