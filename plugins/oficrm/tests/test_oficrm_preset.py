"""The oficrm preset: its names, overriding them (a renamed column), and settings errors."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

import syncbridge_oficrm.connector
from syncbridge.connection import Connection
from syncbridge.describe import Capability
from syncbridge.errors import ConfigError
from syncbridge.models import SalesData
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from syncbridge_oficrm.settings import OficrmSettings

if TYPE_CHECKING:
    from conftest import OfiDb


def test_the_connector_is_found_and_declares_its_three_entities() -> None:
    assert load_connector("oficrm") is syncbridge_oficrm.connector
    info = Connection("crm", syncbridge_oficrm.connector, {"url": "sqlite://"}).info
    assert (info.name, info.uses_http, info.settings) == ("oficrm", False, OficrmSettings)
    # canonical entities, so sync lines can name them and the engine schedules them
    assert list(info.entities) == ["sector", "company", "sales_data"]
    assert {name: entity.source for name, entity in info.entities.items()} == {
        "sector": "sectores",
        "company": "clientes",
        "sales_data": "clientes_datos_ventas",
    }
    for entity in info.entities.values():
        assert Capability.DELETE not in entity.capabilities
        assert {Capability.IDEMPOTENT_CREATE, Capability.LOOKUP} <= entity.capabilities
    assert info.entity("sector").fields == frozenset({"code", "name"})
    assert info.entity("sales_data").fields == frozenset(SalesData.model_fields) - {
        "id",
        "updated_at",
    }
    company = info.entity("company")
    assert company.fields == frozenset(
        {
            "external_id",
            "name",
            "tax_code",
            "address",
            "postal_code",
            "city",
            "province",
            "country",
            "phone",
            "email",
            "website",
            "notes",
            "sector_id",
        }
    )
    with pytest.raises(KeyError, match="oficrm does not support 'invoice'"):
        info.entity("invoice")


def test_the_preset_is_the_default_and_given_names_win() -> None:
    settings = OficrmSettings.model_validate(
        {"url": "sqlite://", "columns": {"sales_data": {"sales_current": "ventas_ejercicio"}}}
    )
    assert settings.preset == "oficrm" and settings.key_column == "sync_key"
    assert settings.table_name("company") == "clientes"
    assert settings.columns["sales_data"]["sales_current"] == "ventas_ejercicio"
    assert settings.columns["sales_data"]["sales_previous"] == "ventas_anterior"
    assert settings.columns["company"]["tax_code"] == "cif_nif"
    assert settings.create_tables is False


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"columns": {"sales_data": {"ventas": "v"}}},
            "columns.sales_data: 'ventas' is not a "
            "sales_data field; fields are id, updated_at, company_id, pyramid_current",
        ),
        (
            {"tables": {"invoice": "facturas"}},
            "tables: unknown entity 'invoice'; entities are: sector, company, sales_data",
        ),
        ({"preset": "ofigest"}, "unknown preset 'ofigest'; OfiCRM presets are: oficrm"),
        ({"default_country": "Spain"}, "'Spain' is not an ISO country code"),
    ],
)
def test_settings_errors_name_the_key_and_the_fix(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match="connections\\.crm\\.settings") as raised:
        Connection("crm", syncbridge_oficrm.connector, {"url": "sqlite://", **raw})
    assert message in str(raised.value)


def test_a_renamed_column_is_read_and_written(ofidb: OfiDb) -> None:
    renamed = {
        "columns": {
            "company": {"phone": "movil"},
            "sales_data": {"sales_current": "ventas_ejercicio"},
        }
    }
    crm = ofidb.connect(ofidb.seed(records=2, **renamed))
    [first, *_] = [crm.map_in("sales_data", r) for p in crm.fetch("sales_data") for r in p.records]
    assert isinstance(first, SalesData) and first.sales_current is not None
    stored = ofidb.rows(
        "SELECT ventas_ejercicio FROM clientes_datos_ventas_{s} "
        f"WHERE id_datos_ventas = {first.id}"
    )
    assert Decimal(str(stored[0][0])) == first.sales_current

    update = first.model_copy(update={"sales_current": Decimal("123.45")})
    [result] = crm.upsert(
        "sales_data",
        [
            UpsertItem(
                key="u",
                id=first.id,
                record=crm.map_out("sales_data", update),
                changed=frozenset({"sales_current"}),
            )
        ],
    )
    assert result.ok, result.error
    [(now,)] = ofidb.rows(
        "SELECT ventas_ejercicio FROM clientes_datos_ventas_{s} "
        f"WHERE id_datos_ventas = {first.id}"
    )
    assert Decimal(str(now)) == Decimal("123.45")
    phones = [r["phone"] for p in crm.fetch("company") for r in p.records]
    assert ofidb.rows("SELECT movil FROM clientes_{s} ORDER BY id_cliente") == [
        (p,) for p in phones
    ]


def test_check_names_a_column_the_installation_does_not_have(ofidb: OfiDb) -> None:
    settings = ofidb.seed(records=1)
    settings["columns"] = {"sector": {"name": "nombre_sector"}}
    result = ofidb.connect(settings).check()
    assert not result.ok
    assert (
        f"table sectores_{ofidb.suffix} has no column 'nombre_sector' for sector field "
        "'name'; its columns are: id_sector, codigo, descripcion" in result.reason
    )
