"""Stored credentials of one connection (OAuth tokens, realm ids), kept in the state store.

Connectors read and persist through this small interface, never through the database, so
that a refreshed token is saved the moment it arrives and a revoked one is gone everywhere.
"""

from __future__ import annotations

from typing import Any, Protocol


class Credentials(Protocol):
    """The credentials of one connection: a JSON object, possibly empty."""

    def load(self) -> dict[str, Any]:
        """The stored credentials, or ``{}`` when there are none."""
        ...

    def save(self, data: dict[str, Any]) -> None:
        """Replace the stored credentials (e.g. after a token refresh) durably, at once."""
        ...

    def delete(self) -> None:
        """Forget the credentials (disconnect)."""
        ...


class MemoryCredentials:
    """Credentials held in memory: for tests and for connectors that need none."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(data or {})

    def load(self) -> dict[str, Any]:
        return dict(self._data)

    def save(self, data: dict[str, Any]) -> None:
        self._data = dict(data)

    def delete(self) -> None:
        self._data = {}
