"""Presets: a known application's tables and columns by name, overridable field by field."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

import syncbridge_sql.connector
from syncbridge.connection import Connection
from syncbridge.models import Company
from syncbridge.records import UpsertItem
from syncbridge_sql.presets import SZAMLAZZ_KONNYEN
from syncbridge_sql.settings import SqlSettings


def test_a_preset_gives_tables_and_columns_and_what_is_given_wins() -> None:
    settings = SqlSettings.model_validate(
        {
            "url": "sqlite:///x.db",
            "preset": "szamlazz-konnyen",
            "tables": {"company": "ugyfelek"},
            "columns": {"company": {"phone": "mobil"}},
        }
    )
    assert settings.tables == {"company": "ugyfelek"}
    assert settings.columns["company"]["phone"] == "mobil"
    assert settings.columns["company"]["name"] == "nev"
    assert settings.columns["company"]["external_id"] == "minicrm_id"
    assert settings.key_column == "sync_key"


def test_an_unknown_preset_is_named_with_the_known_ones() -> None:
    with pytest.raises(ValidationError) as raised:
        SqlSettings.model_validate({"url": "sqlite:///x.db", "preset": "szamlazz"})
    assert "unknown preset 'szamlazz'; presets are: szamlazz-konnyen" in str(raised.value)


def test_the_preset_schema_is_read_and_written_in_its_own_columns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'szkh.db'}"
    engine = sa.create_engine(url)
    SZAMLAZZ_KONNYEN.create(engine)
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO vevok (nev, adoszam, orszag, irsz, varos, cim, lev_varos, lev_cim, "
                "minicrm_id) VALUES ('Kovács Kft.', '12345676-2-41', 'HU', '1052', 'Budapest', "
                "'Váci utca 1.', 'Budapest', 'Pf. 12', '1234')"
            )
        )
    connection = Connection(
        "szkh", syncbridge_sql.connector, {"url": url, "preset": "szamlazz-konnyen"}
    )
    try:
        [record] = [r for page in connection.fetch("company") for r in page.records]
        company = connection.map_in("company", record)
        assert isinstance(company, Company)
        assert (company.name, company.tax_code, company.city, company.address) == (
            "Kovács Kft.", "12345676-2-41", "Budapest", "Váci utca 1.",
        )
        assert (company.mailing_city, company.mailing_address, company.external_id) == (
            "Budapest", "Pf. 12", "1234",
        )
        new = Company(name="Szabó Bt.", country="HU", city="Győr", address="Fő tér 2.")
        [result] = connection.upsert(
            "company", [UpsertItem(key="k1", record=connection.map_out("company", new))]
        )
        assert result.ok, result.error
    finally:
        connection.close()
    with engine.connect() as db:
        rows = db.execute(sa.text("SELECT nev, varos, cim, sync_key FROM vevok ORDER BY vevo_id"))
        assert [tuple(row) for row in rows] == [
            ("Kovács Kft.", "Budapest", "Váci utca 1.", None),
            ("Szabó Bt.", "Győr", "Fő tér 2.", "k1"),
        ]
    engine.dispose()
