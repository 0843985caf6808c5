"""The ``simplycrm`` connector: the hook implementations syncbridge calls.

Simply CRM is vtiger: one endpoint, ``webservice.php``, a challenge/login session
(:mod:`~syncbridge_simplycrm.auth`), errors in a 200 envelope
(:mod:`~syncbridge_simplycrm.envelope`). Reads follow each module's ``sync`` feed with the
toolkit's cursor, or read given ids with ``query`` (:mod:`~syncbridge_simplycrm.reads`);
writes are one ``create``/``update`` per record (:mod:`~syncbridge_simplycrm.writes`).
Contacts, Organisations (Accounts), Products and Invoices are synced; payments registered in
the accounting system show on the invoice as ``received``/``balance``.
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
    ConfigError,
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
from syncbridge_simplycrm import api, mapping, reads, writes
from syncbridge_simplycrm.auth import SessionAuth
from syncbridge_simplycrm.settings import SimplyCrmSettings, settings_of

#: no limit is published for Simply CRM (self-hosted vtiger has none): the client paces itself
#: at 5 requests a second (README, assumption 9)
RATE_LIMITS = (RateLimit(requests=300, seconds=60),)

CAPABILITIES = frozenset(
    {
        Capability.READ,
        Capability.INCREMENTAL,
        Capability.CREATE,
        Capability.UPDATE,
        Capability.DELETE,
        # several items per upsert call (the API itself has no batch operation): the stored
        # records of a batch's updates are read together
        Capability.BATCH,
    }
)

_NOTES = {
    "company": "Organizations (Accounts); country names <-> ISO codes",
    "contact": "account_id -> company_id",
    "product": "",
    "invoice": "LineItems read with retrieve; payments as received/balance; number is "
    "the CRM's own (invoice_no, read only)",
}


def _entities(settings: SimplyCrmSettings | None) -> dict[str, EntityInfo]:
    keyed = settings.key_fields if settings is not None else {}
    return {
        entity: EntityInfo(
            name=entity,
            # lookup only where creates write their key into a custom field
            capabilities=CAPABILITIES | {Capability.LOOKUP} if entity in keyed else CAPABILITIES,
            source=module,
            batch_size=writes.BATCH_SIZE,
            page_size=api.MAX_ROWS,
            fields=mapping.fields_of(entity, settings),
            notes=_NOTES[entity],
        )
        for entity, module in mapping.MODULES.items()
    }


@hookimpl
def describe() -> ConnectorInfo:
    return ConnectorInfo(
        name="simplycrm",
        title="Simply CRM (vtiger webservice)",
        version=version("syncbridge-simplycrm"),
        settings=SimplyCrmSettings,
        entities=_entities(None),
        unsupported={
            "payment": "stock Simply CRM/vtiger has no payments module in its webservice; "
            "payments show on the invoice as received and balance (synced with invoices)",
            "quote": "not part of the Simply CRM <-> Dinero integration",
            "order": "not part of the Simply CRM <-> Dinero integration",
            "vat_rate": "taxes are not a webservice entity: invoice lines carry the VAT "
            "percentage (tax1)",
            "currency": "read to translate currency_id, never synced",
            "payment_method": "a picklist value in the CRM, not an entity",
            "unit": "the usageunit picklist of products, carried as product.unit",
        },
        rate_limits=RATE_LIMITS,
        max_concurrency=2,
    )


@hookimpl
def configure(info: ConnectorInfo, settings: ConnectorSettings) -> ConnectorInfo | None:
    """The "Custom" mapping changes which canonical fields a connection maps."""
    typed = settings_of(settings)
    if not typed.fields and not typed.key_fields:
        return None
    for entity in typed.key_fields:
        if entity not in mapping.MODULES:
            raise ConfigError(
                f"settings.key_fields.{entity}: simplycrm has no entity {entity!r}; name one "
                f"of {', '.join(mapping.MODULES)}"
            )
    return info.model_copy(update={"entities": _entities(typed)})


@hookimpl
def auth(settings: ConnectorSettings, connection: str) -> httpx.Auth | None:
    # nothing is stored: a session is one challenge and one login away
    return SessionAuth(settings_of(settings), connection)


@hookimpl
def check(client: Client) -> CheckResult:
    settings = settings_of(client)
    try:
        body = api.ERRORS.get(client, api.ENDPOINT, params={"operation": "listtypes"})
    except ConnectorError as error:  # AuthError included: a refused login says why
        return CheckResult(ok=False, reason=str(error), account=settings.username)
    result = body.get("result") if isinstance(body, dict) else None
    types = result.get("types") if isinstance(result, dict) else None
    missing = [m for m in mapping.MODULES.values() if not isinstance(types, list)
               or m not in types]
    if missing:
        return CheckResult(
            ok=False,
            reason=f"user {settings.username!r} cannot use the module(s) {', '.join(missing)}; "
            "give the user's role access to them",
            account=settings.username,
        )
    user_id = client.auth.user_id if isinstance(client.auth, SessionAuth) else None
    return CheckResult(ok=True, account=settings.username, details={"user_id": user_id})


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
    settings: ConnectorSettings,
    context: dict[str, Any],
) -> CanonicalRecord | NativeRecord:
    if entity not in mapping.MODULES:
        raise ConnectorError(f"simplycrm has no entity {entity!r}")
    typed = settings_of(settings) if isinstance(settings, SimplyCrmSettings) else None
    return dispatch(
        entity,
        record,
        direction,
        lambda entity, native: mapping.map_in(entity, native, typed, context),
        lambda entity, canonical: mapping.map_out(entity, canonical, typed, context),
    )
