"""Opening what a command needs from the config: the state store and the connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from syncbridge import config as config_module
from syncbridge.config import Config, Side
from syncbridge.connection import Connection
from syncbridge.describe import Capability
from syncbridge.errors import ConfigError
from syncbridge.http.ratelimit import Budget
from syncbridge.plugins import load_connector, load_extensions
from syncbridge.state import StateStore


class Workspace:
    """A loaded config with its state store; connections are opened on demand and cached.

    A fleet's worker (:mod:`syncbridge.fleet`) opens a tenant's workspace with the tenant's
    ``store`` (its schema of the shared PostgreSQL store) and ``budgets``, where each
    connection's requests are counted with the other workers'.
    """

    def __init__(
        self,
        config: Config,
        path: Path | None = None,
        *,
        store: StateStore | None = None,
        budgets: Callable[[str], Budget] | None = None,
    ) -> None:
        self.config = config
        self.path = path
        self.store = store or StateStore(
            config.state.url, credentials=config.state.credentials
        )
        self._budgets = budgets
        self._connections: dict[str, Connection] = {}
        # one connection per name, also for callers in several threads
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path | None = None) -> Workspace:
        config = config_module.load(path)
        return cls(config, Path(path) if path else None)

    def connection(self, name: str) -> Connection:
        """Connection ``name``, opened once and shared by whoever asks (threads included)."""
        with self._lock:
            if name not in self._connections:
                self._connections[name] = self._open(name)
            return self._connections[name]

    def _open(self, name: str) -> Connection:
        if name not in self.config.connections:
            known = ", ".join(sorted(self.config.connections)) or "none"
            raise ConfigError(f"no connection named {name!r} (connections: {known})")
        spec = self.config.connections[name]
        return Connection(
            name,
            load_connector(spec.connector),
            spec.settings,
            extensions=load_extensions(spec.extensions),
            credentials=self.store.credentials(name),
            request_log=self.store.request_log(name),
            rate_budget=self.store.rate_budget if self._budgets is None else self._budgets(name),
        )

    def sync_connections(self, sync_name: str) -> dict[Side, Connection]:
        """Both connections of a sync, checked against what the sync asks of them."""
        if sync_name not in self.config.syncs:
            known = ", ".join(sorted(self.config.syncs)) or "none"
            raise ConfigError(f"--sync: no sync named {sync_name!r} (syncs: {known})")
        sync = self.config.syncs[sync_name]
        sides: dict[Side, Connection] = {
            "left": self.connection(sync.left),
            "right": self.connection(sync.right),
        }
        problems = []
        for entity, rule in sync.entities.items():
            where = f"syncs.{sync_name}.entities.{entity}"
            for side, connection in sides.items():
                try:
                    info = connection.info.entity(entity)
                except KeyError as error:
                    problems.append(f"{where}: {error.args[0]}")
                    continue
                if not info.can(Capability.READ):
                    problems.append(f"{where}: {connection.name} cannot read {entity}")
                writes_here = rule.allows("right" if side == "left" else "left")
                if (
                    writes_here
                    and (rule.creates(entity) or rule.updates(entity))
                    and not info.can(Capability.CREATE)
                    and not info.can(Capability.UPDATE)
                ):
                    problems.append(
                        f"{where}: direction {rule.direction} writes to {connection.name}, "
                        f"which cannot write {entity} (it is read-only there)"
                    )
        if problems:
            raise ConfigError("\n".join(problems))
        return sides

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
