"""Runtime helpers of the Dinero tests (the fixtures are in conftest): serving the emulator
with a recorder of its exchanges, and the constants tests share. A module of its own, with a
name no other plugin uses, because test modules import it (``conftest`` is not importable by
name when several plugins' tests run together)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

import syncbridge_dinero.connector as dinero_connector
from syncbridge.connection import Connection
from syncbridge.emulator import EmulatorOptions
from syncbridge.http import LoggedRequest
from syncbridge.testing.exchanges import Exchange, Recorder
from syncbridge_dinero.emulator import ORGANIZATION_ID, DineroEmulator

ORG = ORGANIZATION_ID


@dataclass
class Served:
    """An emulator on 127.0.0.1 and what a test needs to talk to it."""

    emulator: DineroEmulator
    base_url: str
    recorder: Recorder
    log: list[LoggedRequest] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)

    @property
    def settings(self) -> dict[str, Any]:
        return self.emulator.settings_for(self.base_url)

    def connect(self, **overrides: Any) -> Connection:
        connection = Connection(
            "dinero", dinero_connector, {**self.settings, **overrides},
            request_log=self.log.append,
        )
        self.connections.append(connection)
        return connection

    def client(self) -> httpx.Client:
        """A plain HTTP client with a valid bearer token (raw API checks)."""
        token = self.emulator.issue_token()
        return httpx.Client(base_url=self.base_url,
                            headers={"Authorization": f"Bearer {token}"})

    def statuses(self, status: int) -> list[Exchange]:
        return [e for e in self.recorder.exchanges if e.status == status]


Serve = Callable[..., Served]


#: exchanges of emulators built by :func:`recorded` (the contract kit and the fault check
#: serve the emulators they build themselves)
RECORDED: list[Exchange] = []


def recorded(**kwargs: Any) -> Callable[[EmulatorOptions], DineroEmulator]:
    """An emulator factory whose emulators record what they answer, inside their fault
    injection (what the emulator said, not what a fault made of it), into :data:`RECORDED`;
    use it with the :func:`on_the_spec` fixture."""

    def factory(options: EmulatorOptions) -> DineroEmulator:
        emulator = DineroEmulator(options, **kwargs)
        emulator.starlette.add_middleware(Recorder, exchanges=RECORDED)
        return emulator

    return factory
