"""Customers, sectors and sales data read from and written to the OfiCRM tables, per database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from stdnum.es import nif

from syncbridge.connection import Connection
from syncbridge.models import Company, PyramidClass, SalesData, Sector
from syncbridge.records import NativeRecord, UpsertItem
from syncbridge_oficrm.emulator import SECTORS

if TYPE_CHECKING:
    from conftest import OfiDb


def _all(
    connection: Connection, entity: str, since: str | None = None
) -> tuple[list[NativeRecord], str | None]:
    pages = list(connection.fetch(entity, since=since))
    return [r for page in pages for r in page.records], pages[-1].cursor


def test_seeded_customers_read_as_canonical_companies(ofidb: OfiDb) -> None:
    crm = ofidb.connect(ofidb.seed(records=8))
    records, cursor = _all(crm, "company")
    companies = [crm.map_in("company", record) for record in records]

    assert len(companies) == 8 and cursor
    assert all(isinstance(c, Company) and c.country == "ES" for c in companies)
    assert all(nif.is_valid(c.tax_code) for c in companies)
    assert [c.external_id for c in companies] == [f"C{i:06d}" for i in range(1, 9)]
    assert sorted(int(c.id) for c in companies) == [  # OfiCRM's own ids, as text
        row[0] for row in ofidb.rows("SELECT id_cliente FROM clientes_{s} ORDER BY id_cliente")
    ]
    # the customer's sector (clientes.id_sector), an id of sectores as text
    assert [c.sector_id for c in companies] == [
        str(row[0])
        for row in ofidb.rows("SELECT id_sector FROM clientes_{s} ORDER BY id_cliente")
    ]
    assert {c.sector_id for c in companies} == {str(i) for i in range(1, len(SECTORS) + 1)}


def test_customer_create_and_update_land_in_oficrm_columns(ofidb: OfiDb) -> None:
    crm = ofidb.connect(ofidb.seed(records=1))
    new = Company(
        name="Viajes Alhambra S.L.",
        country="ES",
        tax_code="B58378431",
        city="Granada",
        external_id="C000900",
        email="info@alhambra.example.es",
    )
    [created] = crm.upsert("company", [UpsertItem(key="k1", record=crm.map_out("company", new))])
    assert created.ok, created.error
    _, cursor = _all(crm, "company")

    changed = new.model_copy(update={"city": "Córdoba"})
    [updated] = crm.upsert(
        "company",
        [
            UpsertItem(
                key="k2",
                id=created.id,
                record=crm.map_out("company", changed),
                changed=frozenset({"city"}),
            )
        ],
    )
    assert (updated.ok, updated.id) == (True, created.id)
    rows = ofidb.rows(
        "SELECT nombre, cif_nif, poblacion, codigo, sync_key FROM clientes_{s} "
        f"WHERE id_cliente = {created.id}"
    )
    assert rows == [("Viajes Alhambra S.L.", "B58378431", "Córdoba", "C000900", "k1")]
    changes, _ = _all(crm, "company", since=cursor)
    assert [r["id"] for r in changes] == [created.id]


def test_sectors_read_and_write(ofidb: OfiDb) -> None:
    crm = ofidb.connect(ofidb.seed(records=1))
    records, cursor = _all(crm, "sector")
    sectors = [crm.map_in("sector", r) for r in records]
    assert [(s.code, s.name) for s in sectors] == list(SECTORS)
    assert all(isinstance(s, Sector) for s in sectors)

    new = Sector(code="EDU", name="Educación")
    item = UpsertItem(key="sector-edu", record=crm.map_out("sector", new))
    [first] = crm.upsert("sector", [item])
    [again] = crm.upsert("sector", [item])  # the same create retried: no second row
    assert first.ok and (again.ok, again.id) == (True, first.id)
    assert crm.lookup("sector", ["sector-edu", "nope"]) == {"sector-edu": first.id}
    changes, _ = _all(crm, "sector", since=cursor)
    assert [crm.map_in("sector", r) for r in changes] == [
        new.model_copy(update={"id": first.id, "updated_at": changes[0]["updated_at"]})
    ]
    assert ofidb.rows("SELECT codigo, descripcion FROM sectores_{s} WHERE codigo = 'EDU'") == [
        ("EDU", "Educación")
    ]


def test_sales_data_arrive_on_the_customer(ofidb: OfiDb) -> None:
    crm = ofidb.connect(ofidb.seed(records=3))
    records, cursor = _all(crm, "sales_data")
    seeded = [crm.map_in("sales_data", r) for r in records]
    assert all(isinstance(s, SalesData) for s in seeded)
    assert sorted(s.company_id for s in seeded) == ["1", "2", "3"]

    statistics = SalesData(
        company_id="2",
        year=2026,
        sales_current=Decimal("61234.50"),
        sales_previous=Decimal("9999.99"),
        pyramid_current=PyramidClass.A,
        pyramid_previous=PyramidClass.C,
        statistics_date=date(2026, 12, 1),
    )
    # a create for a customer that has sales data updates that row: one row per customer
    [result] = crm.upsert(
        "sales_data", [UpsertItem(key="stats-2", record=crm.map_out("sales_data", statistics))]
    )
    assert result.ok, result.error
    [row] = ofidb.rows(
        "SELECT id_cliente, ejercicio, ventas_actual, ventas_anterior, piramide_actual, "
        "piramide_anterior FROM clientes_datos_ventas_{s} WHERE id_cliente = 2"
    )
    assert (row[0], row[1], Decimal(str(row[2])), Decimal(str(row[3])), row[4], row[5]) == (
        2,
        2026,
        Decimal("61234.50"),
        Decimal("9999.99"),
        "A",
        "C",
    )
    changes, _ = _all(crm, "sales_data", since=cursor)
    [changed] = [crm.map_in("sales_data", r) for r in changes]
    assert changed.model_copy(update={"id": None, "updated_at": None}) == statistics
    assert ofidb.rows("SELECT COUNT(*) FROM clientes_datos_ventas_{s}") == [(3,)]


def test_a_bad_row_fails_alone(ofidb: OfiDb) -> None:
    crm = ofidb.connect(ofidb.seed(records=1))
    good = SalesData(company_id="1", year=2025, sales_current=Decimal("10"))
    unknown_customer = SalesData(company_id="999", year=2025, sales_current=Decimal("10"))
    results = crm.upsert(
        "sales_data",
        [
            UpsertItem(key="bad", record=crm.map_out("sales_data", unknown_customer)),
            UpsertItem(key="good", record=crm.map_out("sales_data", good)),
            UpsertItem(key="typo", record={"company_id": "1", "year": 2025, "ventas": 1}),
        ],
    )
    # SQLite does not enforce foreign keys (OfiCRM's SQL Server does, like these servers)
    assert [r.ok for r in results] == [ofidb.name == "sqlite", True, False]
    if ofidb.name != "sqlite":
        assert "foreign key" in (results[0].error or "").lower()
    assert results[2].error == "unknown sales_data field(s): ventas"
