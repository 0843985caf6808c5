"""The OfiCRM connector against the connector contract suite, on each database.

No HTTP emulator: each test creates the stand-in OfiCRM database (the preset's tables, empty)
in its own SQLite file, or under table names of its own on PostgreSQL and MariaDB when those
are reachable (skipped naming the server otherwise, failed under CI=true). The kit seeds
customers through the connector's own creates, with Spanish samples whose CIF python-stdnum
accepts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from stdnum.es import nif

from syncbridge.testing import ConnectorContract
from syncbridge.testing.servers import MARIADB, POSTGRES, require
from syncbridge_oficrm.emulator import create_database, spanish_cif
from syncbridge_oficrm.preset import TABLES


def spanish_company(index: int) -> dict[str, Any]:
    tax_id = spanish_cif("B", 1_000_000 + index)
    assert nif.is_valid(tax_id)
    return {
        "name": f"Cliente Contrato {index} S.L.",
        "country": "ES",
        "tax_code": tax_id,
        "external_id": f"K{index:06d}",
        "address": f"Calle Mayor {index + 1}",
        "postal_code": f"{28001 + index % 50:05d}",
        "city": "Madrid",
        "province": "Madrid",
        "email": f"cliente{index}@contrato.example.es",
        "phone": f"+34 91 {index % 10_000_000:07d}",
        "website": f"https://cliente{index}.example.es",
    }


class _OficrmContract(ConnectorContract):
    __test__ = False  # the base of the three below, one per database

    connector = "syncbridge_oficrm.connector"
    emulator = None
    backend = "sqlite"

    @pytest.fixture(autouse=True)
    def _tables(self, tmp_path: Path) -> Iterator[None]:
        """The suffix of this test's tables; they are dropped afterwards."""
        if self.backend == "sqlite":
            self.url = f"sqlite:///{tmp_path}/oficrm.db"
        else:
            self.url = require(POSTGRES if self.backend == "postgresql" else MARIADB)
        self.suffix = uuid.uuid4().hex[:8]
        yield
        engine = sa.create_engine(self.url)
        mine = [n for n in sa.inspect(engine).get_table_names() if n.endswith(self.suffix)]
        metadata = sa.MetaData()
        metadata.reflect(engine, only=mine)
        metadata.drop_all(engine)
        engine.dispose()

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        tables = {entity: f"{name}_{self.suffix}" for entity, name in TABLES.items()}
        settings = {"url": self.url, "tables": tables}
        create_database(records=0, **settings)
        return settings

    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        if self.backend == "sqlite":
            return {**settings, "url": "sqlite:////nonexistent-dir/oficrm/x.db"}
        return {**settings, "url": self.url.replace("@127.0.0.1:", "@127.0.0.1:1")}

    def sample(self, entity: str, index: int) -> Mapping[str, Any]:
        assert entity == "company", entity
        return spanish_company(index)


class TestOficrmContractSqlite(_OficrmContract):
    __test__ = True
    backend = "sqlite"


@pytest.mark.postgres
class TestOficrmContractPostgres(_OficrmContract):
    __test__ = True
    backend = "postgresql"


@pytest.mark.mariadb
class TestOficrmContractMariadb(_OficrmContract):
    __test__ = True
    backend = "mariadb"
