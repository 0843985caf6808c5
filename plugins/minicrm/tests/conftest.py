"""Fixtures of the MiniCRM tests: emulators over real HTTP (``make_crm``, ``crm``) and
connections to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

import syncbridge_minicrm.connector
from syncbridge.connection import Connection
from syncbridge.emulator import EmulatorOptions, running
from syncbridge.http import LoggedRequest
from syncbridge_minicrm.emulator import MiniCrmEmulator


@dataclass
class Crm:
    """A running emulator and the connections a test opened to it (closed afterwards)."""

    emulator: MiniCrmEmulator
    url: str
    log: list[LoggedRequest] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)

    def settings(self, **overrides: Any) -> dict[str, Any]:
        return {**self.emulator.settings_for(self.url), **overrides}

    def connect(self, **overrides: Any) -> Connection:
        connection = Connection(
            "crm",
            syncbridge_minicrm.connector,
            self.settings(**{"rate_limit": False, **overrides}),
            request_log=self.log.append,
        )
        self.connections.append(connection)
        return connection

    def http(self) -> httpx.Client:
        """A plain client signed as the system: for the emulator's own tests."""
        return httpx.Client(
            base_url=self.url, auth=(str(self.emulator.system_id), self.emulator.api_key)
        )

    def table(self, name: str) -> Any:
        return self.emulator.store.table(name)



@pytest.fixture
def make_crm() -> Iterator[Callable[..., Crm]]:
    """Start an emulator (``records``, ``rate_limits``, and the emulator's own keywords) on
    127.0.0.1; everything started is stopped after the test."""
    with ExitStack() as stack:
        made: list[Crm] = []

        def make(records: int = 6, rate_limits: bool = False, **kwargs: Any) -> Crm:
            emulator = MiniCrmEmulator(
                EmulatorOptions(records=records, rate_limits=rate_limits), **kwargs
            )
            url = stack.enter_context(running(emulator.app))
            crm = Crm(emulator, url)
            made.append(crm)
            return crm

        yield make
        for crm in made:
            for connection in crm.connections:
                connection.close()


@pytest.fixture
def crm(make_crm: Callable[..., Crm]) -> Crm:
    """A system with 6 businesses, 6 persons and 6 invoices, limits off."""
    return make_crm()
