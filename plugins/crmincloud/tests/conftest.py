"""Fixtures: a seeded CRM in Cloud emulator over real HTTP, and connections to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

import syncbridge_crmincloud.connector
from syncbridge.connection import Connection
from syncbridge.emulator import EmulatorOptions, running
from syncbridge.http import LoggedRequest
from syncbridge.models import CanonicalRecord
from syncbridge_crmincloud.emulator import CrmInCloudEmulator

M = TypeVar("M", bound=CanonicalRecord)


def typed(model: type[M], record: CanonicalRecord) -> M:
    """``record`` as the model it must be (``map_in`` is typed for any entity)."""
    assert isinstance(record, model), f"expected a {model.__name__}, got {type(record).__name__}"
    return record


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


class _Switch:
    """An ASGI app that hands each request to the current test's emulator.

    One server for the whole session instead of one per test: starting and stopping uvicorn
    costs more than most of these tests.
    """

    def __init__(self) -> None:
        self.target: CrmInCloudEmulator | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.target is not None, "no emulator is active"
        await self.target(scope, receive, send)


@pytest.fixture(scope="session")
def _server() -> Iterator[tuple[_Switch, str]]:
    switch = _Switch()
    with running(switch) as url:
        yield switch, url


@pytest.fixture
def make_crm(_server: tuple[_Switch, str]) -> Iterator[Callable[..., Crm]]:
    """Put a fresh emulator with these options (``records``, ``token_lifetime``...) behind
    the session's server; the last one made answers."""
    switch, url = _server
    made: list[Crm] = []

    def make(records: int = 25, rate_limits: bool = False, **kwargs: Any) -> Crm:
        emulator = CrmInCloudEmulator(
            EmulatorOptions(records=records, rate_limits=rate_limits), **kwargs
        )
        switch.target = emulator
        crm = Crm(emulator, url)
        made.append(crm)
        return crm

    yield make
    for crm in made:
        for connection in crm.connections:
            connection.close()
    switch.target = None


@pytest.fixture
def crm(make_crm: Callable[..., Crm]) -> Crm:
    """An emulator with 25 records per entity, limits off."""
    return make_crm()


@pytest.fixture
def conn(crm: Crm) -> Connection:
    """A login connection to :func:`crm` reading 10 records a page."""
    return crm.connect(page_size=10)
