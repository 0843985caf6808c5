"""The OfiCRM connector against the connector contract suite, on each database.

No HTTP emulator: each test creates the stand-in OfiCRM database (the preset's tables, empty)
in its own SQLite file, or under table names of its own on PostgreSQL and MariaDB when those
are reachable (skipped naming the server otherwise, failed under CI=true). The kit seeds
each entity through the connector's own creates: customers with Spanish samples whose CIF
python-stdnum accepts, sectors with the kit's default samples, and sales data with the kit's
samples pointed at customers of their own (OfiCRM keeps one row per customer, and the
servers check the foreign key), which :meth:`_OficrmContract.settings` puts in first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from stdnum.es import nif

from syncbridge.testing import ConnectorContract
from syncbridge.testing.samples import default_sample
from syncbridge.testing.servers import MARIADB, POSTGRES, drop_tables_ending, require
from syncbridge_oficrm.emulator import create_database, spanish_cif
from syncbridge_oficrm.preset import TABLES

#: the kit's sample indexes (0.. seeds, 100000.. the checks' own): each its own customer
_SEEDS = range(0, 40)
_CHECKS = range(100_000, 100_040)


def customer_of(index: int) -> int:
    """The id of the customer the ``index``-th sales data sample belongs to."""
    return index + 1 if index in _SEEDS else index - _CHECKS.start + 1 + len(_SEEDS)


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
    def _tables(self, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[None]:
        """The suffix of this test's tables; they are dropped afterwards."""
        callspec = getattr(request.node, "callspec", None)
        self.entity = callspec.params.get("entity") if callspec is not None else None
        if self.backend == "sqlite":
            self.url = f"sqlite:///{tmp_path}/oficrm.db"
        else:
            self.url = require(POSTGRES if self.backend == "postgresql" else MARIADB)
        self.suffix = uuid.uuid4().hex[:8]
        yield
        engine = sa.create_engine(self.url)
        drop_tables_ending(engine, self.suffix)
        engine.dispose()

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        tables = {entity: f"{name}_{self.suffix}" for entity, name in TABLES.items()}
        settings = {"url": self.url, "tables": tables}
        create_database(records=0, **settings)
        if self.entity == "sales_data":
            self._customers(tables["company"])
        return settings

    def _customers(self, table: str) -> None:
        """The customers the sales data samples belong to (see :func:`customer_of`)."""
        engine = sa.create_engine(self.url)
        try:
            clientes = sa.Table(table, sa.MetaData(), autoload_with=engine)
            now = datetime(2026, 1, 1)
            indexes = [*_SEEDS, *_CHECKS]
            rows = [{"nombre": f"Cliente {i}", "fecha_modificacion": now} for i in indexes]
            with engine.begin() as connection:
                connection.execute(sa.insert(clientes), rows)
                ids = connection.scalars(sa.select(clientes.c.id_cliente)).all()
            # ids given by the database (a PostgreSQL sequence is not moved by explicit ones)
            assert sorted(ids) == sorted(customer_of(i) for i in indexes)
        finally:
            engine.dispose()

    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        if self.backend == "sqlite":
            return {**settings, "url": "sqlite:////nonexistent-dir/oficrm/x.db"}
        return {**settings, "url": self.url.replace("@127.0.0.1:", "@127.0.0.1:1")}

    def sample(self, entity: str, index: int) -> Mapping[str, Any]:
        if entity == "company":
            return spanish_company(index)
        sample = default_sample(entity, index)
        if entity == "sales_data":
            sample["company_id"] = str(customer_of(index))
        return sample


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


class TestOficrmContractWithLookback(_OficrmContract):
    """As the README advises for OfiCRM's whole-second stamps: the connection reads back two
    seconds before its cursor, and the kit allows those records to come back."""

    __test__ = True
    backend = "sqlite"
    entities = ["company"]
    lookback = timedelta(seconds=2)

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {**super().settings(tmp_path), "lookback_seconds": 2}
