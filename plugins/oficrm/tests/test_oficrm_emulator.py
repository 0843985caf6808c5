"""The stand-in OfiCRM database: created from the preset, seeded with Spanish data."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from stdnum.es import nif

import syncbridge_oficrm.connector
from syncbridge.connection import Connection
from syncbridge.models import PyramidClass, pyramid_class
from syncbridge_oficrm.emulator import A_FROM, B_FROM, SECTORS, create_database, main


def test_creates_the_preset_tables_with_keys_and_seeds_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/oficrm.db"
    seeded = create_database(url, records=12)
    assert (seeded.customers, seeded.sectors, seeded.sales_data) == (12, len(SECTORS), 12)

    engine = sa.create_engine(url)
    inspector = sa.inspect(engine)
    assert set(inspector.get_table_names()) == {"clientes", "sectores", "clientes_datos_ventas"}
    customer_fks = inspector.get_foreign_keys("clientes")
    assert [(fk["constrained_columns"], fk["referred_table"]) for fk in customer_fks] == [
        (["id_sector"], "sectores")
    ]
    sales_fks = inspector.get_foreign_keys("clientes_datos_ventas")
    assert [(fk["constrained_columns"], fk["referred_table"]) for fk in sales_fks] == [
        (["id_cliente"], "clientes")
    ]
    with engine.connect() as db:
        tax_ids = db.execute(sa.text("SELECT cif_nif FROM clientes")).scalars().all()
        sales = db.execute(
            sa.text("SELECT ventas_actual, piramide_actual FROM clientes_datos_ventas")
        ).all()
        sectors = db.execute(sa.text("SELECT COUNT(DISTINCT id_sector) FROM clientes")).scalar()
    engine.dispose()
    assert len(tax_ids) == 12 and all(nif.is_valid(t) for t in tax_ids)
    assert any(t[0].isdigit() for t in tax_ids) and any(t[0] == "B" for t in tax_ids)
    for amount, klass in sales:
        assert pyramid_class(Decimal(str(amount)), A_FROM, B_FROM) == PyramidClass(klass)
    assert sectors == len(SECTORS)


def test_the_same_seed_gives_the_same_data(tmp_path: Path) -> None:
    def customers(name: str, seed: int) -> list[tuple[object, ...]]:
        url = f"sqlite:///{tmp_path}/{name}.db"
        create_database(url, records=5, seed=seed)
        engine = sa.create_engine(url)
        with engine.connect() as db:
            rows = db.execute(sa.text("SELECT codigo, nombre, cif_nif FROM clientes")).all()
        engine.dispose()
        return [tuple(row) for row in rows]

    assert customers("a", 7) == customers("b", 7) != customers("c", 8)


def test_the_command_prints_a_working_connection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    main([url, "--records", "3"])
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "# 3 customers, 6 sectors, 3 sales data rows",
        "[connections.oficrm]",
        'connector = "oficrm"',
        "[connections.oficrm.settings]",
        f'url = "{url}"',
    ]
    with Connection("oficrm", syncbridge_oficrm.connector, {"url": url}) as crm:
        assert crm.check().ok
        assert sum(len(page.records) for page in crm.fetch("company")) == 3

