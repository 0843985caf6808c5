"""The ``bitrix24`` connector: the hook implementations syncbridge calls.

Each hook is a thin shell over a module with one job: :mod:`~syncbridge_bitrix24.reads`
(list methods, cursors, lookups), :mod:`~syncbridge_bitrix24.writes` (``batch`` writes),
:mod:`~syncbridge_bitrix24.mapping` (native <-> canonical), :mod:`~syncbridge_bitrix24.auth`
(OAuth), :mod:`~syncbridge_bitrix24.entities` (which methods serve which entity) and
:mod:`~syncbridge_bitrix24.webhooks` (events: reading notifications, ``event.bind``).

Rate limit: the portal's leaky bucket holds 50 requests and drains 2 per second. The connector
declares 2 requests per second and leaves the burst alone: the bucket is shared by every app
and integration calling the portal from the same address, so a client that spends it leaves
the others nothing but ``QUERY_LIMIT_EXCEEDED``; a sliding window could only model the burst
as 50 requests per 25 s, which is no faster after the first 25 s and stalls in 25 s steps. At
2 requests per second, ``batch`` still moves 100 records a second.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.metadata import version
from typing import Any, Literal

import httpx

from syncbridge import hookspecs
from syncbridge.credentials import Credentials
from syncbridge.describe import ConnectorInfo, EntityInfo, RateLimit
from syncbridge.errors import ConnectorError
from syncbridge.http import Client
from syncbridge.mapping import dispatch
from syncbridge.models import CanonicalRecord
from syncbridge.records import CheckResult, NativeRecord, Page, UpsertItem, UpsertResult
from syncbridge.settings import ConnectorSettings
from syncbridge.webhooks import Notice, WebhookRequest
from syncbridge_bitrix24 import api, mapping, reads, webhooks, writes
from syncbridge_bitrix24.api import PAGE_SIZE
from syncbridge_bitrix24.auth import BitrixOAuth
from syncbridge_bitrix24.entities import SPECS, UNSUPPORTED, spec_for
from syncbridge_bitrix24.settings import Bitrix24Settings, settings_of, stage_category

hookimpl = hookspecs.hookimpl

#: the bucket drains two requests a second (``limits.md``, plans below Enterprise)
RATE_LIMITS = (RateLimit(requests=2, seconds=1.0),)


@hookimpl
def describe() -> ConnectorInfo:
    return ConnectorInfo(
        name="bitrix24",
        title="Bitrix24 CRM",
        version=version("syncbridge-bitrix24"),
        settings=Bitrix24Settings,
        entities={
            entity: EntityInfo(
                name=entity,
                capabilities=spec.capabilities,
                source=spec.prefix,
                batch_size=spec.batch_size,
                page_size=PAGE_SIZE,
                fields=mapping.FIELDS[entity],
                id_field=spec.id_field,
                notes=spec.notes,
            )
            for entity, spec in SPECS.items()
        },
        unsupported=UNSUPPORTED,
        rate_limits=RATE_LIMITS,
        # at 2 requests a second, two in flight keep the budget busy while one waits
        max_concurrency=2,
        docs="https://apidocs.bitrix24.com/",
    )


@hookimpl
def auth(settings: ConnectorSettings, credentials: Credentials) -> httpx.Auth | None:
    if not isinstance(settings, Bitrix24Settings):
        return None
    if settings.uses_webhook:
        return None  # the webhook's code is in the URL of every call
    return BitrixOAuth(settings, credentials)


@hookimpl
def check(client: Client) -> CheckResult:
    settings = settings_of(client)
    account = settings.portal
    details: dict[str, Any] = {"auth": "webhook" if settings.uses_webhook else "oauth"}
    try:
        reply = api.call(client, "scope")
        scopes = [str(scope) for scope in reply.result or []]
        if "crm" not in scopes:
            return CheckResult(
                ok=False,
                reason="the webhook/app lacks the crm scope: add it in the portal",
                account=account,
                scopes=scopes,
                details=details,
            )
        missing = []
        for category in sorted({stage_category(stage) for stage in settings.stages.values()}):
            known = reads.stage_semantics(client, category)
            missing += [
                f"{status.value} -> {stage}"
                for status, stage in settings.stages.items()
                if stage_category(stage) == category and stage not in known
            ]
    except ConnectorError as error:
        return CheckResult(ok=False, reason=str(error), account=account, details=details)
    if missing:
        return CheckResult(
            ok=False,
            reason="stage_map names invoice stages the portal does not have: " + ", ".join(missing),
            account=account,
            scopes=scopes,
            details=details,
        )
    return CheckResult(ok=True, account=account, scopes=scopes, details=details)


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
    return reads.lookup_keys(client, entity, keys)


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
    spec_for(entity)
    return dispatch(
        entity,
        record,
        direction,
        lambda entity, native: mapping.map_in(entity, native, settings, context),
        lambda entity, canonical: mapping.map_out(entity, canonical, settings),
    )


@hookimpl
def webhook(settings: ConnectorSettings, request: WebhookRequest) -> Notice | None:
    return webhooks.read_event(settings, request)


@hookimpl
def subscribe(client: Client, url: str, entities: list[str]) -> list[str] | None:
    return webhooks.subscribe_events(client, url, entities)
