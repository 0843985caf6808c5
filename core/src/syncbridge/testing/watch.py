"""Watching what crosses a connector's boundary, for tests of what it must never carry.

A connector's native records hold only what the system holds (no ``_``-prefixed keys of the
connector's own): facts ``map`` needs travel as the record's context. These helpers let a
plugin's tests prove it on everything that crossed: the request bodies its emulator
received (:class:`Received`, an ASGI wrapper), and every native record and context that
passed the connection's ``fetch`` and ``upsert`` (:class:`Watched`); :func:`private_keys`
names any such key at any depth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from syncbridge.connection import Connection
from syncbridge.records import Page, UpsertItem, UpsertResult


class Received:
    """An emulator's ASGI app behind a recorder of every request body it receives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        #: (method, path, body) of every HTTP request, in order
        self.bodies: list[tuple[str, str, bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
        self.bodies.append((scope["method"], scope["path"], body))
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def json_bodies(self) -> list[tuple[str, Any]]:
        """(path, JSON) of every request that sent JSON (a query sent as text is not)."""
        return [
            (path, json.loads(body))
            for _method, path, body in self.bodies
            if body.lstrip()[:1] in (b"{", b"[")
        ]


def private_keys(value: Any, where: str = "") -> list[str]:
    """Where ``value`` holds a ``_``-prefixed key, at any depth (``a.b[2]._x``)."""
    if isinstance(value, dict):
        found: list[str] = []
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if str(key).startswith("_"):
                found.append(path)
            found += private_keys(item, path)
        return found
    if isinstance(value, list):
        return [p for n, item in enumerate(value) for p in private_keys(item, f"{where}[{n}]")]
    return []


class Watched:
    """Every native record crossing a connection's hooks, with the contexts beside them."""

    def __init__(self, connection: Connection) -> None:
        self.natives: list[dict[str, Any]] = []
        #: fetch's contexts by "<entity> <native id>", and by native id alone
        self.read: dict[str, dict[str, Any]] = {}
        self.contexts: dict[str, dict[str, Any]] = {}
        #: (entity, native, context) of every item handed to upsert
        self.sent: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.returned: list[UpsertResult] = []
        fetch, upsert = connection.fetch, connection.upsert

        def watched_fetch(entity: str, *args: Any, **kwargs: Any) -> Iterator[Page]:
            for page in fetch(entity, *args, **kwargs):
                self.natives += page.records
                self.read.update({f"{entity} {k}": v for k, v in page.context.items()})
                self.contexts.update(page.context)
                yield page

        def watched_upsert(entity: str, items: list[UpsertItem]) -> list[UpsertResult]:
            self.natives += [item.record for item in items]
            self.sent += [(entity, item.record, item.context) for item in items]
            results = upsert(entity, items)
            self.returned += results
            self.natives += [result.record for result in results if result.record is not None]
            return results

        connection.fetch = watched_fetch  # type: ignore[method-assign]
        connection.upsert = watched_upsert  # type: ignore[method-assign]
