"""Fixtures of the sql connector's tests: one database per backend, cleaned up afterwards.

The main tests run on SQLite, PostgreSQL and MariaDB. A server is used when reachable; when
it is not, the test is skipped naming the server, or fails under ``CI=true`` (reachability
is :mod:`syncbridge.testing.servers`, shared with the rest of the project). On a server every
test gets its own table names (a random suffix), so parallel runs never collide, and the
tables are dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import syncbridge_sql.connector
from syncbridge.connection import Connection
from syncbridge.models import MODELS
from syncbridge.testing.servers import (
    DATABASES,
    database_url,
    drop_tables_ending,
)


@dataclass
class Backend:
    """One database to test against, and what a test created in it."""

    name: str
    url: str
    suffix: str
    engine: sa.Engine
    connections: list[Connection] = field(default_factory=list)

    def table(self, base: str) -> str:
        """A table name unique to this test."""
        return f"{base}_{self.suffix}"

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Connection settings with every entity's table named uniquely."""
        tables = {entity: self.table(entity) for entity in MODELS}
        tables.update(overrides.pop("tables", {}))
        return {"url": self.url, "tables": tables, **overrides}

    def connect(self, **overrides: Any) -> Connection:
        connection = Connection(
            f"sql-{self.name}", syncbridge_sql.connector, self.settings(**overrides)
        )
        self.connections.append(connection)
        return connection

    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
            return int(conn.execute(sa.select(sa.func.count()).select_from(reflected)).scalar_one())

    def cleanup(self) -> None:
        for connection in self.connections:
            connection.close()
        drop_tables_ending(self.engine, self.suffix)
        self.engine.dispose()


@pytest.fixture(params=DATABASES)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each test once per database; the server ones skip (fail under CI) when unreachable."""
    url = database_url(request.param, tmp_path)
    engine = sa.create_engine(url)
    db = Backend(request.param, url, uuid.uuid4().hex[:10], engine)
    try:
        yield db
    finally:
        db.cleanup()


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Backend]:
    """SQLite only, for behaviour that does not depend on the database."""
    url = database_url("sqlite", tmp_path)
    db = Backend("sqlite", url, uuid.uuid4().hex[:10], sa.create_engine(url))
    try:
        yield db
    finally:
        db.cleanup()
