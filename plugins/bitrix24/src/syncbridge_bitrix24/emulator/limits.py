"""The portal's two limits (``limits.md``), as the emulator enforces them.

- The **leaky bucket**: every request adds one to a counter per portal and caller address,
  the counter drains at a steady rate, and a request that would take it above the capacity is
  refused with 503 ``QUERY_LIMIT_EXCEEDED`` (and not counted). The core emulator's limiter
  counts sliding windows, which cannot express "50 at once, then 2 a second", hence this.
- The **operating budget**: the execution time of each method, per webhook or app, summed in
  one-minute baskets over the last ten minutes; once it passes the limit, calls of that
  method are refused with 429 ``OPERATION_TIME_LIMIT`` until the oldest basket expires.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class LeakyBucket:
    """A request counter per key: +1 per admitted request, ``drain`` per second, at most
    ``capacity``.

    :param enabled: False admits everything (fast tests); can be switched at runtime.
    :param clock: seconds, read once per request; replaceable at runtime, so a test can make
        the bucket drain by a fixed amount per request instead of by how fast the machine
        happens to send them.
    """

    def __init__(
        self,
        capacity: float = 50,
        drain: float = 2.0,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.drain = drain
        self.enabled = enabled
        self.clock = clock
        self._lock = threading.Lock()
        self._levels: dict[str, tuple[float, float]] = {}
        #: requests refused so far, for tests ("the connector never hit the limit")
        self.refused = 0

    def _level(self, key: str, now: float) -> float:
        level, at = self._levels.get(key, (0.0, now))
        return max(0.0, level - (now - at) * self.drain)

    def admit(self, key: str) -> bool:
        """Count one request for ``key``; False (and not counted) if it would overflow."""
        if not self.enabled:
            return True
        with self._lock:
            now = self.clock()
            level = self._level(key, now)
            if level + 1 > self.capacity:
                self._levels[key] = (level, now)
                self.refused += 1
                return False
            self._levels[key] = (level + 1, now)
            return True

    def level(self, key: str) -> float:
        with self._lock:
            return self._level(key, self.clock())

    def reset(self) -> None:
        with self._lock:
            self._levels.clear()
            self.refused = 0


class OperatingBudget:
    """Seconds of execution per key (webhook or app + method) over a sliding ten minutes."""

    BASKET = 60.0
    BASKETS = 10

    def __init__(
        self,
        limit: float = 480.0,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.enabled = enabled
        self._clock = clock
        self._lock = threading.Lock()
        self._baskets: dict[str, dict[int, float]] = {}

    def _live(self, key: str, now: float) -> dict[int, float]:
        current = int(now // self.BASKET)
        baskets = self._baskets.setdefault(key, {})
        for basket in [b for b in baskets if b <= current - self.BASKETS]:
            del baskets[basket]
        return baskets

    def used(self, key: str) -> float:
        with self._lock:
            return sum(self._live(key, self._clock()).values())

    def reset_at(self, key: str) -> float:
        """When the oldest basket still counted expires (Unix time)."""
        with self._lock:
            now = self._clock()
            baskets = self._live(key, now)
            oldest = min(baskets) if baskets else int(now // self.BASKET)
            return (oldest + self.BASKETS) * self.BASKET

    def exhausted(self, key: str) -> bool:
        return self.enabled and self.used(key) > self.limit

    def spend(self, key: str, seconds: float) -> None:
        with self._lock:
            now = self._clock()
            baskets = self._live(key, now)
            basket = int(now // self.BASKET)
            baskets[basket] = baskets.get(basket, 0.0) + seconds

    def reset(self) -> None:
        with self._lock:
            self._baskets.clear()
