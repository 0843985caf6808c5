"""Reaching the real servers tests run against, or skipping (failing under CI) clearly.

The project's machines run PostgreSQL (127.0.0.1:5432, trust, db ``test``), MariaDB
(127.0.0.1:3306, root without password, db ``test``) and Redis (127.0.0.1:6379). A test that
needs one uses it when reachable; with ``CI=true`` an unreachable server is a failure (a
green CI must never hide a skipped database), elsewhere the test is skipped with a message
naming the server.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class Server:
    name: str
    host: str
    port: int
    url: str


POSTGRES = Server(
    "PostgreSQL", "127.0.0.1", 5432, "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB = Server("MariaDB", "127.0.0.1", 3306, "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS = Server("Redis", "127.0.0.1", 6379, "redis://127.0.0.1:6379/0")


def reachable(server: Server, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((server.host, server.port), timeout=timeout):
            return True
    except OSError:
        return False


def require(server: Server) -> str:
    """The server's URL, or skip (fail under CI) naming the server."""
    if reachable(server):
        return server.url
    message = f"{server.name} not reachable on {server.host}:{server.port}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: tests that need it must run)")
    pytest.skip(message)


#: the databases a SQL-backed connector's tests run on, each test once per database
DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
]


def database_url(name: str, folder: str | os.PathLike[str]) -> str:
    """The URL of the database ``name`` (of :data:`DATABASES`): a SQLite file in ``folder``,
    or the local server's test database (skipped, or failed under ``CI=true``, when away)."""
    if name == "sqlite":
        return f"sqlite:///{os.fspath(folder)}/test.db"
    return require(POSTGRES if name == "postgresql" else MARIADB)


def drop_tables_ending(engine: Any, suffix: str) -> None:
    """Drop the tables whose names end with ``suffix``: what one test made on a shared
    server, where every test names its tables with a suffix of its own."""
    import sqlalchemy as sa

    mine = [name for name in sa.inspect(engine).get_table_names() if name.endswith(suffix)]
    if mine:
        metadata = sa.MetaData()
        metadata.reflect(engine, only=mine)
        metadata.drop_all(engine)
