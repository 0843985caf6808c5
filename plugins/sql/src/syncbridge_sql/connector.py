"""The ``sql`` connector: the hook implementations syncbridge calls.

Each hook is a thin shell: it takes the connection's :class:`~syncbridge_sql.database.Database`
from the client and hands over to :mod:`~syncbridge_sql.reads` or
:mod:`~syncbridge_sql.writes`. Read this module first if you are writing a connector of your
own: it is the whole contract in one page.

The connector never speaks HTTP (``uses_http=False``), so its ``client`` is a
:class:`~syncbridge.resources.ResourceHolder`: the connection's settings, and the
per-connection resource cache that keeps the database (its engine and reflected tables),
disposed when the connection closes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.metadata import version
from typing import Any, Literal

import sqlalchemy as sa

from syncbridge import hookspecs
from syncbridge.describe import Capability, ConnectorInfo, EntityInfo
from syncbridge.errors import ConnectorError
from syncbridge.mapping import dispatch
from syncbridge.models import MODELS, CanonicalRecord
from syncbridge.records import CheckResult, NativeRecord, Page, UpsertItem, UpsertResult
from syncbridge.resources import HookClient
from syncbridge.settings import ConnectorSettings
from syncbridge_sql import mapping, reads, writes
from syncbridge_sql.database import Database
from syncbridge_sql.schema import find_table
from syncbridge_sql.settings import SqlSettings

hookimpl = hookspecs.hookimpl

CAPABILITIES = frozenset(
    {
        Capability.READ,
        Capability.INCREMENTAL,
        Capability.CREATE,
        Capability.UPDATE,
        Capability.DELETE,
        Capability.BATCH,
        Capability.IDEMPOTENT_CREATE,
        Capability.LOOKUP,
        # query["filter"] becomes the WHERE clause (reads.filter_conditions)
        Capability.FILTER,
    }
)


def _database(client: HookClient) -> Database:
    settings = client.settings
    if not isinstance(settings, SqlSettings):
        raise ConnectorError(f"the sql connector needs SqlSettings, got {type(settings).__name__}")
    return client.resource("sql.database", lambda: Database(settings))


def _entity(entity: str) -> str:
    if entity not in MODELS:
        raise ConnectorError(f"sql has no entity {entity!r}; it offers: {', '.join(MODELS)}")
    return entity


@hookimpl
def describe() -> ConnectorInfo:
    defaults = SqlSettings.model_fields
    batch_size = defaults["batch_size"].default
    page_size = defaults["page_size"].default
    return ConnectorInfo(
        name="sql",
        title="SQL database",
        version=version("syncbridge-sql"),
        settings=SqlSettings,
        entities={
            entity: EntityInfo(
                name=entity,
                capabilities=CAPABILITIES,
                source=entity,
                batch_size=batch_size,
                page_size=page_size,
                notes="table named after the entity unless settings.tables maps it; "
                "idempotent creates and lookup need the key column (settings.key_column)",
            )
            for entity in MODELS
        },
        rate_limits=(),
        max_concurrency=1,
        uses_http=False,
    )


@hookimpl
def configure(info: ConnectorInfo, settings: ConnectorSettings) -> ConnectorInfo | None:
    """Narrow the info to this connection's schema mapping, key column and sizes.

    A custom ``columns`` mapping holds only the fields it maps: declaring them lets the
    engine leave every other field alone instead of blanking it on the other side.
    """
    if not isinstance(settings, SqlSettings):
        return None
    entities = {}
    for name, entity in info.entities.items():
        capabilities = set(entity.capabilities)
        if not settings.key_column:
            capabilities -= {Capability.LOOKUP, Capability.IDEMPOTENT_CREATE}
        mapped = settings.columns.get(name)
        fields = None
        if mapped is not None:
            fields = frozenset(mapped) - {"id", "updated_at"}
        entities[name] = entity.model_copy(
            update={
                "capabilities": frozenset(capabilities),
                "fields": fields,
                "batch_size": settings.batch_size,
                "page_size": settings.page_size,
            }
        )
    return info.model_copy(update={"entities": entities})


@hookimpl
def check(client: HookClient) -> CheckResult:
    settings = client.settings
    account = settings.safe_url if isinstance(settings, SqlSettings) else ""
    try:
        db = _database(client)
    except ConnectorError as error:
        return CheckResult(ok=False, reason=str(error), account=account)
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.select(1))
    except sa.exc.SQLAlchemyError as error:
        return CheckResult(
            ok=False, reason=f"cannot connect to {account}: {db.message(error)}", account=account
        )
    dialect = db.engine.dialect
    details: dict[str, Any] = {
        "dialect": dialect.name,
        "driver": dialect.driver,
        "server_version": ".".join(str(part) for part in dialect.server_version_info or ()),
    }
    problems = _table_problems(db)
    return CheckResult(
        ok=not problems, reason="; ".join(problems), account=account, details=details
    )


def _table_problems(db: Database) -> list[str]:
    """What is wrong with the tables the settings name explicitly (nothing is created)."""
    settings = db.settings
    problems: list[str] = []
    for entity in sorted({*settings.tables, *settings.columns}):
        try:
            exists = find_table(db.engine, settings.table_name(entity), settings.db_schema)
            if exists is None:
                if entity in settings.columns or not settings.create_tables:
                    problems.append(f"table {settings.table_name(entity)} ({entity}) is missing")
                continue
            db.table(entity)
        except ConnectorError as error:
            problems.append(str(error))
        except sa.exc.SQLAlchemyError as error:
            problems.append(f"{entity}: {db.message(error)}")
    return problems


@hookimpl
def fetch(
    client: HookClient, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    return reads.fetch_pages(_database(client), _entity(entity), since, query)


@hookimpl
def upsert(client: HookClient, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    return writes.upsert_items(_database(client), _entity(entity), items)


@hookimpl
def lookup(client: HookClient, entity: str, keys: list[str]) -> dict[str, str]:
    return writes.lookup_keys(_database(client), _entity(entity), keys)


@hookimpl
def delete(client: HookClient, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    return writes.delete_ids(_database(client), _entity(entity), ids)


# the hook's name is fixed by the contract, shadowing the builtin in this module only
@hookimpl
def map(
    entity: str, record: NativeRecord | CanonicalRecord, direction: Literal["in", "out"]
) -> CanonicalRecord | NativeRecord:
    _entity(entity)
    return dispatch(entity, record, direction, mapping.map_in, mapping.map_out)
