"""Tables and columns: the default layout, and how any table maps onto an entity.

Every table is *reflected* from the database before use, including the ones this connector
creates, so there is one code path: the columns that exist decide what is read and written,
and each column's real type decides how values are converted (see
:func:`syncbridge_sql.mapping.converters`).

Default layout of an entity's table (named after the entity)::

    id          integer, autoincrement primary key (native id; a string in canonical form)
    <field>...  one column per canonical field, named after it
    updated_at  timestamp with microseconds, NOT NULL, indexed (on SQLite also a partial
                index of the values in another layout than the connector's own)
    sync_key    the engine's idempotency key of the create, unique, nullable

Decimals are NUMERIC(18, places) on servers; on SQLite, whose NUMERIC affinity silently turns
values into 64-bit floats, they are stored as exact text (``"12.3456"``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from syncbridge.errors import ConnectorError
from syncbridge.records import NativeRecord
from syncbridge.rest.instants import TICK
from syncbridge_sql.mapping import Converter, FieldSpec, Kind, converters, field_specs
from syncbridge_sql.settings import SqlSettings
from syncbridge_sql.timestamps import (
    FAMILIES,
    StampColumn,
    stamp_converters,
    stamp_kind,
    stamp_step,
)

#: free-text fields that may be long: TEXT rather than VARCHAR(255)
LONG_TEXT_FIELDS = frozenset({"notes", "description", "address", "mailing_address", "subject"})
ID = "id"
UPDATED_AT = "updated_at"


# -- the default layout ---------------------------------------------------------------------
def timestamp_type() -> sa.types.TypeEngine[Any]:
    """UTC timestamp with microseconds everywhere (MySQL/MariaDB default to whole seconds)."""
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _column_type(spec: FieldSpec) -> sa.types.TypeEngine[Any]:
    if spec.kind is Kind.DECIMAL:
        places = 6 if spec.decimal_places is None else spec.decimal_places
        numeric = sa.Numeric(spec.max_digits or 18, places, asdecimal=True)
        return numeric.with_variant(sa.String(48), "sqlite")
    if spec.kind is Kind.TEXT:
        return sa.Text() if spec.name in LONG_TEXT_FIELDS else sa.String(255)
    simple: dict[Kind, sa.types.TypeEngine[Any]] = {
        Kind.DATE: sa.Date(),
        Kind.DATETIME: timestamp_type(),
        Kind.BOOL: sa.Boolean(),
        Kind.INT: sa.BigInteger(),
        Kind.ENUM: sa.String(64),
        Kind.JSON: sa.JSON(),
    }
    return simple[spec.kind]


def _index_name(table: str, suffix: str) -> str:
    """Index names within the 63-character limit of PostgreSQL (64 on MySQL)."""
    name = f"ix_{table}_{suffix}"
    if len(name) <= 60:
        return name
    digest = hashlib.sha1(table.encode()).hexdigest()[:12]
    return f"ix_{table[:20]}_{digest}_{suffix}"


def default_table(
    metadata: sa.MetaData,
    entity: str,
    name: str,
    key_column: str | None,
    schema: str | None,
    dialect: str | None = None,
) -> sa.Table:
    """The table the connector creates for ``entity`` when none exists (on ``dialect``)."""
    specs = field_specs(entity)
    if key_column is not None and key_column in {*specs, ID, UPDATED_AT}:
        raise ConnectorError(
            f"key_column {key_column!r} collides with the {entity} field of that name; "
            "choose another column name for the idempotency key"
        )
    columns: list[sa.Column[Any]] = [
        sa.Column(
            ID,
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        *(
            sa.Column(spec.name, _column_type(spec), nullable=spec.nullable)
            for spec in specs.values()
        ),
        sa.Column(UPDATED_AT, timestamp_type(), nullable=False),
    ]
    if key_column is not None:
        # case-sensitive on MySQL/MariaDB too, whose default collations would take keys
        # differing only in case for the same key
        key_type = sa.String(255).with_variant(
            mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql", "mariadb"
        )
        columns.append(sa.Column(key_column, key_type, nullable=True, unique=True))
    # AUTOINCREMENT on SQLite: without it a new row takes the id of a deleted last row, and
    # to a sync that is the deleted record come back (restored), not a new one
    table = sa.Table(name, metadata, *columns, schema=schema, sqlite_autoincrement=True)
    # on updated_at alone, not (updated_at, id): with a composite index and no statistics
    # yet (a freshly loaded table), PostgreSQL finds "WHERE id = 5" by scanning the whole
    # composite index, making a bulk update quadratic. Order by (updated_at, id) still
    # comes from this index: InnoDB and SQLite append the primary key to every index entry,
    # PostgreSQL sorts the rare ties incrementally.
    sa.Index(_index_name(name, UPDATED_AT), table.c[UPDATED_AT])
    if dialect == "sqlite":
        # the timestamps not in the layout the connector writes (another program's ISO text
        # with an offset, unix times): usually none, so the look an incremental read takes
        # for such a text sorting below its cursor (syncbridge_sql.ordering._late_below)
        # costs an empty range of this index instead of a scan of the recent rows
        column = table.c[UPDATED_AT]
        sa.Index(
            _index_name(name, f"{UPDATED_AT}_other"),
            column,
            sqlite_where=sa.not_(FAMILIES[0].shape(column)),
        )
    return table


# -- an entity's table, as reflected ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ColumnMap:
    """One canonical field stored in one column."""

    field: str
    spec: FieldSpec
    column: sa.Column[Any]
    to_db: Converter | None
    from_db: Converter | None

    def to_db_value(self, value: Any) -> Any:
        return value if value is None or self.to_db is None else self.to_db(value)


@dataclass(frozen=True)
class TableMap:
    """How one entity is read from and written to its table."""

    entity: str
    table: sa.Table
    id: sa.Column[Any]
    parse_id: Converter
    updated_at: sa.Column[Any] | None
    stamp_to_db: Converter
    stamp_from_db: Converter
    #: the resolution of the timestamp column
    stamp_step: timedelta
    #: how the timestamp column is read and compared (None: the table has none)
    stamp: StampColumn | None
    key: sa.Column[Any] | None
    #: why creates cannot be idempotent here (key column configured but absent), if so
    key_problem: str | None
    fields: dict[str, ColumnMap]
    #: the columns were mapped by hand: stored values need not be in canonical form
    custom: bool
    _readers: tuple[tuple[str, int, Converter | None], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        offset = 2 if self.updated_at is not None else 1
        readers = tuple(
            (name, offset + i, cm.from_db) for i, (name, cm) in enumerate(self.fields.items())
        )
        object.__setattr__(self, "_readers", readers)

    @property
    def label(self) -> str:
        """The table's name as messages show it."""
        return self.table.fullname

    def select_columns(self) -> list[sa.ColumnElement[Any]]:
        """The columns :meth:`native` expects, in its order; the timestamp as stored (see
        :attr:`StampColumn.raw`)."""
        head = [self.id] if self.stamp is None else [self.id, self.stamp.raw]
        return [*head, *(cm.column for cm in self.fields.values())]

    def native(self, row: Sequence[Any], stamp: datetime | None = None) -> NativeRecord:
        """One selected row (see :meth:`select_columns`) as a native record; ``stamp`` is
        its timestamp when the caller has read it already."""
        record: NativeRecord = {ID: str(row[0])}
        if self.stamp is not None:
            if stamp is None and row[1] is not None:
                stamp = self.stamp.instants(self.label, row[0], row[1])[0]
            record[UPDATED_AT] = stamp
        else:
            record[UPDATED_AT] = None
        for name, index, convert in self._readers:
            value = row[index]
            record[name] = value if value is None or convert is None else convert(value)
        return record

    def params(self, record: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
        """Column values for the fields ``names`` of a native record (conversion may raise)."""
        params: dict[str, Any] = {}
        fields = self.fields
        for name in names:
            mapped = fields[name]
            value = record[name]
            if value is not None and mapped.to_db is not None:
                try:
                    value = mapped.to_db(value)
                except (ValueError, TypeError, ArithmeticError) as error:
                    raise ValueError(f"field {name!r}: {error}") from None
            params[mapped.column.key] = value
        return params

    def id_value(self, native_id: str) -> Any:
        """The database value of a native id, or ValueError when it cannot be one."""
        return self.parse_id(native_id)


def in_list(column: sa.Column[Any], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """``column IN (values)`` with the values written into the SQL text.

    Bound, the list would become a prepared statement after a few runs (psycopg prepares
    by default), and PostgreSQL's generic plan for ``IN ($1, ..., $500)`` on a table too
    young to have statistics is a sequential scan comparing every row with every value:
    ~100 ms a batch at 10k rows, growing with the table. Literal lists are planned with
    their values. SQLAlchemy renders the literals with the column's type and the
    dialect's quoting.
    """
    return column.in_(
        sa.bindparam(None, list(values), type_=column.type, expanding=True, literal_execute=True)
    )


def _find(names: Iterable[str], wanted: str) -> str | None:
    """``wanted`` among ``names``: exactly, else case-insensitively when unambiguous.

    Servers fold unquoted identifiers (PostgreSQL to lower, Oracle to upper case), so a
    mapping written as ``CUST_NO`` must still find ``cust_no``.
    """
    names = list(names)
    if wanted in names:
        return wanted
    matches = [name for name in names if name.lower() == wanted.lower()]
    return matches[0] if len(matches) == 1 else None


def _parse_id(column: sa.Column[Any]) -> Converter:
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return str
    if issubclass(python_type, int):
        return int
    return str


def find_table(engine: sa.Engine, name: str, schema: str | None) -> str | None:
    """The real name of table ``name`` in the database, or None when it does not exist."""
    inspector = sa.inspect(engine)
    if inspector.has_table(name, schema=schema):
        return name
    return _find(inspector.get_table_names(schema=schema), name)


def ensure_table(engine: sa.Engine, settings: SqlSettings, entity: str) -> str:
    """The real name of ``entity``'s table, creating it in the default layout if allowed."""
    wanted = settings.table_name(entity)
    schema = settings.db_schema
    found = find_table(engine, wanted, schema)
    if found is not None:
        return found
    where = f"{schema}.{wanted}" if schema else wanted
    if entity in settings.columns:
        raise ConnectorError(
            f"table {where} does not exist; it has a columns mapping for {entity}, so "
            "syncbridge expects an existing table and will not create it"
        )
    if not settings.create_tables:
        raise ConnectorError(
            f"table {where} for {entity} does not exist; create it or set create_tables = true"
        )
    table = default_table(
        sa.MetaData(), entity, wanted, settings.key_column, schema, engine.dialect.name
    )
    try:
        table.create(engine, checkfirst=True)
    except sa.exc.DBAPIError:
        # another process created it in the meantime: fine, anything else: re-raise
        if find_table(engine, wanted, schema) is None:
            raise
    return wanted


def reflect(engine: sa.Engine, settings: SqlSettings, entity: str) -> TableMap:
    """The :class:`TableMap` of ``entity``: its table found (or created) and reflected."""
    name = ensure_table(engine, settings, entity)
    table = sa.Table(name, sa.MetaData(), autoload_with=engine, schema=settings.db_schema)
    names = [column.name for column in table.columns]
    custom = settings.columns.get(entity)

    def column(wanted: str, what: str) -> sa.Column[Any]:
        found = _find(names, wanted)
        if found is None:
            raise ConnectorError(
                f"table {table.fullname} has no column {wanted!r} for {entity} {what}; "
                f"its columns are: {', '.join(names)}"
            )
        return table.c[found]

    id_column = column(custom.get(ID, ID) if custom else ID, "id")
    if custom and UPDATED_AT in custom:
        updated_at: sa.Column[Any] | None = column(custom[UPDATED_AT], UPDATED_AT)
    else:
        found = _find(names, UPDATED_AT)
        updated_at = table.c[found] if found else None
    zone = settings.zone
    stamp_to_db, stamp_from_db = stamp_converters(
        updated_at.type if updated_at is not None else timestamp_type(), zone
    )
    stamp = None
    if updated_at is not None:
        stamp = StampColumn(
            column=updated_at,
            kind=stamp_kind(updated_at.type, engine.dialect.name),
            reader=stamp_from_db,
            step=stamp_step(updated_at.type),
        )

    specs = field_specs(entity)
    wanted_columns = (
        {f: c for f, c in custom.items() if f not in (ID, UPDATED_AT)}
        if custom
        else {f: f for f in specs}
    )
    fields: dict[str, ColumnMap] = {}
    for field_name, column_name in wanted_columns.items():
        if custom:
            col = column(column_name, f"field {field_name!r}")
        else:
            found = _find(names, column_name)
            if found is None:
                continue  # an existing table without this column: the field stays None
            col = table.c[found]
        spec = specs[field_name]
        to_db, from_db = converters(spec.kind, col.type, zone)
        fields[field_name] = ColumnMap(field_name, spec, col, to_db, from_db)

    key: sa.Column[Any] | None = None
    key_problem: str | None = None
    if settings.key_column is not None:
        found = _find(names, settings.key_column)
        taken = {cm.column.name for cm in fields.values()} | {id_column.name}
        if found is not None and found in taken:
            key_problem = f"key_column {settings.key_column!r} is also mapped as a {entity} field"
        elif found is not None:
            key = table.c[found]
        else:
            key_problem = (
                f"table {table.fullname} has no key column {settings.key_column!r} for the "
                f"idempotency keys of creates: add one (a unique, nullable VARCHAR(255)) or "
                'set key_column = "" to accept that a create retried after a crash may '
                "be written twice"
            )

    return TableMap(
        entity=entity,
        table=table,
        id=id_column,
        parse_id=_parse_id(id_column),
        updated_at=updated_at,
        stamp_to_db=stamp_to_db,
        stamp_from_db=stamp_from_db,
        stamp_step=TICK if stamp is None else stamp.step,
        stamp=stamp,
        key=key,
        key_problem=key_problem,
        fields=fields,
        custom=bool(custom),
    )
