"""Fixtures: a seeded Simply CRM emulator over real HTTP, and connections to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

import syncbridge_simplycrm.connector
from syncbridge.connection import Connection
from syncbridge.emulator import EmulatorOptions, running
from syncbridge.http import LoggedRequest
from syncbridge.testing.faults import OneShotFaults
from syncbridge_simplycrm.emulator import SimplyCrmEmulator
from syncbridge_simplycrm.emulator.modules import MODULES


class _Switch:
    """An ASGI app handing each request to the current test's emulator: one server for the
    session instead of one per test (starting uvicorn costs more than most tests)."""

    def __init__(self) -> None:
        self.target: OneShotFaults | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.target is not None, "no emulator is active"
        await self.target(scope, receive, send)


@dataclass
class Crm:
    """A running emulator, and the connections a test opened to it (closed afterwards)."""

    emulator: SimplyCrmEmulator
    url: str
    shots: OneShotFaults
    log: list[LoggedRequest] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)

    def settings(self, **overrides: Any) -> dict[str, Any]:
        return {**self.emulator.settings_for(self.url), **overrides}

    def connect(self, **overrides: Any) -> Connection:
        connection = Connection(
            "crm", syncbridge_simplycrm.connector, self.settings(**overrides),
            request_log=self.log.append,
        )
        self.connections.append(connection)
        return connection

    def arm(self, **faults: Any) -> None:
        """Give the next request these faults (``error_rate=1.0``...), and only that one."""
        self.shots.arm(**faults)

    def rows(self, module: str) -> list[Any]:
        return self.emulator.rows(MODULES[module])

    def row(self, module: str, crmid: int) -> Any:
        return self.emulator.table(MODULES[module]).get(crmid)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url)

    def session(self, client: httpx.Client) -> str:
        """Log in by hand (challenge + login); the session name."""
        import hashlib

        from syncbridge_simplycrm.emulator.sessions import ACCESS_KEY, USERNAME

        token = client.get(
            "/webservice.php", params={"operation": "getchallenge", "username": USERNAME}
        ).json()["result"]["token"]
        digest = hashlib.md5((token + ACCESS_KEY).encode()).hexdigest()
        answer = client.post(
            "/webservice.php",
            data={"operation": "login", "username": USERNAME, "accessKey": digest},
        ).json()
        return str(answer["result"]["sessionName"])



@pytest.fixture(scope="session")
def _server() -> Iterator[tuple[_Switch, str]]:
    switch = _Switch()
    with running(switch) as url:
        yield switch, url


@pytest.fixture
def make_crm(_server: tuple[_Switch, str]) -> Iterator[Callable[..., Crm]]:
    """Put a fresh emulator with ``records`` per module behind the session's server."""
    switch, url = _server
    made: list[Crm] = []

    def make(records: int = 5, **kwargs: Any) -> Crm:
        emulator = SimplyCrmEmulator(EmulatorOptions(records=records, rate_limits=False), **kwargs)
        shots = OneShotFaults(emulator)
        switch.target = shots
        crm = Crm(emulator, url, shots)
        made.append(crm)
        return crm

    yield make
    for crm in made:
        for connection in crm.connections:
            connection.close()
    switch.target = None


@pytest.fixture
def crm(make_crm: Callable[..., Crm]) -> Crm:
    """An emulator with 5 records per module."""
    return make_crm()
