"""The ``oficrm`` connector: the hook implementations syncbridge calls.

OfiCRM has no API; its database is the interface. Customers (canonical ``company``) go
through the sql connector's reads and writes on the ``oficrm`` preset's ``clientes`` table;
``sector`` and ``sales_data``, which the core has no canonical model for yet, are served by
the same hooks under those names (see :mod:`syncbridge_oficrm.extras`) without being
declared to the engine.

``uses_http=False``: the client is a :class:`~syncbridge.resources.ResourceHolder` keeping
the connection's :class:`~syncbridge_oficrm.database.OficrmDatabase`.
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
from syncbridge_oficrm import mapping, writes
from syncbridge_oficrm.database import OficrmDatabase
from syncbridge_oficrm.extras import EXTRA_MODELS
from syncbridge_oficrm.settings import ENTITIES, OficrmSettings
from syncbridge_sql import reads
from syncbridge_sql import writes as sql_writes

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


def _database(client: HookClient) -> OficrmDatabase:
    settings = _settings(client.settings)
    return client.resource("oficrm.database", lambda: OficrmDatabase(settings))


def _entity(entity: str) -> str:
    if entity not in ENTITIES:
        raise ConnectorError(f"oficrm has no entity {entity!r}; it offers: {', '.join(ENTITIES)}")
    return entity


@hookimpl
def describe() -> ConnectorInfo:
    defaults = OficrmSettings.model_fields
    return ConnectorInfo(
        name="oficrm",
        title="OfiCRM (Ofimática), through its database",
        version=version("syncbridge-oficrm"),
        settings=OficrmSettings,
        entities={
            "company": EntityInfo(
                name="company",
                capabilities=CAPABILITIES,
                source="clientes",
                batch_size=defaults["batch_size"].default,
                page_size=defaults["page_size"].default,
                notes="OfiCRM's customers; sector and sales_data are served by the hooks "
                "but not declared (no canonical model yet)",
            )
        },
        unsupported={
            entity: "OfiCRM's synchronised data are customers, sectors and sales data"
            for entity in MODELS
            if entity != "company"
        },
        rate_limits=(),
        max_concurrency=1,
        uses_http=False,
    )


@hookimpl
def configure(info: ConnectorInfo, settings: ConnectorSettings) -> ConnectorInfo | None:
    """The fields this connection's customer columns map, its sizes and key column."""
    if not isinstance(settings, OficrmSettings):
        return None
    company = info.entities["company"]
    capabilities = set(company.capabilities)
    if not settings.key_column:
        capabilities -= {Capability.LOOKUP, Capability.IDEMPOTENT_CREATE}
    mapped = frozenset(settings.columns.get("company", {})) - {"id", "updated_at"}
    entity = company.model_copy(
        update={
            "capabilities": frozenset(capabilities),
            "fields": mapped,
            "source": settings.table_name("company"),
            "batch_size": settings.batch_size,
            "page_size": settings.page_size,
        }
    )
    return info.model_copy(update={"entities": {"company": entity}})


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


def _upsert_customers(db: OficrmDatabase, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """The sql connector's writes, after each customer's tax id is checked (one fails alone)."""
    failed: dict[str, str] = {}
    good: list[UpsertItem] = []
    for item in items:
        try:
            record = mapping.check_tax_id(item.record, db.settings)
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


@hookimpl
def upsert(client: HookClient, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    db = _database(client)
    if _entity(entity) == "company":
        return _upsert_customers(db, items)
    return writes.upsert_extra(db, entity, items)


@hookimpl
def lookup(client: HookClient, entity: str, keys: list[str]) -> dict[str, str]:
    db = _database(client)
    if _entity(entity) == "company":
        return sql_writes.lookup_keys(db, entity, keys)
    return writes.lookup_extra(db, entity, keys)


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


__all__ = ["CAPABILITIES", "EXTRA_MODELS", "hookimpl"]
