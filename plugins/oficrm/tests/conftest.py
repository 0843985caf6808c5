"""Fixtures of the OfiCRM connector's tests: a seeded stand-in OfiCRM database per backend.

SQLite always; PostgreSQL (127.0.0.1:5432) and MariaDB (127.0.0.1:3306) when reachable, else
skipped naming the server, failed under ``CI=true`` (:mod:`syncbridge.testing.servers`). On a
server every test gets its own table names (a random suffix) so parallel runs never collide;
its tables are dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import syncbridge_oficrm.connector
from syncbridge.connection import Connection
from syncbridge.testing.servers import (
    DATABASES,
    database_url,
    drop_tables_ending,
)
from syncbridge_oficrm.emulator import create_database
from syncbridge_oficrm.preset import TABLES


@dataclass
class OfiDb:
    """One stand-in OfiCRM database and the connections a test opened on it."""

    name: str
    url: str
    suffix: str
    engine: sa.Engine
    connections: list[Connection] = field(default_factory=list)

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Settings naming this test's tables (the preset's names plus the suffix)."""
        tables = {entity: f"{table}_{self.suffix}" for entity, table in TABLES.items()}
        tables.update(overrides.pop("tables", {}))
        return {"url": self.url, "tables": tables, **overrides}

    def seed(self, records: int = 5, **overrides: Any) -> dict[str, Any]:
        """Create and seed the tables; the settings that reach them."""
        settings = self.settings(**overrides)
        create_database(records=records, **settings)
        return settings

    def connect(self, settings: dict[str, Any]) -> Connection:
        connection = Connection(f"oficrm-{self.name}", syncbridge_oficrm.connector, settings)
        self.connections.append(connection)
        return connection

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql.format(s=self.suffix)))]

    def cleanup(self) -> None:
        for connection in self.connections:
            connection.close()
        drop_tables_ending(self.engine, self.suffix)
        self.engine.dispose()


@pytest.fixture(params=DATABASES)
def ofidb(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OfiDb]:
    url = database_url(request.param, tmp_path)
    db = OfiDb(request.param, url, uuid.uuid4().hex[:8], sa.create_engine(url))
    try:
        yield db
    finally:
        db.cleanup()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[OfiDb]:
    url = database_url("sqlite", tmp_path)
    db = OfiDb("sqlite", url, uuid.uuid4().hex[:8], sa.create_engine(url))
    try:
        yield db
    finally:
        db.cleanup()
