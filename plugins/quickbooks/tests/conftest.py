"""Fixtures of the QuickBooks tests: the emulator over real HTTP and a connection to it.

Every test talks HTTP to a running emulator through a :class:`~syncbridge.connection.Connection`
holding pre-issued tokens (``emulator.issue_tokens()``, what ``syncbridge auth`` would have
stored), so the whole stack runs: auth, retries, rate limiter, request log, hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import syncbridge_quickbooks.connector
from syncbridge.connection import Connection
from syncbridge.credentials import MemoryCredentials
from syncbridge.emulator import EmulatorOptions, running
from syncbridge.http import LoggedRequest
from syncbridge_quickbooks.emulator import QuickBooksEmulator


@dataclass
class Served:
    """A running emulator, its base URL, and connections opened to it."""

    emulator: QuickBooksEmulator
    url: str
    log: list[LoggedRequest] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    #: the settings as a config file would hold them: asked once, like ``--print-settings``
    base_settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base_settings = self.emulator.settings_for(self.url)

    @property
    def api(self) -> str:
        return f"/v3/company/{self.emulator.realm}"

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {**self.base_settings, **extra}

    def connect(self, credentials: MemoryCredentials | None = None, **settings: Any) -> Connection:
        conn = Connection(
            "qbo",
            syncbridge_quickbooks.connector,
            self.settings(**settings),
            credentials=credentials or MemoryCredentials(self.emulator.issue_tokens()),
            request_log=self.log.append,
        )
        self.connections.append(conn)
        return conn

    def queries(self) -> list[str]:
        """The query statements the connector sent (GET or POST), in order."""
        found = []
        for entry in self.log:
            params = parse_qs(urlsplit(entry.url).query)
            if "query" in params:
                found.append(params["query"][0])
        return found

    def count(self, method: str, path: str) -> int:
        """Requests the emulator received on ``path`` under the company."""
        return self.emulator.requests.count(method, self.api + path)



@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """``serve(records=..., **emulator kwargs)`` starts an emulator; all stop at teardown."""
    stack: list[tuple[Any, Served]] = []

    def start(records: int = 0, rate_limits: bool = False, **kwargs: Any) -> Served:
        emulator = QuickBooksEmulator(
            EmulatorOptions(records=records, rate_limits=rate_limits), **kwargs
        )
        context = running(emulator.app)
        url = context.__enter__()
        served = Served(emulator, url)
        stack.append((context, served))
        return served

    yield start
    for context, served in reversed(stack):
        for conn in served.connections:
            conn.close()
        context.__exit__(None, None, None)


@pytest.fixture
def served(serve: Callable[..., Served]) -> Served:
    """An emulator with 12 seeded records per main list and no rate limits."""
    return serve(records=12)


@pytest.fixture
def qbo(served: Served) -> Connection:
    return served.connect()
