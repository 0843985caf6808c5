"""Runtime helpers of the Dinero tests (the fixtures are in conftest): serving the emulator
with a recorder of its exchanges, and the constants tests share. A module of its own, with a
name no other plugin uses, because test modules import it (``conftest`` is not importable by
name when several plugins' tests run together)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from dinero_spec import Exchange
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import syncbridge_dinero.connector as dinero_connector
from syncbridge.connection import Connection
from syncbridge.emulator import EmulatorOptions
from syncbridge.http import LoggedRequest
from syncbridge_dinero.emulator import ORGANIZATION_ID, DineroEmulator

ORG = ORGANIZATION_ID


class Recorder:
    """ASGI middleware keeping every request/response pair that passes through it."""

    def __init__(self, app: ASGIApp, exchanges: list[Exchange] | None = None) -> None:
        self.app = app
        self.exchanges: list[Exchange] = [] if exchanges is None else exchanges
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = Exchange(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode(),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            body=b"",
        )
        with self._lock:
            self.exchanges.append(exchange)

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                exchange.body += message.get("body", b"")
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = int(message["status"])
                exchange.response_headers = [
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]
                ]
            elif message["type"] == "http.response.body":
                exchange.response_body += message.get("body", b"")
            await send(message)

        await self.app(scope, recording_receive, recording_send)


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
