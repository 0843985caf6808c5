"""Recording what an emulator was asked and what it answered, to check both against a spec.

:class:`Recorder` is ASGI middleware: wrapped around an emulator's app (or added with
``starlette.add_middleware``), it keeps every request and response as an :class:`Exchange`.
Plugins whose API publishes an OpenAPI document validate the exchanges of their tests with it:
an emulator that answers what the spec forbids, or accepts a request the spec forbids, is a
bug the tests then catch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Exchange", "Recorder", "fail_off_spec"]


@dataclass
class Exchange:
    """One request and the response to it, as they crossed the wire."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""


class Recorder:
    """ASGI middleware keeping every request/response pair that passes through it.

    :param exchanges: the list to keep them in (default: a list of its own), so that the
        emulators a test kit builds itself can record into one the test holds.
    """

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
        # kept before the app runs: each part of the response is recorded before it is
        # forwarded, so a test holding a response always finds its exchange complete
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


def fail_off_spec(
    exchanges: Iterable[Exchange], violations: Callable[[Exchange], list[str]] | None
) -> None:
    """Fail the test (listing the first twenty) when ``violations`` (a spec validator's) finds
    any in ``exchanges``; nothing to check without a validator (the spec file is absent)."""
    if violations is None:
        return
    found = [violation for exchange in exchanges for violation in violations(exchange)]
    if found:
        shown = "\n".join(found[:20])
        pytest.fail(f"{len(found)} exchange(s) violate the OpenAPI spec:\n{shown}")
