"""The ``oficrm`` schema preset: OfiCRM's customer, sector and sales-data tables.

OfiCRM publishes no schema. The names below are what this connector assumes (each
assumption is numbered in the README); an installation that differs overrides them in the
connection's ``tables``/``columns``, entity by entity and field by field, exactly as with
the sql connector's presets (:mod:`syncbridge_sql.presets`).

:func:`create` builds the tables as OfiCRM would have them, with the names a connection's
settings give (so a renamed column is created renamed): the connector never creates tables
in OfiCRM's database, the stand-in database of the tests and demos does.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from syncbridge_sql.presets import Preset

__all__ = [
    "COLUMNS",
    "KEY_COLUMN",
    "OFICRM",
    "PRESETS",
    "TABLES",
    "create",
    "metadata",
    "preset_for",
]

#: entity -> OfiCRM table
TABLES: dict[str, str] = {
    "company": "clientes",
    "sector": "sectores",
    "sales_data": "clientes_datos_ventas",
}

#: entity -> {field -> OfiCRM column}
COLUMNS: dict[str, dict[str, str]] = {
    "company": {
        "id": "id_cliente",
        "external_id": "codigo",
        "name": "nombre",
        "tax_code": "cif_nif",
        "address": "direccion",
        "postal_code": "cod_postal",
        "city": "poblacion",
        "province": "provincia",
        "country": "pais",
        "phone": "telefono",
        "email": "email",
        "website": "web",
        "notes": "observaciones",
        "sector_id": "id_sector",
        "updated_at": "fecha_modificacion",
    },
    "sector": {
        "id": "id_sector",
        "code": "codigo",
        "name": "descripcion",
        "updated_at": "fecha_modificacion",
    },
    "sales_data": {
        "id": "id_datos_ventas",
        "company_id": "id_cliente",
        "year": "ejercicio",
        "sales_current": "ventas_actual",
        "sales_previous": "ventas_anterior",
        "pyramid_current": "piramide_actual",
        "pyramid_previous": "piramide_anterior",
        "statistics_date": "fecha_estadistica",
        "updated_at": "fecha_modificacion",
    },
}

#: where OfiCRM leaves room for the engine's idempotency keys (assumption 7)
KEY_COLUMN = "sync_key"

#: the preset in the sql connector's terms; its tables are created by :func:`create`, which
#: knows their types and keys, rather than by ``Preset.create`` (text columns only)
OFICRM = Preset(
    name="oficrm",
    title="OfiCRM customers (clientes), sectors (sectores) and sales data",
    tables=dict(TABLES),
    columns={entity: dict(mapping) for entity, mapping in COLUMNS.items()},
    key_column=KEY_COLUMN,
)

PRESETS: dict[str, Preset] = {OFICRM.name: OFICRM}


def preset_for(name: str) -> Preset:
    """The preset called ``name``; a ValueError listing the known ones otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown preset {name!r}; OfiCRM presets are: {', '.join(sorted(PRESETS))}"
        ) from None


_TYPES: dict[str, dict[str, sa.types.TypeEngine[Any]]] = {
    "company": {
        "external_id": sa.String(20),
        "name": sa.String(200),
        "tax_code": sa.String(20),
        "address": sa.String(250),
        "postal_code": sa.String(10),
        "city": sa.String(100),
        "province": sa.String(100),
        "country": sa.String(2),
        "phone": sa.String(40),
        "email": sa.String(200),
        "website": sa.String(200),
        "notes": sa.Text(),
    },
    "sector": {"code": sa.String(20), "name": sa.String(100)},
    "sales_data": {
        "year": sa.Integer(),
        "sales_current": sa.Numeric(18, 2),
        "sales_previous": sa.Numeric(18, 2),
        "pyramid_current": sa.String(1),
        "pyramid_previous": sa.String(1),
        "statistics_date": sa.Date(),
    },
}


#: references, created as foreign keys (integer columns) rather than from _TYPES
_FOREIGN_KEYS = frozenset({("company", "sector_id"), ("sales_data", "company_id")})


def _stamp(name: str) -> sa.Column[Any]:
    # DATETIME(6) on MariaDB: whole seconds would make every read re-read the last second
    kind = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    return sa.Column(
        name, kind, nullable=False, server_default=sa.func.current_timestamp(), index=True
    )


def metadata(
    tables: dict[str, str] | None = None,
    columns: dict[str, dict[str, str]] | None = None,
    key_column: str | None = KEY_COLUMN,
) -> sa.MetaData:
    """OfiCRM's three tables under the given names (default: the preset's)."""
    tables = {**TABLES, **(tables or {})}
    given = columns or {}
    names = {entity: {**COLUMNS[entity], **given.get(entity, {})} for entity in COLUMNS}
    meta = sa.MetaData()

    def table(entity: str, *extra: Any) -> sa.Table:
        mapping = names[entity]
        cols: list[Any] = [sa.Column(mapping["id"], sa.Integer, primary_key=True)]
        for field, column in mapping.items():
            if field in ("id", "updated_at") or (entity, field) in _FOREIGN_KEYS:
                continue
            required = (entity, field) in {("company", "name"), ("sector", "name")}
            cols.append(sa.Column(column, _TYPES[entity][field], nullable=not required))
        cols.append(_stamp(mapping["updated_at"]))
        if key_column:
            cols.append(sa.Column(key_column, sa.String(200), unique=True))
        return sa.Table(tables[entity], meta, *cols, *extra, sqlite_autoincrement=True)

    sectors = table("sector")
    sector_id = names["sector"]["id"]
    table(
        "company",
        sa.Column(
            names["company"]["sector_id"],
            sa.Integer,
            sa.ForeignKey(f"{sectors.name}.{sector_id}"),
        ),
    )
    customer_id = f"{tables['company']}.{names['company']['id']}"
    table(
        "sales_data",
        # one row of sales data per customer (assumption 10)
        sa.Column(
            names["sales_data"]["company_id"],
            sa.Integer,
            sa.ForeignKey(customer_id),
            nullable=False,
            unique=True,
        ),
    )
    return meta


def create(engine: sa.Engine, **names: Any) -> sa.MetaData:
    """Create OfiCRM's tables (those missing) in ``engine``; ``names`` as for :func:`metadata`."""
    meta = metadata(**names)
    meta.create_all(engine, checkfirst=True)
    return meta
