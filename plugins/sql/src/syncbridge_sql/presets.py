"""Presets: the tables and columns of a known application's database, by name.

A connection says ``preset = "szamlazz-konnyen"`` instead of spelling out ``tables`` and
``columns``; whatever it does spell out still wins, entity by entity and field by field, so a
preset is a starting point for a schema that differs a little (a renamed column, a field more).

A preset also knows its own tables' DDL (:meth:`Preset.create`): the application owns its
database and the connector never creates a mapped table, but the demos and tests stand in for
the application and need one.

Every preset is an assumption about a schema nobody publishes: each is listed, with what it
assumes, in the connector's README.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

__all__ = ["PRESETS", "Preset", "preset_for"]


@dataclass(frozen=True)
class Preset:
    """A known database layout: entity -> table, entity -> {canonical field -> column}."""

    name: str
    title: str
    tables: dict[str, str]
    columns: dict[str, dict[str, str]]
    #: column -> SQL type, for :meth:`create` (default: text)
    types: dict[str, sa.types.TypeEngine[Any]] = field(default_factory=dict)
    #: the column holding the engine's idempotency keys (None: the schema has none)
    key_column: str | None = None

    def metadata(self) -> sa.MetaData:
        """The preset's tables, as the application would have created them."""
        metadata = sa.MetaData()
        for entity, table in self.tables.items():
            mapping = self.columns[entity]
            id_column = mapping.get("id", "id")
            stamp = mapping.get("updated_at", "updated_at")
            columns: list[sa.Column[Any]] = [
                sa.Column(id_column, sa.Integer, primary_key=True, autoincrement=True)
            ]
            for name, column in mapping.items():
                if name in ("id", "updated_at"):
                    continue
                columns.append(sa.Column(column, self.types.get(column, sa.Text), nullable=True))
            columns.append(
                sa.Column(
                    stamp,
                    sa.DateTime(),
                    nullable=False,
                    server_default=sa.func.current_timestamp(),
                    index=True,
                )
            )
            if self.key_column:
                columns.append(sa.Column(self.key_column, sa.String(200), unique=True))
            sa.Table(table, metadata, *columns, sqlite_autoincrement=True)
        return metadata

    def create(self, engine: sa.Engine) -> None:
        """Create the preset's tables that do not exist yet."""
        self.metadata().create_all(engine, checkfirst=True)


#: Számlázz.könnyen (SZKH), a small Hungarian invoicing application: its customers ("vevők").
#: It publishes no schema; the names are the application's Hungarian terms (see the README).
SZAMLAZZ_KONNYEN = Preset(
    name="szamlazz-konnyen",
    title="Számlázz.könnyen customers (vevők)",
    tables={"company": "vevok"},
    columns={
        "company": {
            "id": "vevo_id",
            "name": "nev",
            "tax_code": "adoszam",
            "vat_number": "eu_adoszam",
            "country": "orszag",
            "postal_code": "irsz",
            "city": "varos",
            "address": "cim",
            "mailing_postal_code": "lev_irsz",
            "mailing_city": "lev_varos",
            "mailing_address": "lev_cim",
            "email": "email",
            "phone": "telefon",
            "external_id": "minicrm_id",
            "updated_at": "modositva",
        }
    },
    types={"orszag": sa.String(2)},
    key_column="sync_key",
)

PRESETS: dict[str, Preset] = {preset.name: preset for preset in (SZAMLAZZ_KONNYEN,)}


def preset_for(name: str) -> Preset:
    """The preset called ``name``; a ValueError listing the known ones otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown preset {name!r}; presets are: {', '.join(sorted(PRESETS))}"
        ) from None
