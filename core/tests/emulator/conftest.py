"""Fixtures for the emulator tests: the Notes test emulator, served over real HTTP."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).parent
# the test emulator is a plain module beside the tests (pytest runs with --import-mode=importlib)
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import notes_api  # noqa: E402
from notes_api import Served  # noqa: E402

from syncbridge.emulator import EmulatorOptions, running  # noqa: E402


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """``serve(records=5, ...)``: a Notes emulator on a free port and a client authenticated to it.

    Options default to ``rate_limits=False``; everything started is stopped after the test.
    """
    with ExitStack() as stack:

        def start(**options: Any) -> Served:
            options.setdefault("rate_limits", False)
            emulator = notes_api.NotesEmulator(EmulatorOptions(**options))
            base_url = stack.enter_context(running(emulator.app))
            client = stack.enter_context(
                httpx.Client(
                    base_url=base_url, headers={"X-Api-Key": notes_api.API_KEY}, timeout=5
                )
            )
            return emulator, client

        yield start


@pytest.fixture
def notes(serve: Callable[..., Served]) -> Served:
    """A Notes emulator with 23 contacts, and its client."""
    return serve(records=23)
