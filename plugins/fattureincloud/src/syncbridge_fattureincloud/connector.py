"""The ``fattureincloud`` connector: the hook implementations syncbridge calls.

Each hook is a thin shell over :mod:`~syncbridge_fattureincloud.api` (the API as the
connector toolkit sees it: resources, error map, reading), :mod:`~syncbridge_fattureincloud.writes`
(writing, with :mod:`~syncbridge_fattureincloud.lookups`) and the mappings
(:mod:`~syncbridge_fattureincloud.mapping`, :mod:`~syncbridge_fattureincloud.documents`);
``webhook`` and ``subscribe`` over :mod:`~syncbridge_fattureincloud.webhooks` (CloudEvents
notifications, checked with the ES256 token of :mod:`~syncbridge_fattureincloud.signing`).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
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
    Credentials,
    EntityInfo,
    NativeRecord,
    Page,
    RateLimit,
    UpsertItem,
    UpsertResult,
    dispatch,
    hookimpl,
)
from syncbridge.oauth import OAuth2Auth, OAuthApp
from syncbridge.rest import select
from syncbridge.webhooks import Notice, WebhookRequest
from syncbridge_fattureincloud import api, documents, mapping, webhooks, writes
from syncbridge_fattureincloud.settings import FicSettings

#: the published limits: 300 requests per 5 minutes per company, 1,000 per hour per
#: company-app pair (docs: basics/limits-and-quotas)
RATE_LIMITS = (RateLimit(requests=300, seconds=300), RateLimit(requests=1000, seconds=3600))

WRITABLE = frozenset(
    {
        Capability.READ,
        Capability.INCREMENTAL,
        Capability.CREATE,
        Capability.UPDATE,
        Capability.DELETE,
    }
)
READ_ONLY = frozenset({Capability.READ})
_NO_KEY = (
    "no LOOKUP/IDEMPOTENT_CREATE: the API has no idempotency key and no field reserved for "
    "one, so a create interrupted by a crash is recovered by matching"
)

#: entities read from a paginated listing (the rest are reference lists)
LISTED = frozenset({"company", "product", *documents.FIELDS})


def _entities() -> dict[str, EntityInfo]:
    entities = {
        "company": EntityInfo(
            name="company",
            capabilities=WRITABLE,
            source="/c/{company_id}/entities/clients",
            fields=mapping.COMPANY_FIELDS,
            notes="clients; one without a name holds no saved data and is not synced. " + _NO_KEY,
        ),
        "product": EntityInfo(
            name="product",
            capabilities=WRITABLE,
            source="/c/{company_id}/products",
            fields=mapping.PRODUCT_FIELDS,
            notes="a product without a code is not synced (either way). " + _NO_KEY,
        ),
        "vat_rate": EntityInfo(
            name="vat_rate",
            capabilities=READ_ONLY,
            source="/c/{company_id}/info/vat_types",
            fields=frozenset({"rate", "description", "exemption_code"}),
            notes="read-only: linked by value",
        ),
        "currency": EntityInfo(
            name="currency",
            capabilities=READ_ONLY,
            source="/info/currencies",
            notes="read-only list of the API",
        ),
        "payment_method": EntityInfo(
            name="payment_method",
            capabilities=READ_ONLY,
            source="/c/{company_id}/info/payment_methods + /info/payment_accounts",
            notes="read-only: linked by name; iban falls back to the default payment account's",
        ),
        "unit": EntityInfo(
            name="unit",
            capabilities=READ_ONLY,
            source="/info/measures",
            fields=frozenset({"name"}),
            notes="read-only: units are plain strings, the id is the name",
        ),
    }
    for kind in ("quote", "order", "invoice"):
        entities[kind] = EntityInfo(
            name=kind,
            capabilities=WRITABLE,
            source=f"/c/{{company_id}}/issued_documents?type={kind}",
            fields=documents.FIELDS[kind],
            notes="e-invoices sent to the SDI are locked. " + _NO_KEY,
        )
    return entities


ENTITIES = _entities()


@hookimpl
def describe() -> ConnectorInfo:
    return ConnectorInfo(
        name="fattureincloud",
        title="Fatture in Cloud",
        version=version("syncbridge-fattureincloud"),
        settings=FicSettings,
        entities=ENTITIES,
        unsupported={
            "contact": "Fatture in Cloud has no contact persons: a client only carries "
            "contact_person, email and phone",
            "payment": "payments live inside each invoice's payments_list; the invoice's "
            "status, balance and due date carry them",
        },
        rate_limits=RATE_LIMITS,
        max_concurrency=4,
        docs="https://developers.fattureincloud.it",
    )


class BearerToken(httpx.Auth):
    """``Authorization: Bearer <manual token>``: a manual token never expires or refreshes."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def oauth_app(settings: FicSettings) -> OAuthApp:
    assert settings.client_id is not None and settings.client_secret is not None
    return OAuthApp(
        authorize_url=f"{settings.oauth_base_url}/oauth/authorize",
        token_url=f"{settings.oauth_base_url}/oauth/token",
        client_id=settings.client_id,
        client_secret=settings.client_secret.get_secret_value(),
        scopes=tuple(settings.scopes),
        # the official SDK sends the client credentials in the body, not as HTTP Basic
        token_auth_method="client_secret_post",
    )


@hookimpl
def oauth(settings: ConnectorSettings) -> OAuthApp | None:
    if not isinstance(settings, FicSettings) or not settings.uses_oauth:
        return None
    return oauth_app(settings)


@hookimpl
def auth(
    settings: ConnectorSettings, credentials: Credentials, connection: str
) -> httpx.Auth | None:
    if not isinstance(settings, FicSettings):
        return None
    if settings.access_token is not None:
        return BearerToken(settings.access_token.get_secret_value())
    return OAuth2Auth(oauth_app(settings), credentials, connection)


def _granted_scopes(client: Client, settings: FicSettings) -> list[str]:
    """The OAuth token's scopes (RFC 6749: absent from the token answer = as requested).

    The API itself exposes no scopes, and a manual token's permissions are not readable.
    """
    if not settings.uses_oauth:
        return []
    auth_ = client.auth
    stored = auth_.credentials.load() if isinstance(auth_, OAuth2Auth) else {}
    scope = stored.get("scope")
    if isinstance(scope, str) and scope.strip():
        return scope.split()
    return list(settings.scopes)


@hookimpl
def check(client: Client) -> CheckResult:
    context = api.fic(client)
    try:
        user = select(context.errors.get(client, "/user/info"), "data")
        listed, body = context.errors.read(client, "/user/companies")
    except ConnectorError as error:  # AuthError too: a red light with the fix
        return CheckResult(ok=False, reason=str(error))
    user = user if isinstance(user, dict) else {}
    account = str(user.get("email") or user.get("name") or "")
    companies: list[Mapping[str, Any]] = []
    for company in select(body, "data.companies") or []:
        if not isinstance(company, dict):
            continue
        companies.append({"id": company.get("id"), "name": company.get("name")})
        for controlled in company.get("controlled_companies") or []:
            companies.append({"id": controlled.get("id"), "name": controlled.get("name")})
    details = {
        name.lower(): listed.headers[name]
        for name in (
            "RateLimit-HourlyRemaining",
            "RateLimit-HourlyLimit",
            "RateLimit-MonthlyRemaining",
            "RateLimit-MonthlyLimit",
        )
        if name in listed.headers
    }
    settings = context.settings
    scopes = _granted_scopes(client, settings)
    if settings.company_id not in {company["id"] for company in companies}:
        reached = ", ".join(f"{c['id']} ({c['name']})" for c in companies) or "none"
        return CheckResult(
            ok=False,
            reason=f"company {settings.company_id} is not reachable with these credentials; "
            f"they reach: {reached}",
            account=account,
            companies=companies,
            scopes=scopes,
            details=details,
        )
    return CheckResult(
        ok=True, account=account, companies=companies, scopes=scopes, details=details
    )


@hookimpl
def fetch(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    if entity not in ENTITIES:
        raise ConnectorError(f"fattureincloud has no entity {entity!r}")
    raw = query.get("ids")
    ids = None if raw is None else [str(native_id) for native_id in raw]
    if entity in LISTED:
        return api.read(client, entity, since, ids)
    return _reference(client, entity, ids)


def _reference(client: Client, entity: str, ids: list[str] | None) -> Iterator[Page]:
    records = api.reference(client, entity)
    if ids is not None:
        records = [record for record in records if str(record.get("id")) in ids]
    yield Page(records)


@hookimpl
def upsert(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    return writes.upsert_items(client, entity, items)


@hookimpl
def delete(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    return writes.delete_ids(client, entity, ids)


# the hook's name is fixed by the contract, shadowing the builtin in this module only
@hookimpl
def map(
    entity: str, record: NativeRecord | CanonicalRecord, direction: Literal["in", "out"]
) -> CanonicalRecord | NativeRecord:
    return dispatch(entity, record, direction, _map_in, _map_out)


def _map_in(entity: str, record: NativeRecord) -> CanonicalRecord:
    if entity in mapping.MAP_IN:
        return mapping.MAP_IN[entity](record)
    if entity in documents.FIELDS:
        return documents.document_in(entity, record)
    raise ConnectorError(f"fattureincloud has no entity {entity!r}")


def _map_out(entity: str, record: CanonicalRecord) -> NativeRecord:
    if entity in mapping.MAP_OUT:
        return mapping.MAP_OUT[entity](record)
    if entity in documents.FIELDS:
        return documents.document_out(entity, record)
    raise ConnectorError(f"fattureincloud has no entity {entity!r}")


@hookimpl
def webhook(settings: ConnectorSettings, request: WebhookRequest) -> Notice | None:
    if not isinstance(settings, FicSettings):
        return None
    return webhooks.read(settings, request)


@hookimpl
def subscribe(client: Client, url: str, entities: list[str]) -> list[str] | None:
    return webhooks.subscribe(client, url, entities)
