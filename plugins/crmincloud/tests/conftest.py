"""Fixtures: a seeded CRM in Cloud emulator over real HTTP, and connections to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import syncbridge_crmincloud.connector
from syncbridge.connection import Connection
from syncbridge.emulator import EmulatorOptions, running
from syncbridge.http import LoggedRequest
from syncbridge_crmincloud.emulator import CrmInCloudEmulator


@dataclass
class Crm:
    """A running emulator, and the connections a test opened to it (closed afterwards)."""

    emulator: CrmInCloudEmulator
    url: str
    log: list[LoggedRequest] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)

    def settings(self, **overrides: Any) -> dict[str, Any]:
        settings = self.emulator.settings_for(self.url)
        settings.update(overrides)
        return {key: value for key, value in settings.items() if value is not None}

    def connect(self, **overrides: Any) -> Connection:
        connection = Connection(
            "crm",
            syncbridge_crmincloud.connector,
            self.settings(**overrides),
            request_log=self.log.append,
        )
        self.connections.append(connection)
        return connection

    def table(self, name: str) -> Any:
        return self.emulator.store.table(name)


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCBRIDGE_RETRY_BACKOFF", "0.01")


@pytest.fixture
def make_crm() -> Iterator[Callable[..., Crm]]:
    """Start an emulator with the given options (``records``, ``token_lifetime``, ...)."""
    stack: list[tuple[Any, Crm]] = []

    def make(records: int = 25, rate_limits: bool = False, **kwargs: Any) -> Crm:
        emulator = CrmInCloudEmulator(
            EmulatorOptions(records=records, rate_limits=rate_limits), **kwargs
        )
        server = running(emulator.app)
        url = server.__enter__()
        crm = Crm(emulator, url)
        stack.append((server, crm))
        return crm

    yield make
    for server, crm in reversed(stack):
        for connection in crm.connections:
            connection.close()
        server.__exit__(None, None, None)


@pytest.fixture
def crm(make_crm: Callable[..., Crm]) -> Crm:
    """An emulator with 25 records per entity, limits off."""
    return make_crm()


@pytest.fixture
def conn(crm: Crm) -> Connection:
    """A login connection to :func:`crm` reading 10 records a page."""
    return crm.connect(page_size=10)
