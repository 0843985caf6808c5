"""Installed connectors' emulators, served over HTTP on 127.0.0.1 for a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from syncbridge.emulator import EmulatorOptions, running
from syncbridge.plugins import load_emulators


@contextmanager
def emulated(system: str, **options: Any) -> Iterator[tuple[Any, str]]:
    """An installed connector's emulator served on 127.0.0.1: (emulator, base URL)."""
    factories, failures = load_emulators()
    assert system in factories, f"the {system} emulator is not installed: {failures}"
    options.setdefault("rate_limits", False)
    options.setdefault("records", 3)
    emulator = factories[system](EmulatorOptions(**options))
    with running(emulator.app) as url:
        yield emulator, url
