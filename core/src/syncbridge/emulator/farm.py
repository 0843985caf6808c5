"""Many accounts of one emulated system behind one port: ``/<account>/...``.

A fleet's tests and benchmarks run hundreds of tenants, each with accounts of its own on
both systems. One server per account would be hundreds of servers; a farm serves
``http://127.0.0.1:PORT/<account>/...`` from that account's own emulator instance, made on
first use by ``make(account)``, so each account has its own data, limits and faults::

    farm = Farm(lambda account: create_app(EmulatorOptions(records=3)))
    with running(farm) as url:
        settings = farm.emulator("acme").settings_for(f"{url}/acme")
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from syncbridge.emulator.base import Emulator

__all__ = ["Farm"]


class Farm:
    """An ASGI app routing each request by its path's first segment to that account's
    emulator (the segment is taken off the path, as a mount would)."""

    def __init__(self, make: Callable[[str], Emulator]) -> None:
        self.make = make
        self.emulators: dict[str, Emulator] = {}
        self._lock = threading.Lock()

    def emulator(self, account: str) -> Emulator:
        """``account``'s emulator, made on first use."""
        with self._lock:
            if account not in self.emulators:
                self.emulators[account] = self.make(account)
            return self.emulators[account]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        _, account, *rest = scope["path"].split("/", 2)
        inner = dict(scope)
        inner["path"] = "/" + (rest[0] if rest else "")
        inner["raw_path"] = inner["path"].encode()
        inner["root_path"] = scope.get("root_path", "") + "/" + account
        await self.emulator(account).app(inner, receive, send)
