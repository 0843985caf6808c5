"""Fault injection: ASGI middleware that makes an emulator misbehave as networks and APIs do.

It reads the emulator's live :class:`~syncbridge.emulator.options.FaultOptions` on every
request (so a test can set ``emulator.faults.error_rate = 1.0`` mid-run) and applies, in order:
latency, the 429 burst, random 500s, dropped connections, corrupted answers; the module
docstring of :mod:`syncbridge.emulator.options` defines each one. Every fault served is
counted in an :class:`InjectedFaults` (the emulator's ``.injected``), so a test can say what
its connector met.

Random draws are reproducible from the emulator's seed without depending on the order in
which concurrent requests arrive: each request draws from a generator seeded with the seed,
the request's fingerprint (method, path, query, a digest of the body) and the number of times
the same request was received before. A request sent again draws afresh.

A dropped connection must look like one to the client (``httpx.RemoteProtocolError`` or
``ReadError``), not like a 500. ASGI has no message for "close without answering", so the
middleware raises :class:`DropConnection` and the emulator server
(:mod:`syncbridge.emulator.server`) aborts the transport when it sees it. Under any other ASGI
server the exception surfaces as that server's own error handling (typically a 500).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Literal, NamedTuple

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncbridge.emulator.options import CorruptKind, FaultOptions

__all__ = [
    "HTML_200_PAGE",
    "HTML_502_PAGE",
    "DropConnection",
    "ErrorRenderer",
    "FaultInjector",
    "FaultKind",
    "InjectedFault",
    "InjectedFaults",
]

#: renders the emulator's error body for a status and message
ErrorRenderer = Callable[[int, str], Response]

#: what :class:`InjectedFaults` counts: a status answered in the API's place, a dropped
#: connection, or a corrupted answer's kind
FaultKind = Literal["429", "500", "drop", "truncated", "html_502", "html_200"]

#: what a reverse proxy answers when the application behind it failed
HTML_502_PAGE = (
    "<!DOCTYPE html>\n<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n"
    "<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n"
)
#: what a maintenance page or a captive portal answers, with status 200
HTML_200_PAGE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
    "<title>We'll be back soon</title></head>\n<body>\n<h1>We&rsquo;ll be back soon</h1>\n"
    "<p>The service is down for scheduled maintenance. Please try again later.</p>\n"
    "</body>\n</html>\n"
)


class DropConnection(Exception):
    """Raised inside an ASGI app to have the emulator server close the connection unanswered."""


class InjectedFault(NamedTuple):
    kind: FaultKind
    method: str
    path: str


class InjectedFaults:
    """The faults an emulator served, by kind, method and path. Safe to read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: Counter[InjectedFault] = Counter()

    def record(self, kind: FaultKind, method: str, path: str) -> None:
        with self._lock:
            self._faults[InjectedFault(kind, method, path)] += 1

    def count(self, kind: FaultKind | None = None, method: str | None = None) -> int:
        """Faults served matching the filters given (method is case-insensitive)."""
        method = method.upper() if method else None
        with self._lock:
            faults = list(self._faults.items())
        return sum(
            n
            for fault, n in faults
            if (kind is None or fault.kind == kind) and (method is None or fault.method == method)
        )

    def by_kind(self) -> dict[FaultKind, int]:
        """How many of each kind were served (kinds never served are left out)."""
        counts: Counter[FaultKind] = Counter()
        with self._lock:
            for fault, n in self._faults.items():
                counts[fault.kind] += n
        return dict(counts)

    def summary(self) -> str:
        """``12 x 500, 9 x drop, 3 x html_200``, or ``none``."""
        counts = self.by_kind()
        return ", ".join(f"{n} x {kind}" for kind, n in sorted(counts.items())) or "none"

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        return self.count()


async def _discard(message: Message) -> None:
    """A ``send`` that loses the response (the app believes it answered)."""


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The request's whole body, and a ``receive`` that hands it to the app again."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client left: let the app see that
            first: Message | None = message
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            first = None
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return first or {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


class FaultInjector:
    """The fault-injecting middleware.

    :param faults: the live fault settings (the emulator's ``.faults``).
    :param seed: seeds the draws behind ``error_rate``, ``drop_rate`` and ``corrupt_rate``.
    :param error: builds the system's error response (429, 500) for a status and message.
    :param injected: where the faults served are counted (default: a fresh one).
    """

    def __init__(
        self,
        app: ASGIApp,
        faults: FaultOptions,
        *,
        seed: int,
        error: ErrorRenderer,
        injected: InjectedFaults | None = None,
    ) -> None:
        self.app = app
        self.faults = faults
        self.error = error
        self.seed = seed
        self.injected = injected if injected is not None else InjectedFaults()
        self._seen: Counter[bytes] = Counter()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        faults = self.faults
        method, path = str(scope["method"]), str(scope["path"])
        if faults.latency_ms > 0:
            await asyncio.sleep(faults.latency_ms / 1000)
        if self._take_429():
            self.injected.record("429", method, path)
            response = self.error(429, "Too Many Requests")
            response.headers["Retry-After"] = _seconds(faults.retry_after)
            await response(scope, receive, send)
            return
        if faults.error_rate <= 0 and faults.drop_rate <= 0 and faults.corrupt_rate <= 0:
            await self.app(scope, receive, send)
            return
        body, receive = await _buffered(receive)
        draws = self._draws(scope, body)
        # every draw is taken, whichever fault applies, so one rate does not shift the others
        error, drop, corrupt = draws.random(), draws.random(), draws.random()
        kind: CorruptKind = draws.choice(faults.corrupt_kinds)
        if error < faults.error_rate:
            self.injected.record("500", method, path)
            await self.error(500, "Internal Server Error")(scope, receive, send)
            return
        if drop < faults.drop_rate:
            self.injected.record("drop", method, path)
            if faults.drop_mode == "after":
                await self.app(scope, receive, _discard)
            raise DropConnection(f"{method} {path}")
        if corrupt < faults.corrupt_rate:
            self.injected.record(kind, method, path)
            await self._corrupted(kind, scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _corrupted(
        self, kind: CorruptKind, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Let the API handle the request, then send a corrupted answer in place of its own."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if kind == "html_502":
            await Response(HTML_502_PAGE, 502, media_type="text/html")(scope, receive, send)
            return
        if kind == "html_200":
            await Response(HTML_200_PAGE, 200, media_type="text/html")(scope, receive, send)
            return
        body = b"".join(chunks)
        cut = body[: len(body) // 2] if len(body) > 1 else b"{"
        status = int(start["status"]) if start is not None else 200
        headers = [
            (name, value)
            for name, value in (start.get("headers", []) if start is not None else [])
            if name.lower() != b"content-length"
        ]
        headers.append((b"content-length", str(len(cut)).encode("ascii")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": cut, "more_body": False})

    def _draws(self, scope: Scope, body: bytes) -> random.Random:
        """The generator of one request's draws (see the module docstring)."""
        digest = hashlib.blake2b(digest_size=16)
        for part in (
            str(scope["method"]).encode(),
            str(scope["path"]).encode(),
            bytes(scope.get("query_string", b"")),
            body,
        ):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        fingerprint = digest.digest()
        with self._lock:
            seen = self._seen[fingerprint]
            self._seen[fingerprint] = seen + 1
        return random.Random(f"faults:{self.seed}:{fingerprint.hex()}:{seen}")

    def _take_429(self) -> bool:
        with self._lock:
            if self.faults.burst_429 <= 0:
                return False
            if self.faults.burst_429_after > 0:
                self.faults.burst_429_after -= 1
                return False
            self.faults.burst_429 -= 1
            return True


def _seconds(value: float) -> str:
    """A ``Retry-After`` value: whole seconds as an integer, else a decimal."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
