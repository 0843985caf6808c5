"""The pytest plugin of the core distribution (entry point ``pytest11``: syncbridge).

Fixtures every syncbridge test suite, including third-party connectors', can use. The
connector contract suite is a class rather than fixtures: subclass
:class:`syncbridge.testing.ConnectorContract` (its ``harness`` fixture comes with it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from syncbridge.http.retry import BACKOFF_ENV
from syncbridge.state.cipher import KEY_ENV
from syncbridge.testing.servers import MARIADB, POSTGRES, REDIS, require


@pytest.fixture(scope="session", autouse=True)
def credentials_key() -> Iterator[str]:
    """A throwaway key in ``$SYNCBRIDGE_CREDENTIALS_KEY`` for the whole session.

    Stored credentials are encrypted by default and need the key (see
    :mod:`syncbridge.state.cipher`); a suite's tests, and the ``syncbridge`` processes they
    start, get one as a deployment would. A test of the missing key removes it with
    ``monkeypatch.delenv``.
    """
    existing = os.environ.get(KEY_ENV)
    if existing:
        yield existing
        return
    key = Fernet.generate_key().decode("ascii")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, key)
        yield key


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry backoff of 10 ms (``$SYNCBRIDGE_RETRY_BACKOFF``) unless the environment sets one:
    a test of retries against an emulator would otherwise wait seconds per retried request.
    A test of the backoff itself sets the variable with ``monkeypatch.setenv``."""
    if BACKOFF_ENV not in os.environ:
        monkeypatch.setenv(BACKOFF_ENV, "0.01")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of the local PostgreSQL test database."""
    return require(POSTGRES)


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose connections see only a fresh schema, dropped afterwards: a
    state store or a database of its own for one test, however many run at once."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    try:
        with admin.begin() as db:
            db.execute(text(f"CREATE SCHEMA {schema}"))
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as db:
            db.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty state store on each backend syncbridge supports: a SQLite file,
    and a schema of its own on PostgreSQL (skipped, or failed under ``CI=true``, when the
    server is not there)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    """SQLAlchemy URL of the local MariaDB test database."""
    return require(MARIADB)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the local Redis server."""
    return require(REDIS)


def pytest_configure(config: pytest.Config) -> None:
    for server in ("postgres", "mariadb", "redis"):
        config.addinivalue_line("markers", f"{server}: needs the local {server} test server")
