"""The ``{{ cookiecutter.connector_name }}`` connector: the hooks syncbridge calls for {{ cookiecutter.system_title }}.

The API, in short (the emulator in :mod:`{{ cookiecutter.package_name }}.emulator` serves exactly this):

- every request carries the key in an ``X-Api-Key`` header; a wrong one gets 401;
- ``GET /companies`` and ``GET /products`` list records by id, ``page``/``per_page`` (at most
  100), and with ``updated_since=<ISO 8601 instant>`` only those changed strictly after it;
- ``POST /<resource>`` creates (an ``Idempotency-Key`` header makes a repeated create return
  the first record instead of a second one); ``PUT /<resource>/<id>`` replaces a record;
- errors are JSON, ``{"error": {"status": ..., "message": ...}}``;
- 60 requests per minute per key; over it, 429 with ``Retry-After``.

What the core already does, so this module does not: base URL, auth header (from the
:func:`auth` hook), retries with backoff on 429/5xx/connection errors (reads and PUTs; a POST
only when it surely never arrived), pacing under :data:`RATE_LIMITS`, and the request log.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

import httpx
from syncbridge import hookspecs
from syncbridge.credentials import Credentials
from syncbridge.describe import Capability, ConnectorInfo, EntityInfo, RateLimit
from syncbridge.errors import AuthError, ConnectorError
from syncbridge.http import Client
from syncbridge.mapping import dispatch
from syncbridge.models import CanonicalRecord
from syncbridge.records import CheckResult, NativeRecord, Page, UpsertItem, UpsertResult
from syncbridge.settings import ConnectorSettings

from {{ cookiecutter.package_name }} import mapping
from {{ cookiecutter.package_name }}.settings import MAX_PAGE_SIZE, {{ cookiecutter.class_name }}Settings

hookimpl = hookspecs.hookimpl

NAME = "{{ cookiecutter.connector_name }}"
TITLE = "{{ cookiecutter.system_title }}"
#: the published limit, shared with the emulator so that both always agree
RATE_LIMITS = (RateLimit(requests=60, seconds=60),)
API_KEY_HEADER = "X-Api-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: canonical entity -> API resource path
RESOURCES = {"company": "companies", "product": "products"}

# Creates are idempotent by the Idempotency-Key header, so a create whose response was lost
# can simply be sent again. No BATCH (one record per request), no DELETE (the API has none),
# no LOOKUP (the API cannot search by idempotency key; IDEMPOTENT_CREATE makes it unneeded).
CAPABILITIES = frozenset(
    {
        Capability.READ,
        Capability.INCREMENTAL,
        Capability.CREATE,
        Capability.UPDATE,
        Capability.IDEMPOTENT_CREATE,
    }
)


def _version() -> str:
    try:
        return version("{{ cookiecutter.project_slug }}")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0"


class ApiKeyAuth(httpx.Auth):
    """Sends the API key in its header on every request."""

    def __init__(self, settings: {{ cookiecutter.class_name }}Settings) -> None:
        self._key = settings.api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[API_KEY_HEADER] = self._key.get_secret_value()
        yield request


def _settings(client: Client) -> {{ cookiecutter.class_name }}Settings:
    settings = client.settings
    if not isinstance(settings, {{ cookiecutter.class_name }}Settings):
        raise ConnectorError(f"{NAME} needs {{ cookiecutter.class_name }}Settings, got {type(settings).__name__}")
    return settings


def _resource(entity: str) -> str:
    if entity not in RESOURCES:
        raise ConnectorError(f"{NAME} has no entity {entity!r}; it offers: {', '.join(RESOURCES)}")
    return RESOURCES[entity]


def api_message(response: httpx.Response) -> str:
    """The API's own error message, verbatim, or the start of the body if it is not JSON."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return response.text[:200]


def _auth_error(response: httpx.Response) -> AuthError:
    return AuthError(
        f"{TITLE} refused the API key ({api_message(response)}): check api_key in the "
        "connection's settings"
    )


def _get(client: Client, path: str, params: Mapping[str, Any], doing: str) -> Any:
    """GET ``path`` and return its JSON body; errors become ones the engine reports."""
    try:
        response = client.get(path, params=params)
    except httpx.HTTPError as error:  # retries are exhausted by now
        raise ConnectorError(f"{doing}: no answer from {TITLE}: {error}") from None
    if response.status_code == 401:
        raise _auth_error(response)
    if not response.is_success:
        status = response.status_code
        raise ConnectorError(f"{doing}: {TITLE} answered {status}: {api_message(response)}")
    return response.json()


@hookimpl
def describe() -> ConnectorInfo:
    def entity(name: str, fields: frozenset[str], notes: str) -> EntityInfo:
        return EntityInfo(
            name=name,
            capabilities=CAPABILITIES,
            source=f"/{RESOURCES[name]}",
            page_size=MAX_PAGE_SIZE,
            fields=fields,
            notes=notes,
        )

    return ConnectorInfo(
        name=NAME,
        title=TITLE,
        version=_version(),
        settings={{ cookiecutter.class_name }}Settings,
        entities={
            "company": entity("company", mapping.COMPANY_FIELDS, "address is one nested object"),
            "product": entity("product", mapping.PRODUCT_FIELDS, "price is a decimal string"),
        },
        unsupported={
            name: f"{TITLE} keeps companies and products only"
            for name in ("contact", "quote", "order", "invoice", "payment")
        },
        rate_limits=RATE_LIMITS,
        max_concurrency=2,
        uses_http=True,
    )


@hookimpl
def auth(settings: ConnectorSettings, credentials: Credentials) -> httpx.Auth | None:
    if not isinstance(settings, {{ cookiecutter.class_name }}Settings):
        raise ConnectorError(f"{NAME} needs {{ cookiecutter.class_name }}Settings, got {type(settings).__name__}")
    return ApiKeyAuth(settings)


@hookimpl
def check(client: Client) -> CheckResult:
    # one cheap authenticated request; every failure is a red light with a reason, never
    # an exception, because `syncbridge check` shows it next to the connection's name
    try:
        response = client.get("/account")
    except httpx.HTTPError as error:
        return CheckResult(ok=False, reason=f"cannot reach {TITLE} at {client.base_url}: {error}")
    if response.status_code == 401:
        return CheckResult(ok=False, reason=str(_auth_error(response)))
    if not response.is_success:
        return CheckResult(
            ok=False, reason=f"{TITLE} answered {response.status_code}: {api_message(response)}"
        )
    account = response.json()["data"]
    return CheckResult(
        ok=True, account=str(account.get("name", "")), details={"plan": account.get("plan")}
    )


@hookimpl
def fetch(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    return _pages(client, _resource(entity), since)


def _pages(client: Client, resource: str, since: str | None) -> Iterator[Page]:
    """Every page of ``resource`` (changed after ``since``), each with the cursor so far.

    The API lists by id, so records changing while we read never move between pages (an
    ordering by modification time would shift them and skip one). The cursor is the newest
    ``updated_at`` seen, in the API's own format: it goes back verbatim as ``updated_since``,
    which the API applies as "strictly after", so the next run repeats nothing it saw.
    (A record changed mid-read on a page already read, while a later page shows a newer
    change, ends up behind the cursor; an API that reports its own "as of" time per listing
    lets a connector use that as the cursor instead and close even that gap.)
    """
    params: dict[str, Any] = {"per_page": _settings(client).page_size}
    newest = None
    if since is not None:
        params["updated_since"] = since
        newest = _instant(since, f"the cursor of {resource}")
    cursor = since
    page = 1
    while True:
        body = _get(client, f"/{resource}", {**params, "page": page}, f"reading {resource}")
        records: list[NativeRecord] = body["data"]
        for record in records:
            stamp = _instant(record.get("updated_at"), f"{resource} {record.get('id')}")
            if newest is None or stamp > newest:
                cursor, newest = record["updated_at"], stamp
        yield Page(records=records, cursor=cursor)
        if page >= int(body["meta"]["last_page"]):
            return
        page += 1


def _instant(value: Any, what: str) -> datetime:
    """An ISO 8601 timestamp of the API, or a ConnectorError saying whose it was."""
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ConnectorError(
            f"{what}: {value!r} is not an ISO 8601 timestamp (a stored cursor from another "
            "connector? run once with --full)"
        ) from None


@hookimpl
def upsert(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    resource = _resource(entity)
    for item in items:
        yield _write(client, resource, item)


def _write(client: Client, resource: str, item: UpsertItem) -> UpsertResult:
    """One create (POST with the idempotency key) or update (PUT of the whole record)."""
    try:
        if item.id is None:
            response = client.post(
                f"/{resource}", json=item.record, headers={IDEMPOTENCY_HEADER: item.key}
            )
        else:
            response = client.put(f"/{resource}/{item.id}", json=item.record)
    except httpx.HTTPError as error:
        # the outcome is unknown (the response may have been lost after the API acted):
        # fail this record; the engine sends it again with the same key next run
        return UpsertResult.failed(item.key, f"no answer from {TITLE}: {error}", item.id)
    if response.status_code == 401:
        raise _auth_error(response)  # every other record would fail the same way
    if not response.is_success:
        return UpsertResult.failed(item.key, api_message(response), item.id)
    record: NativeRecord = response.json()["data"]
    return UpsertResult(key=item.key, id=str(record["id"]), record=record)


# the hook's name is fixed by the contract, shadowing the builtin in this module only
@hookimpl
def map(
    entity: str, record: NativeRecord | CanonicalRecord, direction: Literal["in", "out"]
) -> CanonicalRecord | NativeRecord:
    return dispatch(entity, record, direction, mapping.to_canonical, mapping.to_native)
