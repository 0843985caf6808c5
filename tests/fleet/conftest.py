"""Fixtures of the fleet tests: real PostgreSQL and Redis, emulator farms on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncbridge.testing.servers import POSTGRES, REDIS, require
from tests.fleet.farm import Fleet, fleet_folder


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    require(POSTGRES)
    require(REDIS)
    with fleet_folder(tmp_path) as made:
        yield made
