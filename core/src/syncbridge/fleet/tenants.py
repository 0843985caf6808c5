"""Tenants: one customer account each, with its own connections, syncs, secrets and state.

A tenant is a file ``<tenants dir>/<id>.toml``, an ordinary ``syncbridge.toml`` less its
``[state]`` (the fleet's store holds every tenant). Its state lives in the PostgreSQL
schema ``<fleet name>_tenant_<id>``: the same tables a single-machine store has, so the engine runs
unchanged, and no statement of one tenant's run can touch another's rows. A schema per
tenant rather than a tenant column on every row, because

- isolation is by construction: a connection of a tenant's store has only that schema on its
  search path (set by the server when it connects), so even hand-written SQL in the hot
  paths cannot cross tenants, where a forgotten ``WHERE tenant = ...`` would;
- a tenant is removed with ``DROP SCHEMA``, backed up or moved with ``pg_dump -n``;
- the indexes of one tenant stay as small as that tenant's data.

What it costs: a dozen tables per tenant in the catalog (PostgreSQL handles tens of
thousands), and a schema migration per tenant, run the first time a process opens it.

``${VAR}`` in a tenant's config reads ``<secrets_dir>/<id>/VAR`` first (a mounted secret),
then the environment: a tenant's credentials are never in its file, nor in a task's
message (a task names a tenant, a sync and an entity; the worker reads the rest here).
"""

from __future__ import annotations

import os
import re
import threading
import tomllib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from syncbridge.config import Config
from syncbridge.config import loader as config_loader
from syncbridge.errors import ConfigError
from syncbridge.fleet.config import FleetConfig
from syncbridge.http.ratelimit import RedisBudget
from syncbridge.state import StateStore
from syncbridge.workspace import Workspace

#: a tenant id: it names a file and a schema (at most 63 characters with the fleet's name),
#: so 1 to 40 lower-case letters, digits and underscores
TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")


def check_tenant_id(tenant: str) -> str:
    if not TENANT_ID.match(tenant):
        raise ConfigError(
            f"tenant {tenant!r}: a tenant id is 1 to 40 lower-case letters, digits and "
            "underscores, starting with a letter or digit (it names a file and a schema)"
        )
    return tenant


@dataclass(frozen=True)
class TenantFile:
    tenant: str
    path: Path
    mtime_ns: int


class Tenants:
    """The fleet's tenants as its directory has them now."""

    def __init__(self, fleet: FleetConfig) -> None:
        self.fleet = fleet

    def files(self) -> dict[str, TenantFile]:
        """Every ``<id>.toml`` of the directory, by tenant id (other files are ignored)."""
        folder = self.fleet.tenants.dir
        if not folder.is_dir():
            raise ConfigError(
                f"tenants.dir: {folder} is not a directory; create it and put a "
                "<tenant>.toml in it for each tenant"
            )
        found = {}
        for path in sorted(folder.glob("*.toml")):
            if TENANT_ID.match(path.stem):
                found[path.stem] = TenantFile(path.stem, path, path.stat().st_mtime_ns)
        return found

    def file(self, tenant: str) -> TenantFile:
        check_tenant_id(tenant)
        path = self.fleet.tenants.dir / f"{tenant}.toml"
        try:
            return TenantFile(tenant, path, path.stat().st_mtime_ns)
        except FileNotFoundError:
            raise UnknownTenant(tenant) from None

    def env(self, tenant: str) -> dict[str, str]:
        """The variables ``${VAR}`` of ``tenant``'s config reads: its secrets, then the
        environment."""
        env = dict(os.environ)
        folder = self.fleet.tenants.secrets_dir
        if folder is not None and (folder / tenant).is_dir():
            for secret in (folder / tenant).iterdir():
                if secret.is_file():
                    env[secret.name] = secret.read_text(encoding="utf-8").strip()
        return env

    def config(self, tenant: str) -> Config:
        """``tenant``'s config, validated; errors name its file."""
        source = self.file(tenant).path
        text = source.read_text(encoding="utf-8")
        try:
            config = config_loader.parse(text, env=self.env(tenant), source=str(source))
        except ConfigError as error:
            raise ConfigError(f"tenant {tenant} ({source.name}): {error}") from None
        if "state" in tomllib.loads(text):
            raise ConfigError(
                f"tenant {tenant} ({source.name}): [state] belongs in the fleet's config; "
                "a tenant's state is kept in the fleet's store"
            )
        return config

    def schema(self, tenant: str) -> str:
        """The PostgreSQL schema of ``tenant``'s state."""
        return self.fleet.tenant_schema(check_tenant_id(tenant))

    def store(self, tenant: str) -> StateStore:
        return StateStore(
            self.fleet.state.url, credentials=self.fleet.state.credentials,
            schema=self.schema(tenant),
        )

    def workspace(self, tenant: str) -> Workspace:
        """``tenant``'s workspace: its config, its schema of the store, and budgets shared
        with every worker (``<fleet>:<tenant>:<connection>`` in Redis)."""
        config = self.config(tenant)
        url = self.fleet.budget_url
        share = self.fleet.budgets.bulk_share
        name = self.fleet.name

        def budget(connection: str) -> RedisBudget | None:
            if url is None:
                return None
            return RedisBudget(url, f"{name}:{tenant}:{connection}", share)

        return Workspace(config, store=self.store(tenant), budgets=budget)


class UnknownTenant(ConfigError):
    """No such tenant in the fleet's directory."""

    def __init__(self, tenant: str) -> None:
        super().__init__(f"no tenant {tenant!r} in the fleet (no {tenant}.toml)")
        self.tenant = tenant


class WorkspaceCache:
    """The workspaces of the tenants a process ran lately, reopened when a file changes.

    A worker runs many tenants; keeping each one's workspace open keeps its connections'
    HTTP pools, OAuth tokens and state-store pool warm. ``size`` bounds what stays open, so
    a thousand tenants do not hold a thousand database connections.
    """

    def __init__(self, tenants: Tenants, size: int = 16) -> None:
        self.tenants, self.size = tenants, size
        self._open: OrderedDict[str, tuple[int, Workspace]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tenant: str) -> Workspace:
        stamp = self.tenants.file(tenant).mtime_ns
        with self._lock:
            held = self._open.pop(tenant, None)
            if held is not None and held[0] == stamp:
                self._open[tenant] = held
                return held[1]
        if held is not None:
            held[1].close()
        workspace = self.tenants.workspace(tenant)
        with self._lock:
            self._open[tenant] = (stamp, workspace)
            evicted = []
            while len(self._open) > self.size:
                evicted.append(self._open.popitem(last=False)[1][1])
        for old in evicted:
            old.close()
        return workspace

    def close(self) -> None:
        with self._lock:
            held = list(self._open.values())
            self._open.clear()
        for _stamp, workspace in held:
            workspace.close()
