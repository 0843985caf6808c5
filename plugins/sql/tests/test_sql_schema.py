"""Mapping an existing schema: a management application's CUSTOMERS table, on every backend."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from syncbridge.connection import Connection
from syncbridge.errors import ConnectorError
from syncbridge.models import Company
from syncbridge.records import UpsertItem

if TYPE_CHECKING:
    from conftest import Backend


def _customers(backend: Backend) -> tuple[str, sa.Table]:
    """CUSTOMERS as an invoicing program would have it, with three rows of its own."""
    name = backend.table("CUSTOMERS")
    table = sa.Table(
        name,
        sa.MetaData(),
        sa.Column("CUST_NO", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("CUST_NAME", sa.String(80), nullable=False),
        sa.Column("TOWN", sa.String(40), nullable=False),
        sa.Column("CREDIT_LIMIT", sa.Numeric(12, 2)),
        # naive, and on MariaDB whole seconds: DATETIME without fractional digits
        sa.Column("MODIFIED", sa.DateTime),
    )
    table.create(backend.engine)
    with backend.engine.begin() as conn:
        conn.execute(
            table.insert(),
            [
                {
                    "CUST_NAME": "Rossi SpA",
                    "TOWN": "Rome",
                    "CREDIT_LIMIT": Decimal("1000.00"),
                    "MODIFIED": datetime(2024, 1, 10, 9, 30),
                },
                {
                    "CUST_NAME": "Bianchi Srl",
                    "TOWN": "Turin",
                    "CREDIT_LIMIT": None,
                    "MODIFIED": None,
                },
                {
                    "CUST_NAME": "Verdi & C.",
                    "TOWN": "Naples",
                    "CREDIT_LIMIT": Decimal("50.00"),
                    "MODIFIED": datetime(2024, 2, 1, 16, 0),
                },
            ],
        )
    return name, table


COLUMNS = {"id": "CUST_NO", "updated_at": "MODIFIED", "name": "CUST_NAME", "city": "TOWN"}


def _connect(backend: Backend, name: str, **overrides: Any) -> Connection:
    settings: dict[str, Any] = {"columns": {"company": COLUMNS}, "key_column": ""}
    settings.update(overrides)
    return backend.connect(tables={"company": name}, **settings)


def _row(backend: Backend, table: sa.Table, cust_no: int) -> dict[str, Any]:
    with backend.engine.connect() as conn:
        row = conn.execute(sa.select(table).where(cust_no == table.c.CUST_NO)).mappings().one()
        return dict(row)


def test_reads_only_the_mapped_columns(backend: Backend) -> None:
    name, _ = _customers(backend)
    connection = _connect(backend, name)

    records = [r for page in connection.fetch("company") for r in page.records]

    assert sorted(r["id"] for r in records) == ["1", "2", "3"]
    assert all(set(r) == {"id", "updated_at", "name", "city"} for r in records)
    rossi = connection.map_in("company", next(r for r in records if r["id"] == "1"))
    assert (rossi.name, rossi.city, rossi.email) == ("Rossi SpA", "Rome", None)
    assert rossi.updated_at is not None and rossi.updated_at.tzinfo is not None
    unstamped = next(r for r in records if r["id"] == "2")
    assert unstamped["updated_at"] is None


def test_writes_only_the_mapped_columns(backend: Backend) -> None:
    name, table = _customers(backend)
    connection = _connect(backend, name)
    company = Company(name="Neri Sas", city="Bari", email="info@neri.example", country="IT")

    (created,) = connection.upsert(
        "company", [UpsertItem(key="k", record=connection.map_out("company", company))]
    )
    assert created.ok, created.error
    assert created.record is not None and set(created.record) == {
        "id",
        "updated_at",
        "name",
        "city",
    }
    row = _row(backend, table, int(created.id or 0))
    assert (row["CUST_NAME"], row["TOWN"], row["CREDIT_LIMIT"]) == ("Neri Sas", "Bari", None)
    assert row["MODIFIED"] is not None

    (updated,) = connection.upsert(
        "company",
        [
            UpsertItem(
                key="u",
                id="1",
                record={"name": "ignored", "city": "Ostia"},
                changed=frozenset({"city"}),
            )
        ],
    )
    assert updated.ok, updated.error
    row = _row(backend, table, 1)
    assert (row["CUST_NAME"], row["TOWN"], row["CREDIT_LIMIT"]) == ("Rossi SpA", "Ostia", 1000)


def test_not_null_violations_fail_alone(backend: Backend) -> None:
    name, _ = _customers(backend)
    connection = _connect(backend, name)
    bad = {2, 7}
    items = [
        UpsertItem(key=f"k{i}", record={"name": f"C{i}", "city": None if i in bad else "Pisa"})
        for i in range(10)
    ]

    results = connection.upsert("company", items)

    assert [i for i, r in enumerate(results) if not r.ok] == sorted(bad)
    assert all("TOWN" in (results[i].error or "") for i in bad)
    assert backend.count(name) == 3 + 8
    stored = [r for page in connection.fetch("company") for r in page.records]
    assert {r["name"] for r in stored} >= {f"C{i}" for i in range(10) if i not in bad}


def test_incremental_read_on_an_application_table(backend: Backend) -> None:
    name, _ = _customers(backend)
    connection = _connect(backend, name)
    cursor = list(connection.fetch("company"))[-1].cursor
    assert cursor is not None and cursor.startswith("2024-02-01T16:00:00")

    connection.upsert("company", [UpsertItem(key="u", id="1", record={"city": "Ostia"})])
    changed = {r["id"] for page in connection.fetch("company", since=cursor) for r in page.records}

    # row 2 has no MODIFIED: its change time is unknown, so it is read every time. Row 3
    # (the cursor's own row, in a second long past) is not read again, also where MariaDB's
    # DATETIME keeps whole seconds: the cursor is the keyset (MODIFIED, CUST_NO)
    assert changed == {"1", "2"}


def test_column_names_match_case_insensitively(backend: Backend) -> None:
    name, _ = _customers(backend)
    lower = {field: column.lower() for field, column in COLUMNS.items()}
    connection = _connect(backend, name.lower(), columns={"company": lower})
    assert len([r for page in connection.fetch("company") for r in page.records]) == 3


def test_creates_need_the_key_column_or_an_explicit_opt_out(backend: Backend) -> None:
    name, _ = _customers(backend)
    connection = _connect(backend, name, key_column="sync_key")
    item = UpsertItem(key="k", record={"name": "Gialli", "city": "Lecce"})

    with pytest.raises(ConnectorError, match=r"no key column 'sync_key'.*key_column"):
        connection.upsert("company", [item])

    opted_out = _connect(backend, name)
    assert opted_out.upsert("company", [item])[0].ok
    assert opted_out.lookup("company", ["k"]) == {}


def test_misnamed_columns_and_tables_are_reported(backend: Backend) -> None:
    name, _ = _customers(backend)
    wrong = _connect(backend, name, columns={"company": {**COLUMNS, "city": "CITY"}})
    with pytest.raises(ConnectorError, match=r"no column 'CITY'.*CUST_NO"):
        list(wrong.fetch("company"))
    result = wrong.check()
    assert not result.ok and "CITY" in result.reason

    missing = _connect(backend, backend.table("NO_SUCH_TABLE"))
    with pytest.raises(ConnectorError, match="does not exist"):
        list(missing.fetch("company"))
    assert "missing" in missing.check().reason
