"""The ``crmincloud`` connector: the hook implementations syncbridge calls.

Reads are declared (:data:`syncbridge_crmincloud.api.API`: the searches, with the toolkit's
paging, cursor and error map); writes are one ``CreateOrUpdate`` per record (the API has no
batch endpoint), the batch's records read back with a search per 40 ids so the engine hashes
each record as the CRM stored it. Creates carry the engine's idempotency key in a custom
field, which is what :func:`lookup` searches after a crash. VAT rates (``TaxValue``) have
neither search nor timestamps: they are read in full, one ``GET`` per code, and never written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.metadata import version
from typing import Any, Literal

import httpx

from syncbridge import (
    CanonicalRecord,
    Capability,
    CheckResult,
    Client,
    ConnectorError,
    ConnectorInfo,
    ConnectorSettings,
    EntityInfo,
    NativeRecord,
    Page,
    RateLimit,
    UpsertItem,
    UpsertResult,
    dispatch,
    hookimpl,
)
from syncbridge_crmincloud import api, mapping, reads, writes
from syncbridge_crmincloud.auth import CrmInCloudAuth
from syncbridge_crmincloud.settings import MAX_PAGE_SIZE, CrmInCloudSettings, settings_of

#: no limit is published; public integrations pace themselves at 40-45 calls a minute, so
#: the client stays at the low end of that (README, "Rate limits")
RATE_LIMITS = (RateLimit(requests=40, seconds=60),)

_WRITABLE = frozenset(
    {
        Capability.READ,
        Capability.INCREMENTAL,
        Capability.CREATE,
        Capability.UPDATE,
        Capability.DELETE,
        Capability.LOOKUP,
        # several items per upsert call (the API itself has no batch endpoint): their
        # records are read back together
        Capability.BATCH,
    }
)


def _entity_info(entity: str, source: str, notes: str = "") -> EntityInfo:
    return EntityInfo(
        name=entity,
        capabilities=_WRITABLE,
        source=source,
        batch_size=writes.BATCH_SIZE,
        page_size=MAX_PAGE_SIZE,
        fields=mapping.FIELDS[entity],
        notes=notes,
    )


@hookimpl
def describe() -> ConnectorInfo:
    no_source = "no such entity in any public source of the CRM in Cloud API"
    return ConnectorInfo(
        name="crmincloud",
        title="CRM in Cloud (TeamSystem)",
        version=version("syncbridge-crmincloud"),
        settings=CrmInCloudSettings,
        entities={
            "company": _entity_info("company", "Company"),
            "contact": _entity_info("contact", "Contact", "companyId -> company_id"),
            "product": _entity_info(
                "product", "Catalog", "category by CatalogCategories description"
            ),
            "vat_rate": EntityInfo(
                name="vat_rate",
                capabilities=frozenset({Capability.READ}),
                source="TaxValue",
                batch_size=1,
                page_size=MAX_PAGE_SIZE,
                fields=mapping.FIELDS["vat_rate"],
                id_field="taxCode",
                notes="read in full (no search, no timestamps); id = taxCode",
            ),
            "quote": _entity_info(
                "quote", "Quote", "entity assumed by the API's naming pattern (README A9)"
            ),
        },
        unsupported={
            "order": "orders are not an entity of CRM in Cloud: an order is generated in the "
            "invoicing system when a quote is moved to accepted",
            "invoice": f"{no_source}; invoices live in the invoicing system",
            "payment": f"{no_source}; payments live in the invoicing system",
            "currency": f"{no_source} (quotes carry an ISO currency code instead)",
            "payment_method": no_source,
            "unit": f"{no_source} (Catalog items carry no unit of measure field)",
        },
        rate_limits=RATE_LIMITS,
        max_concurrency=2,
    )


@hookimpl
def configure(info: ConnectorInfo, settings: ConnectorSettings) -> ConnectorInfo | None:
    """Without the key custom field (``key_field = ""``) creates carry no key: no ``lookup``.

    The engine takes a key ``lookup`` does not find for a create that made nothing and
    creates the record again, so a connection that writes no key must not claim to find
    them; its interrupted creates are recognised by their content instead.
    """
    if settings_of(settings).key_field is not None:
        return None
    entities = {
        name: entity.model_copy(update={"capabilities": entity.capabilities - {Capability.LOOKUP}})
        for name, entity in info.entities.items()
    }
    return info.model_copy(update={"entities": entities})


@hookimpl
def auth(settings: ConnectorSettings, connection: str) -> httpx.Auth | None:
    # nothing is stored: a JWT lives 20 minutes and a new one is one login away
    return CrmInCloudAuth(settings_of(settings), connection)


@hookimpl
def check(client: Client) -> CheckResult:
    account = settings_of(client).username or ""
    try:
        me = api.ERRORS.get(client, "/Auth/Me")
    except ConnectorError as error:  # AuthError included: a refused login says why
        return CheckResult(ok=False, reason=str(error), account=account)
    me = me if isinstance(me, dict) else {}
    name = str(me.get("name") or me.get("userName") or account).strip()
    email = str(me.get("email") or "").strip()
    shown = f"{name} <{email}>" if name and email and email != name else name or email
    return CheckResult(ok=True, account=shown, details={"user_id": me.get("id")})


@hookimpl
def fetch(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    return reads.fetch_pages(client, entity, since, query)


@hookimpl
def upsert(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    return writes.upsert_items(client, entity, items)


@hookimpl
def lookup(client: Client, entity: str, keys: list[str]) -> dict[str, str]:
    return writes.lookup_keys(client, entity, keys)


@hookimpl
def delete(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    return writes.delete_ids(client, entity, ids)


# the hook's name is fixed by the contract, shadowing the builtin in this module only
@hookimpl
def map(
    entity: str,
    record: NativeRecord | CanonicalRecord,
    direction: Literal["in", "out"],
    context: dict[str, Any],
) -> CanonicalRecord | NativeRecord:
    if entity not in mapping.FIELDS:
        raise ConnectorError(f"crmincloud has no entity {entity!r}")
    return dispatch(
        entity,
        record,
        direction,
        lambda entity, native: mapping.map_in(entity, native, context),
        lambda entity, canonical: mapping.map_out(entity, canonical, context),
    )
