"""The sql connector through a Connection, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from syncbridge.connection import Connection
from syncbridge.models import (
    Company,
    DocumentLine,
    Invoice,
    Product,
    PyramidClass,
    SalesData,
    Sector,
)
from syncbridge.records import Page, UpsertItem, UpsertResult

if TYPE_CHECKING:
    from conftest import Backend


def _companies(connection: Connection, count: int, prefix: str = "c") -> list[UpsertItem]:
    return [
        UpsertItem(
            key=f"{prefix}-{i}",
            record=connection.map_out(
                "company",
                Company(name=f"Company {i}", city="Rome", country="IT", email=f"c{i}@x.example"),
            ),
        )
        for i in range(count)
    ]


def _create(connection: Connection, count: int, prefix: str = "c") -> list[UpsertResult]:
    results = connection.upsert("company", _companies(connection, count, prefix))
    assert all(result.ok for result in results), [r.error for r in results if not r.ok]
    return results


def _records(pages: list[Page]) -> list[dict[str, object]]:
    return [record for page in pages for record in page.records]


def test_creates_are_read_back_across_pages_without_duplicates(backend: Backend) -> None:
    connection = backend.connect(page_size=100, batch_size=120)
    created = _create(connection, 250)

    pages = list(connection.fetch("company"))

    assert len(pages) >= 3
    records = _records(pages)
    ids = [record["id"] for record in records]
    assert len(ids) == len(set(ids)) == 250
    assert set(ids) == {result.id for result in created}
    assert all(page.cursor for page in pages)
    assert [page.cursor for page in pages] == sorted(page.cursor or "" for page in pages)
    # the first, full page says how long the read is (the engine may map it in two processes)
    assert [page.total for page in pages] == [250] + [None] * (len(pages) - 1)
    filtered = next(iter(connection.fetch("company", query={"filter": {"city": "Rome"}})))
    assert filtered.total == 250
    canonical = [connection.map_in("company", record) for record in records]
    assert {company.name for company in canonical} == {f"Company {i}" for i in range(250)}
    # the record returned by upsert is the record fetch returns: the engine hashes it
    by_id = {record["id"]: record for record in records}
    assert all(result.record == by_id[result.id] for result in created)


def test_incremental_read_returns_exactly_the_changed_records(backend: Backend) -> None:
    connection = backend.connect(page_size=100)
    created = _create(connection, 250)
    cursor = list(connection.fetch("company"))[-1].cursor
    assert cursor is not None

    changed = [created[7], created[120], created[249]]
    results = connection.upsert(
        "company",
        [
            UpsertItem(
                key=f"u{r.id}", id=r.id, record={"city": "Milan"}, changed=frozenset({"city"})
            )
            for r in changed
        ],
    )
    assert all(result.ok for result in results)

    pages = list(connection.fetch("company", since=cursor))
    assert sorted(r["id"] for r in _records(pages)) == sorted(r.id for r in changed)
    assert all(r["city"] == "Milan" for r in _records(pages))

    # and nothing more after the new cursor: the cursor excludes what was read
    later = list(connection.fetch("company", since=pages[-1].cursor))
    assert _records(later) == []
    assert later[-1].cursor == pages[-1].cursor


def test_update_writes_only_the_changed_columns(backend: Backend) -> None:
    connection = backend.connect()
    (created,) = _create(connection, 1)
    assert created.id is not None and created.record is not None

    sent = {**created.record, "city": "Turin", "name": "Renamed elsewhere"}
    del sent["id"], sent["updated_at"]
    (result,) = connection.upsert(
        "company",
        [UpsertItem(key="u1", id=created.id, record=sent, changed=frozenset({"city"}))],
    )

    assert result.ok and result.id == created.id and result.record is not None
    assert result.record["city"] == "Turin"
    assert result.record["name"] == "Company 0"
    assert result.record["updated_at"] > created.record["updated_at"]
    (stored,) = _records(list(connection.fetch("company", query={"ids": [created.id]})))
    assert stored == result.record


def test_update_of_a_missing_row_fails_alone(backend: Backend) -> None:
    connection = backend.connect()
    (created,) = _create(connection, 1)
    results = connection.upsert(
        "company",
        [
            UpsertItem(key="gone", id="999999", record={"city": "Nowhere"}),
            UpsertItem(key="bad", id="not-a-number", record={"city": "Nowhere"}),
            UpsertItem(key="here", id=created.id, record={"city": "Bari"}),
        ],
    )
    assert [r.ok for r in results] == [False, False, True]
    assert results[0].error == "no company with id 999999"
    assert results[1].error == "no company with id not-a-number"


def test_creates_are_idempotent_by_key(backend: Backend) -> None:
    connection = backend.connect()
    items = _companies(connection, 3)
    first = connection.upsert("company", items)

    again = connection.upsert("company", [items[1], items[1], items[2]])

    assert [r.id for r in again] == [first[1].id, first[1].id, first[2].id]
    assert all(r.ok for r in again)
    assert backend.count(backend.table("company")) == 3
    # a repeated key inside one batch is one create too
    twice = _companies(connection, 1, prefix="fresh") * 2
    results = connection.upsert("company", twice)
    assert results[0].id == results[1].id
    assert backend.count(backend.table("company")) == 4


def test_keys_differing_only_in_case_are_different_creates(backend: Backend) -> None:
    connection = backend.connect()
    items = _companies(connection, 2)
    items[0].key, items[1].key = "Key-A", "key-a"
    results = connection.upsert("company", items)
    assert all(r.ok for r in results) and results[0].id != results[1].id
    assert connection.lookup("company", ["Key-A", "key-a", "KEY-A"]) == {
        "Key-A": results[0].id,
        "key-a": results[1].id,
    }


def test_lookup_finds_records_by_their_create_key(backend: Backend) -> None:
    connection = backend.connect()
    created = _create(connection, 5)
    found = connection.lookup("company", ["c-1", "c-4", "never-sent"])
    assert found == {"c-1": created[1].id, "c-4": created[4].id}


def test_a_rejected_record_fails_alone_with_the_database_message(backend: Backend) -> None:
    if backend.name == "sqlite":
        pytest.skip("SQLite does not enforce VARCHAR lengths (NOT NULL: see test_sql_schema)")
    connection = backend.connect(batch_size=50)
    items = _companies(connection, 7)
    items[3].record["name"] = "x" * 300

    results = connection.upsert("company", items)

    assert [r.ok for r in results] == [True, True, True, False, True, True, True]
    error = results[3].error or ""
    # the server's own words: "value too long for type character varying(255)" (PostgreSQL),
    # "Data too long for column 'name' at row 1 (error 1406)" (MariaDB)
    assert "too long" in error.lower()
    assert backend.count(backend.table("company")) == 6


def test_decimals_round_trip_exactly(backend: Backend) -> None:
    connection = backend.connect()
    prices = [Decimal("12.345600"), Decimal("123456789012.123456"), Decimal("0.000001")]
    products = [
        Product(name=f"p{i}", price=price, cost=Decimal("7")) for i, price in enumerate(prices)
    ]
    results = connection.upsert(
        "product",
        [
            UpsertItem(key=f"p{i}", record=connection.map_out("product", p))
            for i, p in enumerate(products)
        ],
    )
    assert all(r.ok for r in results)

    back = [connection.map_in("product", r) for r in _records(list(connection.fetch("product")))]

    assert [p.price for p in back] == prices
    assert all(isinstance(p.price, Decimal) for p in back)
    assert [p.fingerprint() for p in back] == [p.fingerprint() for p in products]


def test_invoice_lines_round_trip_as_json(backend: Backend) -> None:
    connection = backend.connect()
    invoice = Invoice(
        number="2024/17",
        date=date(2024, 5, 31),
        due_date=date(2024, 6, 30),
        company_id="12",
        total=Decimal("1220.50"),
        lines=[
            DocumentLine(
                description="Consulting", quantity=Decimal("2.5"), unit_price=Decimal("400.20")
            ),
            DocumentLine(
                description="Licence", unit_price=Decimal("219.999999"), vat_percent=Decimal("22")
            ),
        ],
    )
    native = connection.map_out("invoice", invoice)
    assert native["lines"][0]["quantity"] == "2.5"  # JSON-ready: Decimals as exact strings

    (result,) = connection.upsert("invoice", [UpsertItem(key="inv", record=native)])
    assert result.ok, result.error

    (stored,) = _records(list(connection.fetch("invoice")))
    back = connection.map_in("invoice", stored)
    assert back.lines == invoice.lines
    assert back.fingerprint() == invoice.fingerprint()
    assert stored == result.record


def test_fetch_pushes_down_ids_and_filters(backend: Backend) -> None:
    connection = backend.connect()
    created = _create(connection, 6)
    connection.upsert(
        "company",
        [
            UpsertItem(key="m", id=created[2].id, record={"city": "Milan"}),
            UpsertItem(key="p", id=created[3].id, record={"postal_code": "20100"}),
        ],
    )

    by_ids = _records(
        list(connection.fetch("company", query={"ids": [created[0].id, created[5].id, "x"]}))
    )
    assert sorted(r["id"] for r in by_ids) == sorted([created[0].id, created[5].id])

    milan = _records(
        list(connection.fetch("company", query={"filter": {"city": ["Milan", "Oslo"]}}))
    )
    assert [r["id"] for r in milan] == [created[2].id]
    none = _records(list(connection.fetch("company", query={"filter": {"city": []}})))
    assert none == []
    # a number from a TOML filter compares as text against a text field; None is IS NULL
    coded = _records(list(connection.fetch("company", query={"filter": {"postal_code": 20100}})))
    assert [r["id"] for r in coded] == [created[3].id]
    uncoded = {"postal_code": [None], "city": "Rome"}
    assert len(_records(list(connection.fetch("company", query={"filter": uncoded})))) == 4


def test_delete_reports_each_id(backend: Backend) -> None:
    connection = backend.connect()
    created = _create(connection, 3)
    results = connection.delete("company", [created[0].id or "", "999999"])
    assert [(r.key, r.ok) for r in results] == [(created[0].id, True), ("999999", False)]
    assert results[1].error == "no company with id 999999"
    assert backend.count(backend.table("company")) == 2


def test_check_reaches_the_database(backend: Backend) -> None:
    connection = backend.connect()
    result = connection.check()
    assert result.ok, result.reason
    assert result.details["dialect"] in {"sqlite", "postgresql", "mysql"}


def test_sectors_and_sales_data_have_tables_of_their_own(backend: Backend) -> None:
    """The default layout of seed 003's entities: created, written and read back exactly."""
    connection = backend.connect()
    sectors = [Sector(code="HOS", name="Hostelería"), Sector(name="Sin código")]
    made = connection.upsert(
        "sector",
        [
            UpsertItem(key=f"s{i}", record=connection.map_out("sector", s))
            for i, s in enumerate(sectors)
        ],
    )
    assert all(r.ok for r in made), [r.error for r in made]
    [company] = connection.upsert(
        "company",
        [
            UpsertItem(
                key="c",
                record=connection.map_out(
                    "company", Company(name="Hostal El Rincón", sector_id=made[0].id)
                ),
            )
        ],
    )
    statistics = SalesData(
        company_id=str(company.id),
        year=2026,
        sales_current=Decimal("61234.50"),
        sales_previous=Decimal("123456789012.123456"),
        pyramid_current=PyramidClass.A,
        pyramid_previous=None,
        statistics_date=date(2026, 12, 1),
    )
    [stats] = connection.upsert(
        "sales_data", [UpsertItem(key="d", record=connection.map_out("sales_data", statistics))]
    )
    assert stats.ok, stats.error

    read = {
        entity: [connection.map_in(entity, r) for r in _records(list(connection.fetch(entity)))]
        for entity in ("sector", "company", "sales_data")
    }
    assert [s.model_copy(update={"id": None, "updated_at": None}) for s in read["sector"]] == (
        sectors
    )
    assert [c.sector_id for c in read["company"]] == [made[0].id]
    [back] = read["sales_data"]
    assert back.model_copy(update={"id": None, "updated_at": None}) == statistics
    assert back.pyramid_current is PyramidClass.A

    inspector = sa.inspect(backend.engine)
    columns = {
        entity: {c["name"]: c for c in inspector.get_columns(backend.table(entity))}
        for entity in ("sector", "sales_data")
    }
    assert set(columns["sector"]) == {"id", "code", "name", "updated_at", "sync_key"}
    assert not columns["sector"]["name"]["nullable"] and columns["sector"]["code"]["nullable"]
    assert {"company_id", "year", "sales_current", "pyramid_current", "statistics_date"} <= set(
        columns["sales_data"]
    )
    assert not columns["sales_data"]["company_id"]["nullable"]
    assert isinstance(columns["sales_data"]["year"]["type"], sa.Integer)
    assert isinstance(columns["sales_data"]["statistics_date"]["type"], sa.Date)


def test_a_reference_in_an_integer_column_is_text_in_canonical_form(backend: Backend) -> None:
    """A management application's sales table keys its customer by an integer column."""
    table = backend.table("ventas")
    metadata = sa.MetaData()
    sa.Table(
        table,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("cliente", sa.Integer, nullable=False),
        sa.Column("anio", sa.Integer, nullable=False),
        sa.Column("modificado", sa.DateTime, nullable=False),
    )
    metadata.create_all(backend.engine)
    connection = backend.connect(
        key_column="",
        tables={"sales_data": table},
        columns={
            "sales_data": {
                "company_id": "cliente",
                "year": "anio",
                "updated_at": "modificado",
            }
        },
    )
    good = SalesData(company_id="42", year=2026)
    results = connection.upsert(
        "sales_data",
        [
            UpsertItem(key="good", record=connection.map_out("sales_data", good)),
            UpsertItem(key="bad", record={"company_id": "C-42", "year": 2026}),
        ],
    )
    assert results[0].ok, results[0].error
    assert results[1].error == (
        "cannot store sales_data: field 'company_id': 'C-42' is not a whole number "
        "(the column is an integer)"
    )
    with backend.engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT cliente, anio FROM {table}")).all() == [(42, 2026)]
    [back] = _records(list(connection.fetch("sales_data")))
    assert connection.map_in("sales_data", back).company_id == "42"
