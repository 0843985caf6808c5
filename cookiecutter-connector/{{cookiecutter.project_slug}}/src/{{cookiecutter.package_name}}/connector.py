"""The ``{{ cookiecutter.connector_name }}`` connector: the hooks syncbridge calls for {{ cookiecutter.system_title }}.

The API, in short (the emulator in :mod:`{{ cookiecutter.package_name }}.emulator` serves exactly this):

- every request carries the key in an ``X-Api-Key`` header; a wrong one gets 401;
- ``GET /companies`` and ``GET /products`` list records by id, ``page``/``per_page`` (at most
  100), and with ``updated_since=<ISO 8601 instant>`` only those changed strictly after it;
  ``GET /<resource>/<id>`` answers one record;
- ``POST /<resource>`` creates (an ``Idempotency-Key`` header makes a repeated create return
  the first record instead of a second one); ``PUT /<resource>/<id>`` replaces a record;
- errors are JSON, ``{"error": {"status": ..., "message": ...}}``;
- 60 requests per minute per key; over it, 429 with ``Retry-After``.

The read path is declarations only (:data:`API`): paging, the incremental cursor and what
each answer means are :mod:`syncbridge.rest`'s. The core does the rest: base URL, the auth
header (from :func:`auth`), retries with backoff on 429/5xx/connection errors (reads and PUTs;
a POST only when it surely never arrived), pacing under :data:`RATE_LIMITS`, the request log.
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
    EntityInfo,
    NativeRecord,
    Page,
    RateLimit,
    UpsertItem,
    UpsertResult,
    dispatch,
    hookimpl,
)
from syncbridge.rest import Api, ErrorMap, Incremental, PageNumber, Resource

from {{ cookiecutter.package_name }} import mapping
from {{ cookiecutter.package_name }}.settings import MAX_PAGE_SIZE, {{ cookiecutter.class_name }}Settings

NAME = "{{ cookiecutter.connector_name }}"
TITLE = "{{ cookiecutter.system_title }}"
#: the published limit, shared with the emulator so that both always agree
RATE_LIMITS = (RateLimit(requests=60, seconds=60),)
API_KEY_HEADER = "X-Api-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"

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

# -- the read path: declarations --------------------------------------------------------------

#: what the API's answers mean: where its error bodies keep the message, and the fix for 401
ERRORS = ErrorMap(
    system=TITLE,
    message="error.message",
    auth_hint="check api_key in connections.{connection}.settings",
)


def _listing(path: str) -> Resource:
    """A listing of the API. It lists by id, so the cursor comes with the last page."""
    return Resource(
        path,
        records="data",
        paginator=PageNumber(last_page="meta.last_page"),
        incremental=Incremental(field="updated_at", since="updated_since", inclusive=False),
        by_id=path + "/{id}",
        record="data",
        total="meta.total",
        page_size=MAX_PAGE_SIZE,
    )


#: canonical entity -> the API's resource
API = Api(ERRORS, {"company": _listing("/companies"), "product": _listing("/products")})


@hookimpl
def fetch(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    return API.fetch(client, entity, since, query)


# -- the rest of the contract -----------------------------------------------------------------


class ApiKeyAuth(httpx.Auth):
    """Sends the API key in its header on every request."""

    def __init__(self, settings: {{ cookiecutter.class_name }}Settings) -> None:
        self._key = settings.api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[API_KEY_HEADER] = self._key.get_secret_value()
        yield request


@hookimpl
def describe() -> ConnectorInfo:
    def entity(name: str, fields: frozenset[str], notes: str) -> EntityInfo:
        return EntityInfo(
            name=name,
            capabilities=CAPABILITIES,
            source=API.resource(name).path,
            page_size=MAX_PAGE_SIZE,
            fields=fields,
            notes=notes,
        )

    return ConnectorInfo(
        name=NAME,
        title=TITLE,
        version=version("{{ cookiecutter.project_slug }}"),
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
def auth(settings: ConnectorSettings) -> httpx.Auth | None:
    if not isinstance(settings, {{ cookiecutter.class_name }}Settings):
        raise ConnectorError(f"{NAME} needs {{ cookiecutter.class_name }}Settings, got {type(settings).__name__}")
    return ApiKeyAuth(settings)


@hookimpl
def check(client: Client) -> CheckResult:
    # one cheap authenticated request; every failure is a red light with a reason, never
    # an exception, because `syncbridge check` shows it next to the connection's name
    try:
        body = ERRORS.get(client, "/account")
    except ConnectorError as error:  # AuthError too: wrong key, with the fix
        return CheckResult(ok=False, reason=str(error))
    account = body.get("data") or {}
    return CheckResult(
        ok=True, account=str(account.get("name", "")), details={"plan": account.get("plan")}
    )


@hookimpl
def upsert(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    # ERRORS.write makes every failure this record's (a 422 with the API's message, or
    # "no answer": the engine's outbox checks before it sends the record again)
    resource = API.resource(entity)
    for item in items:
        if item.id is None:
            yield ERRORS.write(
                client,
                item,
                "POST",
                resource.path,
                json=item.record,
                headers={IDEMPOTENCY_HEADER: item.key},
                record="data",
            )
        else:
            path = resource.item_path(item.id)
            yield ERRORS.write(client, item, "PUT", path, json=item.record, record="data")


# the hook's name is fixed by the contract, shadowing the builtin in this module only
@hookimpl
def map(
    entity: str, record: NativeRecord | CanonicalRecord, direction: Literal["in", "out"]
) -> CanonicalRecord | NativeRecord:
    return dispatch(entity, record, direction, mapping.to_canonical, mapping.to_native)
