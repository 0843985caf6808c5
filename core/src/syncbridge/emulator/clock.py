"""The store's clock: timezone-aware UTC, strictly increasing across writes.

Incremental reads ask for "records changed since T". If two writes could share a timestamp, a
client that saw one of them and resumed from T would be ambiguous about the other; a clock that
never repeats makes "since T" exact. Seeding runs on a scripted clock instead of the wall clock,
so that ``--records K --seed S`` gives the same timestamps every time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

#: where seeded data starts: fixed, in the past, so live writes always come after it
SEED_EPOCH = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)


class Clock:
    """Hands out UTC instants, each later than the previous one by at least ``resolution``.

    :param resolution: the smallest step. Keep the default (1 µs) unless the emulated system
        shows timestamps at a coarser precision and the emulator must never show two writes
        with the same rendered time (then pass e.g. one second; the clock then runs ahead of
        the wall clock under bursts of writes, as such a system would need to).
    """

    def __init__(self, resolution: timedelta = timedelta(microseconds=1)) -> None:
        if resolution <= timedelta(0):
            raise ValueError("the clock resolution must be positive")
        self.resolution = resolution
        self._lock = threading.Lock()
        self._last: datetime | None = None
        self._script: tuple[datetime, timedelta] | None = None

    def now(self) -> datetime:
        """The next instant: the wall clock (or the script), but always after the last one."""
        with self._lock:
            if self._script is not None:
                candidate, step = self._script
                self._script = (candidate + step, step)
            else:
                candidate = self._truncate(datetime.now(UTC))
            if self._last is not None and candidate <= self._last:
                candidate = self._last + self.resolution
            self._last = candidate
            return candidate

    @property
    def last(self) -> datetime | None:
        """The instant handed out last, or None before the first write."""
        return self._last

    @contextmanager
    def scripted(
        self, start: datetime = SEED_EPOCH, step: timedelta = timedelta(seconds=1)
    ) -> Iterator[None]:
        """Within the block, instants are ``start``, ``start + step``, ...: deterministic data."""
        if start.tzinfo is None:
            raise ValueError("the scripted start must be timezone-aware")
        with self._lock:
            previous, self._script = self._script, (start, step)
        try:
            yield
        finally:
            with self._lock:
                self._script = previous

    def _truncate(self, instant: datetime) -> datetime:
        if self.resolution == timedelta(microseconds=1):
            return instant
        ticks = (instant - SEED_EPOCH) // self.resolution
        return SEED_EPOCH + ticks * self.resolution
