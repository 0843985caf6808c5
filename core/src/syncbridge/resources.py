"""The ``client`` every hook receives: the connection's settings and its resources.

A connector that speaks HTTP (``ConnectorInfo.uses_http``, the default) is given a
:class:`syncbridge.http.Client`: an httpx client set up for the connection. One that does not
(``uses_http=False``: a database) is given a :class:`ResourceHolder` instead, and no HTTP
client is built for it. Both are a :class:`HookClient`, the type the hook specs name: the
connection's name, its validated ``settings``, and ``resource(key, factory)``, a cache of
per-connection objects (a database engine, a category cache) made once and closed with the
connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from syncbridge.settings import ConnectorSettings

T = TypeVar("T")

_MISSING = object()


class HookClient(Protocol):
    """What every hook's ``client`` offers, whether the connector speaks HTTP or not."""

    @property
    def connection(self) -> str:
        """The connection's name in the config."""

    @property
    def settings(self) -> ConnectorSettings:
        """The connection's validated settings (the connector's settings model)."""

    def resource(self, key: str, factory: Callable[[], T]) -> T:
        """The object kept under ``key`` for this connection, made by ``factory`` on first
        use (once, whichever thread asks first) and closed with the connection (its
        ``dispose()`` or ``close()``)."""

    def close(self) -> None:
        """Close the connection's resources (the connection does, when it closes)."""


class ResourceHolder:
    """The ``client`` of a connector that does not speak HTTP: settings and resources only.

    ``sql`` keeps its database here: ``client.resource("sql.database", lambda:
    Database(client.settings))``.
    """

    def __init__(self, *, connection: str, settings: ConnectorSettings) -> None:
        self.connection = connection
        self.settings = settings
        self._resources: dict[str, Any] = {}
        # reentrant: a factory may ask for another resource of the same connection
        self._lock = threading.RLock()

    def resource(self, key: str, factory: Callable[[], T]) -> T:
        """The resource stored under ``key``, made by ``factory`` on first use (once, even
        when several threads ask for it first at the same moment)."""
        found = self._resources.get(key, _MISSING)
        if found is _MISSING:
            with self._lock:
                found = self._resources.get(key, _MISSING)
                if found is _MISSING:
                    found = self._resources[key] = factory()
        return found  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close every resource (``dispose()`` or ``close()``, when it has one) and forget
        it: the next ``resource`` call makes a new one."""
        with self._lock:
            resources, self._resources = self._resources, {}
        for resource in resources.values():
            closer = getattr(resource, "dispose", None) or getattr(resource, "close", None)
            if callable(closer):
                closer()

    def __repr__(self) -> str:
        return f"<ResourceHolder {self.connection!r}>"
