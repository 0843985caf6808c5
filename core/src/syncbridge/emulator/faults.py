"""Fault injection: ASGI middleware that makes an emulator misbehave as networks and APIs do.

It reads the emulator's live :class:`~syncbridge.emulator.options.FaultOptions` on every
request (so a test can set ``emulator.faults.error_rate = 1.0`` mid-run) and applies, in order:
latency, the 429 burst, random 500s, dropped connections; the module docstring of
:mod:`syncbridge.emulator.options` defines each one. Random draws come from a generator seeded
with the emulator's seed, so a failing run can be replayed.

A dropped connection must look like one to the client (``httpx.RemoteProtocolError`` or
``ReadError``), not like a 500. ASGI has no message for "close without answering", so the
middleware raises :class:`DropConnection` and the emulator server
(:mod:`syncbridge.emulator.server`) aborts the transport when it sees it. Under any other ASGI
server the exception surfaces as that server's own error handling (typically a 500).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncbridge.emulator.options import FaultOptions

#: renders the emulator's error body for a status and message
ErrorRenderer = Callable[[int, str], Response]


class DropConnection(Exception):
    """Raised inside an ASGI app to have the emulator server close the connection unanswered."""


async def _discard(message: Message) -> None:
    """A ``send`` that loses the response (the app believes it answered)."""


class FaultInjector:
    """The fault-injecting middleware.

    :param faults: the live fault settings (the emulator's ``.faults``).
    :param seed: seeds the generator behind ``error_rate`` and ``drop_rate``.
    :param error: builds the system's error response (429, 500) for a status and message.
    """

    def __init__(
        self, app: ASGIApp, faults: FaultOptions, *, seed: int, error: ErrorRenderer
    ) -> None:
        self.app = app
        self.faults = faults
        self.error = error
        self.rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        faults = self.faults
        if faults.latency_ms > 0:
            await asyncio.sleep(faults.latency_ms / 1000)
        if self._take_429():
            response = self.error(429, "Too Many Requests")
            response.headers["Retry-After"] = "1"
            await response(scope, receive, send)
            return
        if self._draw(faults.error_rate):
            await self.error(500, "Internal Server Error")(scope, receive, send)
            return
        if self._draw(faults.drop_rate):
            if faults.drop_mode == "after":
                await self.app(scope, receive, _discard)
            raise DropConnection(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)

    def _take_429(self) -> bool:
        with self._lock:
            if self.faults.burst_429 <= 0:
                return False
            self.faults.burst_429 -= 1
            return True

    def _draw(self, probability: float) -> bool:
        if probability <= 0:
            return False
        with self._lock:
            return self.rng.random() < probability
