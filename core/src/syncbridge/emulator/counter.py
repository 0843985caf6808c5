"""Counting the requests an emulator receives, so tests can assert how many calls were made.

"The second sync wrote nothing" is checked as ``emulator.requests.count("POST") == 0``. The
count includes requests answered by injected faults and rate limits (the client did send
them); a dropped connection is counted with status None. A request is recorded before its
response leaves, so a test that has its response can already see it counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncbridge.emulator.faults import DropConnection


class Hit(NamedTuple):
    method: str
    path: str
    #: the response status, or None when the connection was dropped without one
    status: int | None


class RequestCounter:
    """Requests received, by method, path and status. Safe to read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: Counter[Hit] = Counter()

    def record(self, method: str, path: str, status: int | None) -> None:
        with self._lock:
            self._hits[Hit(method, path, status)] += 1

    def count(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        *,
        path_prefix: str | None = None,
    ) -> int:
        """Requests matching every filter given (method is case-insensitive)."""
        method = method.upper() if method else None
        with self._lock:
            hits = list(self._hits.items())
        return sum(
            n
            for hit, n in hits
            if (method is None or hit.method == method)
            and (path is None or hit.path == path)
            and (path_prefix is None or hit.path.startswith(path_prefix))
            and (status is None or hit.status == status)
        )

    @property
    def hits(self) -> dict[Hit, int]:
        """Every (method, path, status) seen, with its count (a copy)."""
        with self._lock:
            return dict(self._hits)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def __len__(self) -> int:
        return self.count()


class CountingMiddleware:
    """Records each HTTP request in a :class:`RequestCounter` as its response starts."""

    def __init__(self, app: ASGIApp, counter: RequestCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = str(scope["method"]), str(scope["path"])
        started = False

        async def counting_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                self.counter.record(method, path, int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except DropConnection:
            if not started:
                self.counter.record(method, path, None)
            raise
        except Exception:
            if not started:
                self.counter.record(method, path, 500)
            raise
