"""The emulated system's own rate limits, enforced as the real API enforces them.

A connector's client-side limiter is only proven by an emulator that refuses what the real
system refuses. Limits are declared with the same :class:`~syncbridge.describe.RateLimit` a
connector publishes (so both can share one constant), counted per key (the account: token,
API key, company) in sliding windows, and a refused request gets the system's own 429 with a
``Retry-After``. ``EmulatorOptions(rate_limits=False)`` turns them off for fast tests.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from syncbridge.describe import RateLimit


class RateLimiter:
    """Sliding-window counters: at most ``requests`` per ``seconds`` for each limit and key.

    Refused requests do not count against the window (they did not reach the system).
    """

    def __init__(
        self,
        limits: Sequence[RateLimit],
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = tuple(limits)
        self.enabled = enabled
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, int], deque[float]] = {}

    def acquire(self, key: str | None = "") -> float | None:
        """Count one request for ``key``: None if allowed, else the seconds until it would be.
        A key of None is outside the limits: allowed, and not counted."""
        if not self.enabled or not self.limits or key is None:
            return None
        with self._lock:
            now = self._clock()
            wait = 0.0
            windows = []
            for index, limit in enumerate(self.limits):
                window = self._windows.setdefault((key, index), deque())
                while window and window[0] <= now - limit.seconds:
                    window.popleft()
                if len(window) >= limit.requests:
                    wait = max(wait, window[0] + limit.seconds - now)
                windows.append(window)
            if wait > 0:
                return wait
            for window in windows:
                window.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


class RateLimitMiddleware:
    """Answers requests over the limit with ``on_limited(request, retry_after)``.

    :param key: the account a request is counted against.
    :param on_limited: the system's 429 response; a ``Retry-After`` header (whole seconds,
        rounded up) is added when it sets none.
    """

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        *,
        key: Callable[[Request], str | None],
        on_limited: Callable[[Request, float], Response],
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.key = key
        self.on_limited = on_limited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.enabled:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        wait = self.limiter.acquire(self.key(request))
        if wait is None:
            await self.app(scope, receive, send)
            return
        response = self.on_limited(request, wait)
        if "retry-after" not in response.headers:
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        await response(scope, receive, send)
