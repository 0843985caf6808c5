"""A fleet on one machine for tests: many tenants' emulators behind one port (a
:class:`~syncbridge.emulator.farm.Farm` per system), their configs and secrets,
``fleet.toml``, and the fleet's processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from syncbridge.emulator import Emulator, EmulatorOptions
from syncbridge.emulator.config import toml_value
from syncbridge.emulator.farm import Farm
from syncbridge.emulator.server import running

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"


@dataclass
class Fleet:
    """A fleet's files, its tenants and its processes."""

    folder: Path
    prefix: str
    tenants: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.folder / "fleet.toml"

    def write(self, *, requeue_after: float = 3.0, tick: float = 0.2, extra: str = "") -> None:
        """fleet.toml: this test's queues, tenants and secrets; ``extra`` TOML appended."""
        (self.folder / "tenants").mkdir(exist_ok=True)
        (self.folder / "secrets").mkdir(exist_ok=True)
        self.config.write_text(
            f'name = "{self.prefix}"\n\n'
            f'[state]\nurl = "{POSTGRES}"\ncredentials = "plain"\n\n'
            f'[broker]\nurl = "{REDIS}"\n\n'
            '[tenants]\ndir = "tenants"\nsecrets_dir = "secrets"\n\n'
            f"[scheduler]\ntick_seconds = {tick}\nreload_seconds = 2\n"
            f"requeue_after_seconds = {requeue_after}\n" + extra,
            encoding="utf-8",
        )

    def tenant_id(self, index: int) -> str:
        return f"t{index}"

    def schema(self, tenant: str) -> str:
        """``tenant``'s schema (the fleet is named after its prefix)."""
        return f"{self.prefix}_tenant_{tenant}"

    def table(self, name: str) -> str:
        """The schedule's table ``name``, schema-qualified."""
        return f"{self.prefix}_fleet.{name}"

    def add_tenant(self, tenant: str, config: str, secrets: dict[str, str]) -> None:
        (self.folder / "tenants" / f"{tenant}.toml").write_text(config, encoding="utf-8")
        folder = self.folder / "secrets" / tenant
        folder.mkdir(parents=True, exist_ok=True)
        for name, value in secrets.items():
            (folder / name).write_text(value, encoding="utf-8")
        self.tenants.append(tenant)

    def start(self, *args: str, log: str, command: int = 1) -> subprocess.Popen[bytes]:
        """``syncbridge <command> --fleet ... <rest of args>`` (the command is the first
        ``command`` args) in a process of its own (its own group, so that killing it kills
        the pool it forked)."""
        out = open(self.folder / log, "ab")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "syncbridge.cli", *args[:command], "--fleet",
             str(self.config), *args[command:]],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=self.folder,
            start_new_session=True,
            env={**os.environ, "SYNCBRIDGE_RETRY_BACKOFF": "0.05"},
        )
        self.processes.append(process)
        return process

    def run_cli(self, *args: str, command: int = 2) -> str:
        """``syncbridge <command> --fleet ... <rest>``, run to the end; its output."""
        done = subprocess.run(
            [sys.executable, "-m", "syncbridge.cli", *args[:command], "--fleet",
             str(self.config), *args[command:]],
            capture_output=True, text=True, cwd=self.folder, timeout=120,
            env={**os.environ, "COLUMNS": "200"},
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def worker(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        return self.start("worker", "--concurrency", "1", "--loglevel", "WARNING", *extra,
                          log=f"{name}.log")

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """kill -9 the process and the pool it forked."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        # SIGTERM to each main process only, as systemd's KillMode=mixed does: a Celery
        # worker then lets its pool finish the runs under way (a pool process sent SIGTERM
        # itself would die mid-run, and its turn be taken over later)
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.folder.glob("*.log"))
        )


def drop_fleet(prefix: str, tenants: list[str]) -> None:
    """Remove what a test's fleet left in PostgreSQL and Redis."""
    engine = sa.create_engine(POSTGRES)
    for schema in [f"{prefix}_tenant_{tenant}" for tenant in tenants] + [f"{prefix}_fleet"]:
        with engine.begin() as db:  # one at a time: a schema's locks are many
            db.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    engine.dispose()
    import redis

    client = redis.Redis.from_url(REDIS)
    for pattern in (f"syncbridge:*:{prefix}:*", f"{prefix}-*", f"_kombu.binding.{prefix}-*"):
        for key in client.scan_iter(pattern):
            client.delete(key)


@contextmanager
def fleet_folder(folder: Path) -> Iterator[Fleet]:
    prefix = "f" + uuid.uuid4().hex[:8]
    fleet = Fleet(folder, prefix)
    try:
        yield fleet
    finally:
        fleet.stop()
        drop_fleet(prefix, fleet.tenants)


def connection_block(name: str, connector: str, settings: dict[str, Any],
                     secrets: dict[str, str]) -> str:
    """``[connections.NAME]`` with ``settings``, each value named in ``secrets`` written as
    ``${VAR}`` (read from the tenant's secrets directory)."""
    lines = [f"[connections.{name}]", f"connector = {toml_value(connector)}",
             f"[connections.{name}.settings]"]
    for key, value in settings.items():
        secret = secrets.get(key)
        lines.append(f"{key} = " + (f'"${{{secret}}}"' if secret else toml_value(value)))
    return "\n".join(lines) + "\n"


def farm_server(make: Callable[[str], Emulator]) -> Any:
    farm = Farm(make)
    return farm, running(farm)


def options(records: int = 3, seed: int = 1, rate_limits: bool = False) -> EmulatorOptions:
    return EmulatorOptions(records=records, seed=seed, rate_limits=rate_limits)
