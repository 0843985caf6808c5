"""A connection used from several threads at once (a run's senders, its fetching thread) has
one client and one of each per-connection resource, whoever asks first: an HTTP client or,
for a connector without HTTP, a resource holder."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import syncbridge.workspace
from syncbridge.connection import Connection
from syncbridge.describe import ConnectorInfo
from syncbridge.hookspecs import hookimpl
from syncbridge.plugins import load_connector
from syncbridge.settings import HttpSettings
from syncbridge.workspace import Workspace

THREADS = 8


def _all_at_once(call: Any) -> list[Any]:
    """``call()`` from THREADS threads released together."""
    start = threading.Barrier(THREADS)

    def one(_: int) -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


class Tiny:
    """A connector that speaks HTTP and implements nothing but ``describe``."""

    @hookimpl
    def describe(self) -> ConnectorInfo:
        return ConnectorInfo(name="tiny", title="Tiny", settings=HttpSettings)


def _open(kind: str, tmp_path: Path) -> Connection:
    """A connection with an HTTP client (``http``) or a resource holder (``sql``)."""
    if kind == "http":
        return Connection("api", Tiny(), {"base_url": "http://127.0.0.1:9"})
    return Connection("erp", load_connector("sql"), {"url": f"sqlite:///{tmp_path}/x.db"})


@pytest.mark.parametrize("kind", ["http", "sql"])
def test_threads_asking_for_the_client_first_get_one_client(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = []
    real = Connection._build_client

    def slow_build(self: Connection) -> Any:  # widens the moment two threads could both build
        time.sleep(0.05)
        client = real(self)
        built.append(client)
        return client

    monkeypatch.setattr(Connection, "_build_client", slow_build)
    with _open(kind, tmp_path) as connection:
        clients = _all_at_once(lambda: connection.client)
        assert len(built) == 1
        assert all(client is built[0] for client in clients)


@pytest.mark.parametrize("kind", ["http", "sql"])
def test_threads_asking_for_a_resource_first_get_one_resource(kind: str, tmp_path: Path) -> None:
    made = []

    def slow_factory() -> object:
        time.sleep(0.05)
        made.append(object())
        return made[-1]

    with _open(kind, tmp_path) as erp:
        client = erp.client
        resources = _all_at_once(lambda: client.resource("test.cache", slow_factory))
        assert len(made) == 1
        assert all(resource is made[0] for resource in resources)
        # a factory may ask for another resource of the same client
        nested = client.resource("test.outer", lambda: client.resource("test.cache", object))
        assert nested is made[0]


def test_threads_opening_a_workspace_connection_at_once_share_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An application running syncs from its own threads gets one connection per name:
    two would mean two clients and two rate budgets for one account."""
    config = tmp_path / "syncbridge.toml"
    state, erp = tmp_path / "state.db", tmp_path / "erp.db"
    config.write_text(f'[state]\nurl = "sqlite:///{state}"\n[connections.erp]\n'
                      f'connector = "sql"\n[connections.erp.settings]\nurl = "sqlite:///{erp}"\n',
                      "utf-8")
    opened = []
    real = syncbridge.workspace.Connection

    def slow_open(*args: Any, **kwargs: Any) -> Any:  # widens the moment of the race
        time.sleep(0.05)
        opened.append(real(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(syncbridge.workspace, "Connection", slow_open)
    with Workspace.load(config) as workspace:
        connections = _all_at_once(lambda: workspace.connection("erp"))
        assert len(opened) == 1
        assert all(connection is opened[0] for connection in connections)
