"""The ``dinero`` connector: the hook implementations syncbridge calls.

Reads are declared (:mod:`syncbridge_dinero.api`: listings with the toolkit's paging, cursor
and error map; :mod:`syncbridge_dinero.reads` adds what invoices and payments need). Writes
are one request per create (:mod:`syncbridge_dinero.writes`; Dinero has no batch endpoint),
with the engine's key in ``ExternalReference`` for :func:`lookup`. Requests are signed with a
token from the OAuth2 password grant (:mod:`syncbridge.oauth.password`), and paced to
the organisation's 100 requests a minute. Dinero's webhook subscriptions and the
notifications they bring are :mod:`syncbridge_dinero.webhooks`.
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
from syncbridge.oauth import PasswordGrant, PasswordGrantAuth
from syncbridge.webhooks import Notice, WebhookRequest
from syncbridge_dinero import api, mapping, reads, webhooks, writes
from syncbridge_dinero.settings import (
    MAX_PAGE_SIZE,
    REQUESTS_PER_MINUTE,
    DineroSettings,
    settings_of,
)

#: 100 requests a minute per organisation (developer.dinero.dk, best practices)
RATE_LIMITS = (RateLimit(requests=REQUESTS_PER_MINUTE, seconds=60),)

_WRITABLE = frozenset(
    {
        Capability.READ,
        Capability.INCREMENTAL,
        Capability.CREATE,
        Capability.UPDATE,
        Capability.DELETE,
        Capability.LOOKUP,
    }
)
_READ_ONLY = frozenset({Capability.READ, Capability.INCREMENTAL})
_SOURCES = {
    "company": ("/v1/{organizationId}/contacts (IsPerson false)", _WRITABLE, "ContactGuid", ""),
    "contact": ("/v1/{organizationId}/contacts (IsPerson true)", _WRITABLE, "ContactGuid",
                "a person; Dinero links no person to a company"),
    "product": ("/v1/{organizationId}/products", _WRITABLE, "ProductGuid", ""),
    "invoice": ("/v1/{organizationId}/invoices", _WRITABLE, "Guid",
                "drafts are written; a non-draft status books the invoice; booked ones lock"),
    "payment": ("/v2/{organizationId}/invoices/{guid}/payments", _READ_ONLY, "Guid",
                "read per booked invoice changed since the cursor"),
}


@hookimpl
def describe() -> ConnectorInfo:
    no_entity = "Dinero keeps no such list in its public API"
    return ConnectorInfo(
        name="dinero",
        title="Dinero (Visma Dinero)",
        version=version("syncbridge-dinero"),
        settings=DineroSettings,
        entities={
            name: EntityInfo(
                name=name,
                capabilities=capabilities,
                source=source,
                page_size=MAX_PAGE_SIZE,
                fields=mapping.FIELDS[name],
                id_field=id_field,
                notes=notes,
            )
            for name, (source, capabilities, id_field, notes) in _SOURCES.items()
        },
        unsupported={
            "quote": "Dinero's trade offers are not synced by this connector yet",
            "order": "Dinero has no sales orders",
            "vat_rate": "Dinero's VAT follows the account a line is posted to "
            "(sales_account, vat_free_sales_account settings)",
            "currency": no_entity,
            "payment_method": f"{no_entity}; payments go to deposit accounts",
            "unit": "Dinero's units are a fixed list (hours, parts, ...)",
        },
        rate_limits=RATE_LIMITS,
        max_concurrency=2,
    )


@hookimpl
def configure(info: ConnectorInfo, settings: ConnectorSettings) -> ConnectorInfo | None:
    """A connection sharing its organisation's budget with other integrations asks for less."""
    chosen = settings_of(settings)
    limit = RateLimit(requests=chosen.requests_per_minute, seconds=chosen.rate_window_seconds)
    if (limit,) == info.rate_limits:
        return None
    return info.model_copy(update={"rate_limits": (limit,)})


@hookimpl
def auth(settings: ConnectorSettings, connection: str) -> httpx.Auth | None:
    chosen = settings_of(settings)
    key = chosen.api_key.get_secret_value()
    grant = PasswordGrant(
        token_url=chosen.token_url,
        client_id=chosen.client_id,
        client_secret=chosen.client_secret.get_secret_value(),
        username=key,
        password=key,
        hint=f"check api_key, client_id and client_secret in connections.{connection}.settings",
    )
    return PasswordGrantAuth(grant, connection)


@hookimpl
def check(client: Client) -> CheckResult:
    org = settings_of(client).organization_id
    try:
        found = api.ERRORS.get(client, "/v1/organizations", params={"fields": "Id,Name,IsPro"})
    except ConnectorError as error:  # AuthError included: a refused key says why
        return CheckResult(ok=False, reason=str(error), account=str(org))
    rows = [row for row in found if isinstance(row, dict)] if isinstance(found, list) else []
    companies: list[Mapping[str, Any]] = [
        {"id": row.get("Id"), "name": row.get("Name")} for row in rows
    ]
    mine = [row for row in rows if row.get("Id") == org]
    if not mine:
        reach = ", ".join(f"{row.get('Id')} ({row.get('Name')})" for row in rows) or "none"
        return CheckResult(
            ok=False,
            reason=f"organization_id {org} is not reachable with this API key; it reaches: "
            f"{reach}. Set organization_id to the firma-ID shown in Dinero",
            account=str(org),
            companies=companies,
        )
    if mine[0].get("IsPro") is False:
        return CheckResult(
            ok=False,
            reason=f"organisation {org} ({mine[0].get('Name')}) has no Pro plan; Dinero's API "
            "needs one",
            account=str(org),
            companies=companies,
        )
    return CheckResult(ok=True, account=f"{mine[0].get('Name')} ({org})", companies=companies)


@hookimpl
def fetch(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    return reads.fetch_pages(client, entity, since, query)


@hookimpl
def upsert(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    if entity not in _SOURCES or Capability.CREATE not in _SOURCES[entity][1]:
        raise ConnectorError(f"dinero does not write {entity!r} records")
    return writes.upsert_items(client, entity, items)


@hookimpl
def lookup(client: Client, entity: str, keys: list[str]) -> dict[str, str]:
    return writes.lookup_keys(client, entity, keys)


@hookimpl
def delete(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    if entity not in _SOURCES or Capability.DELETE not in _SOURCES[entity][1]:
        raise ConnectorError(f"dinero does not delete {entity!r} records")
    return writes.delete_ids(client, entity, ids)


# the hook's name is fixed by the contract, shadowing the builtin in this module only
@hookimpl
def map(
    entity: str,
    record: NativeRecord | CanonicalRecord,
    direction: Literal["in", "out"],
    settings: ConnectorSettings,
    context: dict[str, Any],
) -> CanonicalRecord | NativeRecord:
    if entity not in mapping.FIELDS:
        raise ConnectorError(f"dinero has no entity {entity!r}")
    chosen = settings_of(settings)
    return dispatch(
        entity,
        record,
        direction,
        lambda entity, native: mapping.map_in(entity, native, context),
        lambda entity, canonical: mapping.map_out(entity, canonical, chosen, context),
    )


@hookimpl
def webhook(settings: ConnectorSettings, request: WebhookRequest) -> Notice | None:
    """A notification is told genuine by the token of the subscribed URL (Dinero signs
    none), and names a contact, product or invoice by its guid: the records' native ids."""
    return webhooks.read(settings_of(settings), request)


@hookimpl
def subscribe(client: Client, url: str, entities: list[str]) -> list[str] | None:
    """Dinero's subscriptions are per event (``GET /webhooks/events``): ``url`` is subscribed
    to each event of the entities asked for, once."""
    return webhooks.subscribe(client, url, entities)
