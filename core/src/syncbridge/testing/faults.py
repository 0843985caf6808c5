"""Arming an emulator's own faults for exactly the next request(s).

The emulator's fault options are rates and countdowns (:mod:`syncbridge.emulator.options`):
``burst_429`` already means "the next N requests", but a 500 or a dropped connection only
exists as a probability. The contract suite needs "the next request fails, the retry
succeeds", so this middleware sits in front of the emulator and, for each armed request, sets
the emulator's live fault options (``error_rate=1``, ``drop_rate=1``...) for the duration of
that one request and puts them back afterwards. The failure itself is still the emulator's:
its 500 carries the system's error body, its dropped connection is a real aborted socket.

Requests are taken in arrival order, so arm only while one request is in flight at a time
(the suite's connections send requests one after another).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from starlette.types import Receive, Scope, Send

from syncbridge.emulator import Emulator, FaultOptions

__all__ = ["OneShotFaults"]


class OneShotFaults:
    """ASGI app serving ``emulator``, with faults that apply to single upcoming requests."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._armed: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()

    def arm(self, **faults: Any) -> None:
        """Apply ``faults`` (``FaultOptions`` fields) to the next request not yet armed."""
        unknown = set(faults) - set(FaultOptions.model_fields)
        if unknown:
            raise TypeError(f"not fault options: {', '.join(sorted(unknown))}")
        with self._lock:
            self._armed.append(faults)

    @property
    def pending(self) -> int:
        """Armed faults that no request has taken yet."""
        with self._lock:
            return len(self._armed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults: dict[str, Any] | None = None
        if scope["type"] == "http":
            with self._lock:
                faults = self._armed.popleft() if self._armed else None
        if not faults:
            await self.emulator.app(scope, receive, send)
            return
        live = self.emulator.faults
        saved = {name: getattr(live, name) for name in faults}
        for name, value in faults.items():
            setattr(live, name, value)
        try:
            await self.emulator.app(scope, receive, send)
        finally:
            for name, value in saved.items():
                setattr(live, name, value)
