"""The connection's database: the sql connector's, plus the plugin's own entities' tables.

Customers (``company``) are reflected by the sql connector itself
(:func:`syncbridge_sql.schema.reflect`). ``sector`` and ``sales_data`` have no canonical
model, which is what that function keys its field kinds on, so their
:class:`~syncbridge_sql.schema.TableMap` is built here from the same parts (column
lookup, converters per real column type, the timestamp column's reader and step). With
their TableMap in place, the sql connector's keyset reads serve them unchanged.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from syncbridge.errors import ConnectorError
from syncbridge.rest.instants import TICK
from syncbridge_oficrm.extras import EXTRA_SPECS
from syncbridge_oficrm.settings import OficrmSettings
from syncbridge_sql.database import Database
from syncbridge_sql.mapping import Kind, converters
from syncbridge_sql.schema import ColumnMap, TableMap, find_table
from syncbridge_sql.timestamps import StampColumn, stamp_converters, stamp_kind, stamp_step

__all__ = ["OficrmDatabase"]


def _column(table: sa.Table, entity: str, wanted: str, what: str) -> sa.Column[Any]:
    names = [column.name for column in table.columns]
    found = [name for name in names if name == wanted] or [
        name for name in names if name.lower() == wanted.lower()
    ]
    if len(found) != 1:
        raise ConnectorError(
            f"table {table.fullname} has no column {wanted!r} for {entity} {what}; "
            f"its columns are: {', '.join(names)}"
        )
    return table.c[found[0]]


def reflect_extra(engine: sa.Engine, settings: OficrmSettings, entity: str) -> TableMap:
    """The TableMap of a plugin entity: every field of the (merged) preset mapping."""
    name = settings.table_name(entity)
    real = find_table(engine, name, settings.db_schema)
    if real is None:
        raise ConnectorError(
            f"table {name} ({entity}) does not exist in the OfiCRM database; name the right "
            f"table in tables.{entity}"
        )
    table = sa.Table(real, sa.MetaData(), autoload_with=engine, schema=settings.db_schema)
    mapping = settings.columns[entity]
    id_column = _column(table, entity, mapping["id"], "id")
    updated_at = _column(table, entity, mapping["updated_at"], "updated_at")
    zone = settings.zone
    to_db, from_db = stamp_converters(updated_at.type, zone)
    step = stamp_step(updated_at.type)
    stamp = StampColumn(
        column=updated_at,
        kind=stamp_kind(updated_at.type, engine.dialect.name),
        reader=from_db,
        step=step,
    )
    fields: dict[str, ColumnMap] = {}
    for field, spec in EXTRA_SPECS[entity].items():
        if field not in mapping:
            continue
        column = _column(table, entity, mapping[field], f"field {field!r}")
        writer, reader = converters(spec.kind, column.type, zone)
        if isinstance(column.type, sa.Integer) and spec.kind is Kind.TEXT:
            writer = int  # a reference (the customer's id) kept as text in canonical form
        fields[field] = ColumnMap(field, spec, column, writer, reader)
    key = None
    key_problem = None
    if settings.key_column is not None:
        try:
            key = _column(table, entity, settings.key_column, "key column")
        except ConnectorError as error:
            key_problem = f'{error}; or set key_column = ""'
    return TableMap(
        entity=entity,
        table=table,
        id=id_column,
        parse_id=int if isinstance(id_column.type, sa.Integer) else str,
        updated_at=updated_at,
        stamp_to_db=to_db,
        stamp_from_db=from_db,
        stamp_step=max(step, TICK),
        stamp=stamp,
        key=key,
        key_problem=key_problem,
        fields=fields,
        custom=True,
    )


class OficrmDatabase(Database):
    """:class:`Database` whose :meth:`table` also knows ``sector`` and ``sales_data``."""

    settings: OficrmSettings

    def __init__(self, settings: OficrmSettings) -> None:
        super().__init__(settings)
        self._extra: dict[str, TableMap] = {}

    def table(self, entity: str) -> TableMap:
        if entity not in EXTRA_SPECS:
            return super().table(entity)
        found = self._extra.get(entity)
        if found is None:
            try:
                found = reflect_extra(self.engine, self.settings, entity)
            except sa.exc.SQLAlchemyError as error:
                raise self.error(f"cannot open the {entity} table", error) from None
            self._extra[entity] = found
        return found
