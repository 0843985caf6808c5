"""The pytest plugin of the core distribution (entry point ``pytest11``: syncbridge).

Fixtures every syncbridge test suite, including third-party connectors', can use. The
connector contract suite is a class rather than fixtures: subclass
:class:`syncbridge.testing.ConnectorContract` (its ``harness`` fixture comes with it).
"""

from __future__ import annotations

import pytest

from syncbridge.testing.servers import MARIADB, POSTGRES, REDIS, require


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of the local PostgreSQL test database."""
    return require(POSTGRES)


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    """SQLAlchemy URL of the local MariaDB test database."""
    return require(MARIADB)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the local Redis server."""
    return require(REDIS)
