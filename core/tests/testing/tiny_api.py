"""Tiny CRM: an emulator and two connectors to it, for the fault check's own tests.

The API: ``GET /companies`` (``page``/``per_page``, ``updated_since``), ``GET
/companies/{id}``, ``POST /companies`` (an ``Idempotency-Key`` header makes a repeated create
answer the first record), behind an ``X-Api-Key`` header; errors are ``{"error": {"message":
...}}``.

:class:`Careful` is written as the template is, with :mod:`syncbridge.rest`: every failure is
the record's, with one readable line. :class:`Careless` is the connector the fault check must
catch: it parses answers itself (an HTML page or JSON cut short is a traceback), sends a create
whose answer never came again at once without a key (a copy), and pastes error bodies into
its reasons (HTML, on several lines).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator, Mapping
from datetime import datetime
from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncbridge import (
    CanonicalRecord,
    Capability,
    CheckResult,
    Client,
    ConnectorInfo,
    ConnectorSettings,
    EntityInfo,
    HttpSettings,
    NativeRecord,
    Page,
    UpsertItem,
    UpsertResult,
    hookimpl,
)
from syncbridge.emulator import (
    ApiKeyAuth,
    AuthFailure,
    BadRequest,
    Emulator,
    EmulatorOptions,
    Record,
    json_response,
    paginate_pages,
    query_int,
    read_object,
)
from syncbridge.models import Company
from syncbridge.rest import Api, ErrorMap, Incremental, PageNumber, Resource

API_KEY = "tiny-test-key-0123"
FIELDS = ("name", "vat_number", "email", "city", "country")


class TinyEmulator(Emulator):
    system = "tiny"
    title = "Tiny CRM (test emulator)"

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        self.idempotency: dict[str, int] = {}
        super().__init__(options)

    def populate(self) -> None:
        companies = self.store.table("companies")
        for _ in range(self.options.records):
            company = self.fake.company()
            companies.insert(
                {
                    "name": company.name,
                    "vat_number": company.vat_number,
                    "email": company.email,
                    "city": company.address.city,
                    "country": company.country,
                }
            )

    def routes(self) -> list[Route]:
        auth = ApiKeyAuth({API_KEY}, header="X-Api-Key", on_failure=self.refuse)
        return [
            Route("/companies", auth(self.list_companies), methods=["GET"]),
            Route("/companies", auth(self.create_company), methods=["POST"]),
            Route("/companies/{id:int}", auth(self.get_company), methods=["GET"]),
        ]

    def settings_for(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "api_key": API_KEY}

    def error(self, status: int, message: str, **details: Any) -> Response:
        return json_response({"error": {"message": message, **details}}, status)

    def refuse(self, request: Request, why: AuthFailure) -> Response:
        return self.error(401, "API key not valid")

    async def list_companies(self, request: Request) -> Response:
        table = self.store.table("companies")
        since = request.query_params.get("updated_since")
        rows = table.list() if since is None else table.changed_since(datetime.fromisoformat(since))
        rows.sort(key=lambda row: int(row["id"]))
        page = paginate_pages(
            rows,
            query_int(request, "page", 1, minimum=1),
            query_int(request, "per_page", 50, minimum=1, maximum=100),
        )
        return json_response(
            {
                "data": [_render(row) for row in page.items],
                "meta": {"last_page": page.last_page, "total": page.total},
            }
        )

    async def get_company(self, request: Request) -> Response:
        row = self.store.table("companies").get(request.path_params["id"])
        if row is None:
            return self.error(404, "no such company")
        return json_response({"data": _render(row)})

    async def create_company(self, request: Request) -> Response:
        body = await read_object(request)
        if not str(body.get("name") or "").strip():
            raise BadRequest("name is required", 422)
        key = request.headers.get("Idempotency-Key")
        table = self.store.table("companies")
        if key and key in self.idempotency:
            existing = table.get(self.idempotency[key])
            if existing is not None:
                return json_response({"data": _render(existing)}, 200)
        row = table.insert({field: body.get(field) for field in FIELDS})
        if key:
            self.idempotency[key] = int(row["id"])
        return json_response({"data": _render(row)}, 201)


def _render(row: Record) -> dict[str, Any]:
    return {
        **row,
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


def create_app(options: EmulatorOptions) -> Emulator:
    return TinyEmulator(options)


# -- the connectors ---------------------------------------------------------------------------


class TinySettings(HttpSettings):
    base_url: str = "http://127.0.0.1"
    api_key: SecretStr = Field(description="the API key")


class _Key(httpx.Auth):
    def __init__(self, settings: TinySettings) -> None:
        self.key = settings.api_key.get_secret_value()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Api-Key"] = self.key
        yield request


ERRORS = ErrorMap(system="Tiny CRM", message="error.message")
API = Api(
    ERRORS,
    {
        "company": Resource(
            "/companies",
            records="data",
            paginator=PageNumber(last_page="meta.last_page"),
            incremental=Incremental(field="updated_at", since="updated_since", inclusive=False),
            by_id="/companies/{id}",
            record="data",
            total="meta.total",
            page_size=50,
        )
    },
)


class Careful:
    """Tiny CRM's connector as the toolkit has it written."""

    name = "tiny"
    capabilities = frozenset(
        {Capability.READ, Capability.INCREMENTAL, Capability.CREATE, Capability.IDEMPOTENT_CREATE}
    )

    @hookimpl
    def describe(self) -> ConnectorInfo:
        return ConnectorInfo(
            name=self.name,
            title="Tiny CRM",
            version="0.1",
            settings=TinySettings,
            entities={
                "company": EntityInfo(
                    name="company",
                    capabilities=self.capabilities,
                    page_size=50,
                    fields=frozenset(FIELDS),
                )
            },
            max_concurrency=2,
            uses_http=True,
        )

    @hookimpl
    def auth(self, settings: ConnectorSettings) -> httpx.Auth | None:
        assert isinstance(settings, TinySettings)
        return _Key(settings)

    @hookimpl
    def check(self, client: Client) -> CheckResult:
        return CheckResult(ok=True)

    @hookimpl
    def fetch(
        self, client: Client, entity: str, since: str | None, query: Mapping[str, Any]
    ) -> Iterator[Page]:
        return API.fetch(client, entity, since, query)

    @hookimpl
    def upsert(
        self, client: Client, entity: str, items: list[UpsertItem]
    ) -> Iterator[UpsertResult]:
        for item in items:
            yield ERRORS.write(
                client,
                item,
                "POST",
                "/companies",
                json=item.record,
                headers={"Idempotency-Key": item.key},
                record="data",
            )

    @hookimpl
    def map(
        self, entity: str, record: NativeRecord | CanonicalRecord, direction: Literal["in", "out"]
    ) -> CanonicalRecord | NativeRecord:
        if direction == "in":
            assert isinstance(record, dict)
            return Company.model_validate(
                {
                    "id": str(record["id"]),
                    "updated_at": record.get("updated_at"),
                    **{field: record.get(field) for field in FIELDS},
                }
            )
        assert isinstance(record, Company)
        return {field: getattr(record, field) for field in FIELDS}


class Careless(Careful):
    """What the fault check must catch: tracebacks, copies, HTML in reasons."""

    name = "tiny_careless"
    capabilities = frozenset({Capability.READ, Capability.CREATE})

    @hookimpl
    def fetch(
        self, client: Client, entity: str, since: str | None, query: Mapping[str, Any]
    ) -> Iterator[Page]:
        page = 1
        while True:
            response = client.get("/companies", params={"page": page, "per_page": 50})
            body = json.loads(response.text)  # an HTML page: a traceback
            yield Page(records=body["data"])
            if page >= body["meta"]["last_page"]:
                return
            page += 1

    @hookimpl
    def upsert(
        self, client: Client, entity: str, items: list[UpsertItem]
    ) -> Iterator[UpsertResult]:
        for item in items:
            try:
                response = client.post("/companies", json=item.record)
            except httpx.TransportError:  # "it did not arrive": it did, and now it is twice
                response = client.post("/companies", json=item.record)
            if response.status_code >= 400:
                yield UpsertResult(
                    key=item.key, ok=False, error=f"HTTP {response.status_code}: {response.text}"
                )
                continue
            created = json.loads(response.text)["data"]
            yield UpsertResult(key=item.key, ok=True, id=str(created["id"]))
