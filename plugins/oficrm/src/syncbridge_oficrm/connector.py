"""The ``oficrm`` connector: the hook implementations syncbridge calls.

OfiCRM has no API; its database is the interface. Its three entities are canonical:
customers (``company``, table ``clientes``), ``sector`` (``sectores``) and ``sales_data``
(``clientes_datos_ventas``). All three are read and written by the sql connector's reads and
writes through the ``oficrm`` preset's ``columns`` mapping; OfiCRM adds two rules of its own:
a Spanish customer's tax id is checked (:mod:`syncbridge_oficrm.mapping`), and a
``sales_data`` create for a customer that has sales data already updates that row (OfiCRM
keeps one per customer, README assumption 10).

``uses_http=False``: the client is a :class:`~syncbridge.resources.ResourceHolder` keeping
the connection's :class:`~syncbridge_sql.database.Database`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from importlib.metadata import version
from typing import Any, Literal

import sqlalchemy as sa

from syncbridge import hookspecs
from syncbridge.describe import Capability, ConnectorInfo, EntityInfo
from syncbridge.errors import ConnectorError, RecordError
from syncbridge.mapping import dispatch
from syncbridge.models import MODELS, CanonicalRecord
from syncbridge.records import CheckResult, NativeRecord, Page, UpsertItem, UpsertResult
from syncbridge.resources import HookClient
from syncbridge.settings import ConnectorSettings
from syncbridge_oficrm import mapping
from syncbridge_oficrm.settings import ENTITIES, OficrmSettings
from syncbridge_sql import reads
from syncbridge_sql import writes as sql_writes
from syncbridge_sql.database import Database
from syncbridge_sql.schema import in_list

hookimpl = hookspecs.hookimpl

CAPABILITIES = frozenset(
    {
        Capability.READ,
        Capability.INCREMENTAL,
        Capability.CREATE,
        Capability.UPDATE,
        Capability.BATCH,
        Capability.IDEMPOTENT_CREATE,
        Capability.LOOKUP,
    }
)


def _settings(settings: ConnectorSettings) -> OficrmSettings:
    if not isinstance(settings, OficrmSettings):
        raise ConnectorError(
            f"the oficrm connector needs OficrmSettings, got {type(settings).__name__}"
        )
    return settings


def _database(client: HookClient) -> Database:
    settings = _settings(client.settings)
    return client.resource("oficrm.database", lambda: Database(settings))


def _entity(entity: str) -> str:
    if entity not in ENTITIES:
        raise ConnectorError(f"oficrm has no entity {entity!r}; it offers: {', '.join(ENTITIES)}")
    return entity


#: entity -> (the preset's table, what the engine should know of it)
_DECLARED: dict[str, tuple[str, str]] = {
    "sector": ("sectores", "OfiCRM's sectors; a customer belongs to at most one"),
    "company": ("clientes", "OfiCRM's customers, with their sector (sector_id)"),
    "sales_data": (
        "clientes_datos_ventas",
        "one row per customer: a create for a customer that has sales data already updates "
        "that row",
    ),
}


@hookimpl
def describe() -> ConnectorInfo:
    defaults = OficrmSettings.model_fields
    return ConnectorInfo(
        name="oficrm",
        title="OfiCRM (Ofimática), through its database",
        version=version("syncbridge-oficrm"),
        settings=OficrmSettings,
        entities={
            entity: EntityInfo(
                name=entity,
                capabilities=CAPABILITIES,
                source=table,
                batch_size=defaults["batch_size"].default,
                page_size=defaults["page_size"].default,
                notes=notes,
            )
            for entity, (table, notes) in _DECLARED.items()
        },
        unsupported={
            entity: "OfiCRM's synchronised data are customers, sectors and sales data"
            for entity in MODELS
            if entity not in ENTITIES
        },
        rate_limits=(),
        max_concurrency=1,
        uses_http=False,
    )


@hookimpl
def configure(info: ConnectorInfo, settings: ConnectorSettings) -> ConnectorInfo | None:
    """The fields this connection's columns map, its tables, sizes and key column."""
    if not isinstance(settings, OficrmSettings):
        return None
    entities = {}
    for name, entity in info.entities.items():
        capabilities = set(entity.capabilities)
        if not settings.key_column:
            capabilities -= {Capability.LOOKUP, Capability.IDEMPOTENT_CREATE}
        mapped = frozenset(settings.columns.get(name, {})) - {"id", "updated_at"}
        entities[name] = entity.model_copy(
            update={
                "capabilities": frozenset(capabilities),
                "fields": mapped,
                "source": settings.table_name(name),
                "batch_size": settings.batch_size,
                "page_size": settings.page_size,
            }
        )
    return info.model_copy(update={"entities": entities})


@hookimpl
def check(client: HookClient) -> CheckResult:
    """Connect, then open the three tables the way reads will: each problem named."""
    settings = _settings(client.settings)
    account = settings.safe_url
    try:
        db = _database(client)
        with db.engine.connect() as connection:
            connection.execute(sa.select(1))
    except ConnectorError as error:
        return CheckResult(ok=False, reason=str(error), account=account)
    except sa.exc.SQLAlchemyError as error:
        return CheckResult(
            ok=False, reason=f"cannot connect to {account}: {db.message(error)}", account=account
        )
    problems: list[str] = []
    for entity in ENTITIES:
        try:
            db.table(entity)
        except ConnectorError as error:
            problems.append(str(error))
        except sa.exc.SQLAlchemyError as error:
            problems.append(f"{entity}: {db.message(error)}")
    dialect = db.engine.dialect
    details: dict[str, Any] = {"dialect": dialect.name, "driver": dialect.driver}
    return CheckResult(
        ok=not problems, reason="; ".join(problems), account=account, details=details
    )


@hookimpl
def fetch(
    client: HookClient, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    return reads.fetch_pages(_database(client), _entity(entity), since, query)


def _upsert_customers(db: Database, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """The sql connector's writes, after each customer's tax id is checked (one fails alone)."""
    settings = _settings(db.settings)
    failed: dict[str, str] = {}
    good: list[UpsertItem] = []
    for item in items:
        try:
            record = mapping.check_tax_id(item.record, settings)
        except RecordError as error:
            failed[item.key] = str(error)
            continue
        good.append(item if record is item.record else replace(item, record=record))
    written = {result.key: result for result in sql_writes.upsert_items(db, "company", good)}
    for item in items:
        yield (
            UpsertResult.failed(item.key, failed[item.key])
            if item.key in failed
            else written[item.key]
        )


def _sales_data_rows(db: Database, items: list[UpsertItem]) -> dict[str, str]:
    """``{key: id}`` of the creates whose customer has sales data already (one row each)."""
    table = db.table("sales_data")
    customer = table.fields.get("company_id")
    creates = [item for item in items if item.id is None and item.record.get("company_id")]
    if customer is None or not creates:
        return {}
    wanted: dict[Any, list[str]] = {}
    for item in creates:
        try:
            value = customer.to_db_value(item.record["company_id"])
        except (ValueError, TypeError):
            continue  # the write names the bad value
        wanted.setdefault(value, []).append(item.key)
    found: dict[str, str] = {}
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.select(customer.column, table.id).where(in_list(customer.column, list(wanted)))
        )
        for value, row_id in rows:
            found.update({key: str(row_id) for key in wanted.get(value, [])})
    return found


def _upsert_sales_data(db: Database, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """The sql connector's writes, a create for a customer with sales data made an update.

    Whether the create was made before (a retry after a crash) is asked first, by its key:
    that row is the create's, whatever its customer is now.
    """
    try:
        made = sql_writes.lookup_keys(db, "sales_data", [i.key for i in items if i.id is None])
        existing = _sales_data_rows(db, [item for item in items if item.key not in made])
    except sa.exc.SQLAlchemyError as error:
        raise db.error("cannot read the sales data of the customers", error) from None
    moved = {key: row_id for key, row_id in existing.items() if key not in made}
    sent = [
        replace(item, id=moved[item.key], changed=frozenset()) if item.key in moved else item
        for item in items
    ]
    for result in sql_writes.upsert_items(db, "sales_data", sent):
        if result.key in moved and not result.ok:
            # the create failed: the engine must not take the row it tried to update for it
            yield UpsertResult.failed(result.key, result.error or "not written")
        else:
            yield result


@hookimpl
def upsert(client: HookClient, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    db = _database(client)
    if _entity(entity) == "company":
        return _upsert_customers(db, items)
    if entity == "sales_data":
        return _upsert_sales_data(db, items)
    return sql_writes.upsert_items(db, entity, items)


@hookimpl
def lookup(client: HookClient, entity: str, keys: list[str]) -> dict[str, str]:
    return sql_writes.lookup_keys(_database(client), _entity(entity), keys)


# the hook's name is fixed by the contract, shadowing the builtin in this module only
@hookimpl
def map(
    entity: str,
    record: NativeRecord | CanonicalRecord,
    direction: Literal["in", "out"],
    settings: ConnectorSettings,
) -> CanonicalRecord | NativeRecord:
    _entity(entity)
    oficrm = _settings(settings)
    return dispatch(
        entity,
        record,
        direction,
        lambda name, native: mapping.map_in(name, native, oficrm),
        mapping.map_out,
    )


__all__ = ["CAPABILITIES", "hookimpl"]
