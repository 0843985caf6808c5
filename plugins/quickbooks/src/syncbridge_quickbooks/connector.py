"""The ``quickbooks`` connector: the hook implementations syncbridge calls.

Each hook is a thin shell over the module that does the work: :mod:`.reads` (query paging,
change data capture), :mod:`.writes` (SyncTokens, sparse updates, batches, ``requestid``),
:mod:`.mapping` (native <-> canonical) and :mod:`.api` (the wire). Authorisation is Intuit's
OAuth2 authorization-code flow, run by ``syncbridge auth <conn>`` from the app described by
:func:`oauth`; :func:`auth` signs requests with the stored tokens and rotates the refresh
token on every refresh. Intuit's webhook notifications are verified and read by
:mod:`.webhooks`; they are configured in Intuit's developer dashboard, not through the API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.metadata import version
from typing import Any, Literal

import httpx

from syncbridge import hookspecs
from syncbridge.credentials import Credentials
from syncbridge.describe import Capability, ConnectorInfo, EntityInfo, RateLimit
from syncbridge.errors import AuthError, ConnectorError
from syncbridge.http import Client
from syncbridge.mapping import dispatch
from syncbridge.models import CanonicalRecord
from syncbridge.oauth import OAuth2Auth, OAuthApp
from syncbridge.records import CheckResult, NativeRecord, Page, UpsertItem, UpsertResult
from syncbridge.settings import ConnectorSettings
from syncbridge.webhooks import Notice, WebhookRequest
from syncbridge_quickbooks import mapping, reads, webhooks, writes
from syncbridge_quickbooks.api import api
from syncbridge_quickbooks.entities import ENTITIES
from syncbridge_quickbooks.settings import MAX_PAGE, SCOPE, QuickBooksSettings

hookimpl = hookspecs.hookimpl

#: Intuit's limits per company (realmId) and app
RATE_LIMIT = RateLimit(requests=500, seconds=60)
MAX_CONCURRENCY = 10

_WRITABLE = frozenset(
    {
        Capability.READ,
        Capability.INCREMENTAL,
        Capability.CREATE,
        Capability.UPDATE,
        Capability.DELETE,
        Capability.BATCH,
        Capability.IDEMPOTENT_CREATE,
    }
)
_CAPABILITIES: dict[str, frozenset[Capability]] = {
    **dict.fromkeys(ENTITIES, _WRITABLE),
    "vat_rate": frozenset({Capability.READ}),
    "currency": frozenset(
        {
            Capability.READ,
            Capability.INCREMENTAL,
            Capability.CREATE,
            Capability.DELETE,
            Capability.BATCH,
            Capability.IDEMPOTENT_CREATE,
        }
    ),
}
_NOTES = {
    "company": "customers with a CompanyName, and jobs/projects (named Parent:Job)",
    "contact": "customers that are persons; a person under a company has its company_id",
    "product": "items; new items get Type and IncomeAccountRef from the settings",
    "invoice": "status from Balance and EmailStatus; total and balance are computed; lines "
    "carry their tax code and its rate (a line with a rate only gets the code of that rate)",
    "quote": "estimates; status from TxnStatus; lines carry tax code and rate as invoices do",
    "payment": "one invoice per payment (LinkedTxn); payments over several invoices fail",
    "payment_method": "payment methods",
    "vat_rate": "tax codes with their summed sales rates; read-only",
    "currency": "CompanyCurrency (multicurrency companies); the home currency is not listed",
}


def _settings(settings: ConnectorSettings) -> QuickBooksSettings:
    return QuickBooksSettings.of(settings)


@hookimpl
def describe() -> ConnectorInfo:
    return ConnectorInfo(
        name="quickbooks",
        title="QuickBooks Online",
        version=version("syncbridge-quickbooks"),
        settings=QuickBooksSettings,
        entities={
            entity: EntityInfo(
                name=entity,
                capabilities=_CAPABILITIES[entity],
                source=qbo.path,
                batch_size=writes.BATCH_SIZE if Capability.BATCH in _CAPABILITIES[entity] else 1,
                page_size=MAX_PAGE,
                fields=mapping.FIELDS[entity],
                id_field="Id",
                notes=_NOTES[entity],
            )
            for entity, qbo in ENTITIES.items()
        },
        unsupported={
            "unit": "QuickBooks Online has no units of measure",
            "order": "QuickBooks Online has no sales orders (SalesOrder is QuickBooks Desktop)",
        },
        rate_limits=(RATE_LIMIT,),
        max_concurrency=MAX_CONCURRENCY,
        docs="https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities",
    )


@hookimpl
def oauth(settings: ConnectorSettings) -> OAuthApp:
    qbo = _settings(settings)
    authorize_url, token_url, revoke_url = qbo.oauth_endpoints()
    return OAuthApp(
        authorize_url=authorize_url,
        token_url=token_url,
        revoke_url=revoke_url,
        client_id=qbo.client_id,
        client_secret=qbo.client_secret.get_secret_value(),
        scopes=(SCOPE,),
        keep=("realmId",),
    )


#: stands in for the access token of credentials bootstrapped from a refresh token alone
BOOTSTRAP_ACCESS_TOKEN = "(none yet: refresh)"


def bootstrap(settings: QuickBooksSettings) -> dict[str, Any]:
    """Credentials from the settings' tokens, as ``syncbridge auth`` would have stored them.

    Without an access token the placeholder is marked expired, so the first request
    exchanges the refresh token; with one, it is used until QuickBooks answers 401.
    """
    assert settings.refresh_token is not None
    token: dict[str, Any] = {
        "refresh_token": settings.refresh_token.get_secret_value(),
        "token_type": "bearer",
        "realmId": settings.realm_id,
    }
    if settings.access_token is not None:
        token["access_token"] = settings.access_token.get_secret_value()
    else:
        token.update({"access_token": BOOTSTRAP_ACCESS_TOKEN, "expires_at": 1.0})
    return token


@hookimpl
def auth(settings: ConnectorSettings, credentials: Credentials, connection: str) -> httpx.Auth:
    qbo = _settings(settings)
    if qbo.refresh_token is not None and not credentials.load():
        credentials.save(bootstrap(qbo))
    return OAuth2Auth(oauth(settings), credentials, connection)


@hookimpl
def check(client: Client) -> CheckResult:
    try:
        qbo = api(client)
        info = qbo.company_info()
    except AuthError as error:
        return CheckResult(ok=False, reason=str(error))
    except ConnectorError as error:
        return CheckResult(ok=False, reason=f"QuickBooks did not answer as expected: {error}")
    name = str(info.get("CompanyName") or "")
    return CheckResult(
        ok=True,
        account=f"{name} (realmId {qbo.realm})" if name else f"realmId {qbo.realm}",
        companies=[{"id": qbo.realm, "name": name, "country": info.get("Country")}],
        scopes=[SCOPE],
        details={"minorversion": qbo.settings.minor_version},
    )


@hookimpl
def fetch(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    return reads.fetch_pages(api(client), entity, since, query)


@hookimpl
def upsert(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    return writes.Writer(api(client), entity).upsert(items)


@hookimpl
def delete(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    return writes.Writer(api(client), entity).delete(ids)


# the hook's name is fixed by the contract, shadowing the builtin in this module only
@hookimpl
def map(
    entity: str,
    record: NativeRecord | CanonicalRecord,
    direction: Literal["in", "out"],
    context: dict[str, Any],
) -> CanonicalRecord | NativeRecord:
    if entity not in mapping.MAPPERS:
        raise ConnectorError(f"quickbooks has no entity {entity!r}")
    return dispatch(
        entity,
        record,
        direction,
        lambda entity, native: mapping.map_in(entity, native, context),
        lambda entity, canonical: mapping.map_out(entity, canonical, context),
    )


@hookimpl
def webhook(settings: ConnectorSettings, request: WebhookRequest) -> Notice:
    return webhooks.read_notification(_settings(settings), request)


@hookimpl
def subscribe(client: Client, url: str, entities: list[str]) -> None:
    """None: Intuit has no subscription API. An app's webhook endpoint and the entities it is
    notified of are set in Intuit's developer dashboard (Webhooks), which also shows the
    Verifier Token for ``webhook_verifier_token``; they apply to every company connected to
    the app."""
    return None
