"""Engine syncs of seed 003's lines: management application (sql) <-> OfiCRM."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

import syncbridge_sql.connector
from syncbridge.config import EntityRule, SyncConfig
from syncbridge.connection import Connection
from syncbridge.engine.runner import run_sync
from syncbridge.models import Company, SalesData, Sector, pyramid_class
from syncbridge.records import UpsertItem
from syncbridge.state import StateStore
from syncbridge_oficrm.emulator import A_FROM, B_FROM, SECTORS

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import OfiDb

CUSTOMERS = [
    Company(
        name="Viajes Triana S.L.",
        country="ES",
        tax_code="B58378431",
        city="Sevilla",
        external_id="C000101",
    ),
    Company(
        name="Lucía Romero Vidal",
        country="ES",
        tax_code="12345678Z",
        city="Cádiz",
        external_id="C000102",
    ),
    Company(
        name="Hoteles Cantábrico S.A.",
        country="ES",
        tax_code="A28015865",
        city="Santander",
        external_id="C000103",
        phone="+34 942 000 000",
    ),
]


def test_customers_line_from_the_management_database_into_oficrm(
    ofidb: OfiDb, tmp_path: Path
) -> None:
    erp = Connection("erp", syncbridge_sql.connector, {"url": f"sqlite:///{tmp_path}/erp.db"})
    results = erp.upsert(
        "company",
        [
            UpsertItem(key=f"c{i}", record=erp.map_out("company", c))
            for i, c in enumerate(CUSTOMERS)
        ],
    )
    assert all(r.ok for r in results)
    crm = ofidb.connect(ofidb.seed(records=0))
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    sync = SyncConfig(
        left="erp",
        right="oficrm",
        entities={"company": EntityRule(line="customers", direction="left-to-right")},
    )
    connections = {"left": erp, "right": crm}

    first = run_sync("erp-to-oficrm", sync, connections, store)  # type: ignore[arg-type]

    assert not first.failed
    assert {r.entity: dict(r.counts)["created"] for r in first.entities} == {"company": 3}
    assert ofidb.rows(
        "SELECT codigo, nombre, cif_nif, poblacion, telefono FROM clientes_{s} ORDER BY codigo"
    ) == [
        ("C000101", "Viajes Triana S.L.", "B58378431", "Sevilla", None),
        ("C000102", "Lucía Romero Vidal", "12345678Z", "Cádiz", None),
        ("C000103", "Hoteles Cantábrico S.A.", "A28015865", "Santander", "+34 942 000 000"),
    ]

    [moved] = erp.upsert(
        "company",
        [
            UpsertItem(
                key="u",
                id=results[0].id,
                changed=frozenset({"city"}),
                record=erp.map_out(
                    "company", CUSTOMERS[0].model_copy(update={"city": "Dos Hermanas"})
                ),
            )
        ],
    )
    assert moved.ok
    second = run_sync("erp-to-oficrm", sync, connections, store)  # type: ignore[arg-type]

    assert not second.failed
    assert {r.entity: dict(r.counts)["updated"] for r in second.entities} == {"company": 1}
    assert ofidb.rows("SELECT poblacion FROM clientes_{s} ORDER BY codigo") == [
        ("Dos Hermanas",),
        ("Cádiz",),
        ("Santander",),
    ]
    assert ofidb.rows("SELECT COUNT(*) FROM clientes_{s}") == [(3,)]
    erp.close()


def _create(connection: Connection, entity: str, records: list[Any]) -> list[str]:
    results = connection.upsert(
        entity,
        [
            UpsertItem(key=f"{entity}-{i}", record=connection.map_out(entity, record))
            for i, record in enumerate(records)
        ],
    )
    assert all(r.ok for r in results), [r.error for r in results]
    return [str(r.id) for r in results]


def _erp_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def test_sectors_and_sales_data_lines_with_the_customer_sector_translated(
    ofidb: OfiDb, tmp_path: Path
) -> None:
    """Seed 003 end to end: the management application (sql, default layout) and OfiCRM.

    Sectors are matched by code and created where missing, both ways; customers and their
    sales statistics go to OfiCRM, each customer's ``sector_id`` and each row's
    ``company_id`` translated through the links of the run.
    """
    url = f"sqlite:///{tmp_path}/erp.db"
    erp = Connection("erp", syncbridge_sql.connector, {"url": url})
    hos, edu = _create(
        erp, "sector", [Sector(code="HOS", name="Hostelería"), Sector(code="EDU", name="Educación")]
    )
    triana, academia = _create(
        erp,
        "company",
        [
            CUSTOMERS[0].model_copy(update={"sector_id": hos}),
            Company(
                name="Academia Minerva S.L.",
                country="ES",
                tax_code="B28015865",
                city="Salamanca",
                external_id="C000104",
                sector_id=edu,
            ),
        ],
    )
    _, academia_sales = _create(
        erp,
        "sales_data",
        [
            SalesData(
                company_id=triana,
                year=2026,
                sales_current=Decimal("61234.50"),
                sales_previous=Decimal("9999.99"),
                pyramid_current=pyramid_class(Decimal("61234.50"), A_FROM, B_FROM),
                pyramid_previous=pyramid_class(Decimal("9999.99"), A_FROM, B_FROM),
                statistics_date=date(2026, 12, 1),
            ),
            SalesData(
                company_id=academia,
                year=2026,
                sales_current=Decimal("12000"),
                pyramid_current=pyramid_class(Decimal("12000"), A_FROM, B_FROM),
                statistics_date=date(2026, 12, 1),
            ),
        ],
    )
    crm = ofidb.connect(ofidb.seed(records=0))  # OfiCRM's six sectors, no customers
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    sync = SyncConfig(
        left="erp",
        right="oficrm",
        entities={
            "sector": EntityRule(direction="both", match=[["code"]]),
            "company": EntityRule(direction="left-to-right"),
            "sales_data": EntityRule(direction="left-to-right"),
        },
    )
    connections = {"left": erp, "right": crm}

    first = run_sync("erp-oficrm", sync, connections, store)  # type: ignore[arg-type]

    assert not first.failed
    assert [r.entity for r in first.entities] == ["sector", "company", "sales_data"]
    assert {r.entity: dict(r.counts)["created"] for r in first.entities} == {
        "sector": 1 + len(SECTORS) - 1,  # EDU in OfiCRM, OfiCRM's five others in the ERP
        "company": 2,
        "sales_data": 2,
    }
    # OfiCRM: its six sectors (HOS linked by code, not duplicated) and EDU, created with a key
    ofi_sectors = ofidb.rows(
        "SELECT id_sector, codigo, descripcion FROM sectores_{s} ORDER BY id_sector"
    )
    assert ofi_sectors == [
        *((i, code, name) for i, (code, name) in enumerate(SECTORS, start=1)),
        (len(SECTORS) + 1, "EDU", "Educación"),
    ]
    ofi_sector = {code: i for i, code, _name in ofi_sectors}
    assert ofidb.rows(
        "SELECT codigo, nombre, cif_nif, poblacion, id_sector FROM clientes_{s} ORDER BY codigo"
    ) == [
        ("C000101", "Viajes Triana S.L.", "B58378431", "Sevilla", ofi_sector["HOS"]),
        ("C000104", "Academia Minerva S.L.", "B28015865", "Salamanca", ofi_sector["EDU"]),
    ]
    ofi_customer = {
        code: i for code, i in ofidb.rows("SELECT codigo, id_cliente FROM clientes_{s}")
    }
    sales = ofidb.rows(
        "SELECT id_cliente, ejercicio, ventas_actual, ventas_anterior, piramide_actual, "
        "piramide_anterior, fecha_estadistica FROM clientes_datos_ventas_{s} ORDER BY id_cliente"
    )
    assert [_plain(row) for row in sales] == [
        (ofi_customer["C000101"], 2026, Decimal("61234.50"), Decimal("9999.99"), "A", "C",
         "2026-12-01"),
        (ofi_customer["C000104"], 2026, Decimal("12000"), None, "B", None, "2026-12-01"),
    ]
    # the ERP: its two sectors and OfiCRM's five others, by code; its own rows unchanged
    assert _erp_rows(url, "SELECT id, code, name FROM sector ORDER BY id") == [
        (1, "HOS", "Hostelería"),
        (2, "EDU", "Educación"),
        *((i, code, name) for i, (code, name) in enumerate(
            [s for s in SECTORS if s[0] != "HOS"], start=3
        )),
    ]
    assert _erp_rows(url, "SELECT id, external_id, sector_id FROM company ORDER BY id") == [
        (1, "C000101", hos),
        (2, "C000104", edu),
    ]
    assert _erp_rows(
        url, "SELECT company_id, year, sales_current, pyramid_current FROM sales_data ORDER BY id"
    ) == [(triana, 2026, "61234.5", "A"), (academia, 2026, "12000", "B")]

    # the customer moves to a sector OfiCRM made, and the statistics are refreshed
    erp_sector = dict(_erp_rows(url, "SELECT code, id FROM sector"))
    [moved] = erp.upsert(
        "company",
        [
            UpsertItem(
                key="move",
                id=academia,
                changed=frozenset({"sector_id"}),
                record={"sector_id": str(erp_sector["SAN"])},
            )
        ],
    )
    assert moved.ok, moved.error
    [refreshed] = erp.upsert(
        "sales_data",
        [
            UpsertItem(
                key="refresh",
                id=academia_sales,
                changed=frozenset({"sales_current", "pyramid_current"}),
                record={"sales_current": Decimal("50000.00"), "pyramid_current": "A"},
            )
        ],
    )
    assert refreshed.ok, refreshed.error

    second = run_sync("erp-oficrm", sync, connections, store)  # type: ignore[arg-type]

    assert not second.failed
    assert {
        r.entity: (dict(r.counts).get("created", 0), dict(r.counts).get("updated", 0))
        for r in second.entities
    } == {"sector": (0, 0), "company": (0, 1), "sales_data": (0, 1)}
    assert ofidb.rows("SELECT codigo, id_sector FROM clientes_{s} ORDER BY codigo") == [
        ("C000101", ofi_sector["HOS"]),
        ("C000104", ofi_sector["SAN"]),
    ]
    assert [
        _plain(row)
        for row in ofidb.rows(
            "SELECT id_cliente, ventas_actual, piramide_actual FROM clientes_datos_ventas_{s} "
            "ORDER BY id_cliente"
        )
    ] == [
        (ofi_customer["C000101"], Decimal("61234.50"), "A"),
        (ofi_customer["C000104"], Decimal("50000.00"), "A"),
    ]
    assert ofidb.rows("SELECT COUNT(*) FROM sectores_{s}") == [(len(SECTORS) + 1,)]
    assert _erp_rows(url, "SELECT COUNT(*) FROM sector") == [(len(SECTORS) + 1,)]
    erp.close()


def _plain(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Decimals as Decimal and dates as ISO text, whatever the driver returns (SQLite: float
    and text)."""
    return tuple(
        Decimal(str(v)) if isinstance(v, float | Decimal)
        else v.isoformat() if isinstance(v, date)
        else v
        for v in row
    )
