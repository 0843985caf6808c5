"""What the sql connector declares, its settings, and the parts that need no server."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import pydantic
import pytest
import sqlalchemy as sa

import syncbridge_sql.connector
from syncbridge.connection import Connection
from syncbridge.describe import Capability
from syncbridge.errors import ConfigError
from syncbridge.models import MODELS, Company, DocumentLine, Order, Payment
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from syncbridge_sql.database import Database
from syncbridge_sql.settings import SqlSettings

if TYPE_CHECKING:
    from conftest import Backend

SECRET_URL = "postgresql+psycopg://syncuser:s3cr3t-pw@127.0.0.1:1/erp"


def test_is_found_by_name_and_describes_every_entity() -> None:
    assert load_connector("sql") is syncbridge_sql.connector
    connection = Connection("db", syncbridge_sql.connector, {"url": "sqlite://"})
    info = connection.info

    assert (info.name, info.uses_http, info.max_concurrency, info.rate_limits) == (
        "sql",
        False,
        1,
        (),
    )
    assert info.settings is SqlSettings
    assert info.version != "0"
    assert set(info.entities) == set(MODELS)
    company = info.entity("company")
    assert company.capabilities == frozenset(Capability)
    assert (company.batch_size, company.page_size) == (500, 1000)


def test_the_password_never_shows() -> None:
    settings = SqlSettings(url=SECRET_URL)
    for text in (repr(settings), str(settings), settings.model_dump_json(), settings.safe_url):
        assert "s3cr3t" not in text
    assert "syncuser:***@127.0.0.1:1/erp" in repr(settings)

    with pytest.raises(pydantic.ValidationError) as caught:
        SqlSettings(url="postgresql://syncuser:s3cr3t-pw@db:not-a-port/erp")
    assert "s3cr3t" not in str(caught.value)


def test_settings_errors_name_the_key() -> None:
    with pytest.raises(
        ConfigError, match=r"connections\.db\.settings\.url: .*not an SQLAlchemy URL"
    ):
        Connection("db", syncbridge_sql.connector, {"url": "not a url"})
    with pytest.raises(ConfigError, match="'town' is not a company field"):
        Connection(
            "db",
            syncbridge_sql.connector,
            {"url": "sqlite://", "columns": {"company": {"town": "TOWN"}}},
        )
    with pytest.raises(ConfigError, match="unknown entity 'customer'"):
        Connection(
            "db", syncbridge_sql.connector, {"url": "sqlite://", "tables": {"customer": "C"}}
        )


def test_a_failing_check_names_the_problem_without_the_password() -> None:
    with Connection("erp", syncbridge_sql.connector, {"url": SECRET_URL}) as connection:
        result = connection.check()

    assert not result.ok
    assert result.reason.startswith(
        "cannot connect to postgresql+psycopg://syncuser:***@127.0.0.1:1/erp: "
    )
    assert "refused" in result.reason.lower()
    assert result.account == "postgresql+psycopg://syncuser:***@127.0.0.1:1/erp"
    assert "s3cr3t" not in f"{result.reason} {result.account} {result.details}"


def test_driver_messages_are_scrubbed() -> None:
    database = Database(SqlSettings(url=SECRET_URL))
    error = sa.exc.OperationalError("SELECT 1", {}, Exception(f"auth failed for {SECRET_URL}"))
    assert database.message(error) == "auth failed for ***"
    assert "s3cr3t" not in database.message(Exception("password s3cr3t-pw rejected"))


def test_map_round_trips_canonical_records() -> None:
    connection = Connection("db", syncbridge_sql.connector, {"url": "sqlite://"})
    records = {
        "company": Company(name="Acme", country="IT", vat_number="IT00743110157"),
        "order": Order(
            date=date(2024, 3, 1),
            company_id="4",
            lines=[
                DocumentLine(description="Box", quantity=Decimal("3"), unit_price=Decimal("9.99"))
            ],
        ),
        "payment": Payment(amount=Decimal("10.50"), date=date(2024, 3, 2), invoice_id="9"),
    }
    for entity, record in records.items():
        native = connection.map_out(entity, record)
        assert "id" not in native and "updated_at" not in native
        assert connection.map_in(entity, {**native, "id": "7"}) == record.model_copy(
            update={"id": "7"}
        )


def test_map_in_lets_validation_errors_through() -> None:
    connection = Connection("db", syncbridge_sql.connector, {"url": "sqlite://"})
    with pytest.raises(pydantic.ValidationError, match="country"):
        connection.map_in("company", {"id": "1", "name": "Acme", "country": "Narnia"})


def test_default_tables_have_the_documented_layout(sqlite: Backend) -> None:
    connection = sqlite.connect()
    connection.upsert(
        "invoice", [UpsertItem(key="k", record={"date": date(2024, 1, 1), "company_id": "1"})]
    )

    inspector = sa.inspect(sqlite.engine)
    table = sqlite.table("invoice")
    columns = {column["name"]: column for column in inspector.get_columns(table)}
    assert {"id", "updated_at", "sync_key", "number", "lines", "total", "due_date"} <= set(columns)
    assert not columns["updated_at"]["nullable"]
    assert isinstance(columns["lines"]["type"], sa.JSON)
    # SQLite's NUMERIC would store floats: exact decimals are kept as text
    assert isinstance(columns["total"]["type"], sa.String)
    indexed = {tuple(index["column_names"]) for index in inspector.get_indexes(table)}
    unique = {tuple(c["column_names"]) for c in inspector.get_unique_constraints(table)}
    assert ("updated_at",) in indexed
    assert ("sync_key",) in unique | indexed


def test_create_tables_false_refuses_to_create(sqlite: Backend) -> None:
    connection = sqlite.connect(create_tables=False)
    with pytest.raises(Exception, match="does not exist; create it or set create_tables = true"):
        list(connection.fetch("unit"))


def test_lookback_rereads_recent_changes(sqlite: Backend) -> None:
    connection = sqlite.connect(lookback_seconds=3600)
    connection.upsert("unit", [UpsertItem(key=f"u{i}", record={"name": f"u{i}"}) for i in range(3)])
    cursor = list(connection.fetch("unit"))[-1].cursor
    again = [r for page in connection.fetch("unit", since=cursor) for r in page.records]
    assert len(again) == 3
