"""An offline {{ cookiecutter.system_title }} API: what the tests, the demo and ``syncbridge emulate {{ cookiecutter.connector_name }}`` use.

It serves the API described in :mod:`{{ cookiecutter.package_name }}.connector` with the behaviour a
client must cope with: API-key auth, page/per_page pagination, ``updated_since``, validation
errors with messages, idempotent creates, and the published rate limit (enforced unless the
emulator is started with ``rate_limits=False``). An emulator that accepts what the real API
rejects would let a broken connector pass its tests, so validation is deliberately strict.

Everything shared by emulators (the store with its strictly increasing clock, fake data,
fault injection, request counting, the server) comes from :mod:`syncbridge.emulator`; this
module is only routes and data.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
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

from {{ cookiecutter.package_name }}.connector import API_KEY_HEADER, IDEMPOTENCY_HEADER, RATE_LIMITS
from {{ cookiecutter.package_name }}.settings import MAX_PAGE_SIZE

Endpoint = Callable[[Request], Awaitable[Response]]

#: the key the emulator accepts (``settings_for`` hands it to connections)
API_KEY = "{{ cookiecutter.connector_name }}-test-key"
ACCOUNT = {"id": 1, "name": "{{ cookiecutter.system_title }} demo account", "plan": "pro"}

#: the API's resources (tables of the store, and paths under /v1)
RESOURCES = ("companies", "products")
#: the path parameter of one record
ONE = "{id:int}"
_DECIMAL = re.compile(r"^-?\d+(\.\d{1,2})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ADDRESS_FIELDS = frozenset({"street", "postcode", "city", "region", "country"})
#: writable fields per resource; anything else in a body (ids, timestamps) is refused
WRITABLE = {
    "companies": frozenset({"name", "vat_number", "email", "phone", "address", "currency"}),
    "products": frozenset({"name", "sku", "description", "price", "currency", "unit"}),
}


class {{ cookiecutter.class_name }}Emulator(Emulator):
    """The {{ cookiecutter.system_title }} API on 127.0.0.1."""

    system = "{{ cookiecutter.connector_name }}"
    title = "{{ cookiecutter.system_title }} API (emulated)"
    rate_limits = RATE_LIMITS

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        # set before super().__init__(), which calls populate() and routes()
        self.idempotency: dict[tuple[str, str], int] = {}
        super().__init__(options)

    # -- hooks of syncbridge.emulator.Emulator --------------------------------------------

    def populate(self) -> None:
        companies = self.store.table("companies")
        products = self.store.table("products")
        for _ in range(self.options.records):
            company = self.fake.company()
            companies.insert(
                {
                    "name": company.name,
                    "vat_number": company.vat_number,
                    "email": company.email,
                    "phone": company.phone,
                    "address": {
                        "street": company.address.street,
                        "postcode": company.address.postcode,
                        "city": company.address.city,
                        "region": company.address.region or None,
                        "country": company.address.country,
                    },
                    "currency": company.currency,
                }
            )
        for _ in range(self.options.records):
            product = self.fake.product()
            products.insert(
                {
                    "name": product.name,
                    "sku": product.code,
                    "description": None,
                    "price": f"{product.price:.2f}",
                    "currency": "EUR",
                    "unit": product.unit,
                }
            )

    def routes(self) -> list[Route]:
        auth = ApiKeyAuth({API_KEY}, header=API_KEY_HEADER, on_failure=self.refuse)
        routes = [Route("/v1/account", auth(self.account), methods=["GET"])]
        for resource in RESOURCES:
            routes += [
                Route(f"/v1/{resource}", auth(self.lister(resource)), methods=["GET"]),
                Route(f"/v1/{resource}", auth(self.creator(resource)), methods=["POST"]),
                Route(f"/v1/{resource}/{ONE}", auth(self.getter(resource)), methods=["GET"]),
                Route(f"/v1/{resource}/{ONE}", auth(self.replacer(resource)), methods=["PUT"]),
            ]
        return routes

    def settings_for(self, base_url: str) -> dict[str, Any]:
        return {"base_url": f"{base_url}/v1", "api_key": API_KEY}

    def error(self, status: int, message: str, **details: Any) -> Response:
        return json_response({"error": {"status": status, "message": message, **details}}, status)

    def rate_limit_key(self, request: Request) -> str:
        # limits are per API key, as the real API counts them
        return request.headers.get(API_KEY_HEADER, "")

    def refuse(self, request: Request, why: AuthFailure) -> Response:
        return self.error(401, "API key missing" if why == "missing" else "API key not valid")

    # -- endpoints ------------------------------------------------------------------------

    async def account(self, request: Request) -> Response:
        return json_response({"data": ACCOUNT})

    def lister(self, resource: str) -> Endpoint:
        async def list_records(request: Request) -> Response:
            table = self.store.table(resource)
            since = request.query_params.get("updated_since")
            rows = table.list() if since is None else table.changed_since(_instant(since))
            rows.sort(key=lambda row: int(row["id"]))  # by id: pages never shift under updates
            page = paginate_pages(
                rows,
                query_int(request, "page", 1, minimum=1),
                query_int(request, "per_page", 25, minimum=1, maximum=MAX_PAGE_SIZE),
            )
            return json_response(
                {
                    "data": [_render(row) for row in page.items],
                    "meta": {
                        "page": page.page,
                        "per_page": page.per_page,
                        "total": page.total,
                        "last_page": page.last_page,
                    },
                }
            )

        return list_records

    def getter(self, resource: str) -> Endpoint:
        async def get_record(request: Request) -> Response:
            row = self.store.table(resource).get(request.path_params["id"])
            if row is None:
                return self.error(404, f"no such {resource[:-1]}: {request.path_params['id']}")
            return json_response({"data": _render(row)})

        return get_record

    def creator(self, resource: str) -> Endpoint:
        async def create_record(request: Request) -> Response:
            fields = _validated(resource, await read_object(request))
            key = request.headers.get(IDEMPOTENCY_HEADER)
            table = self.store.table(resource)
            if key:
                earlier = self.idempotency.get((resource, key))
                existing = table.get(earlier) if earlier is not None else None
                if existing is not None:
                    # the first create's record, as real APIs replay a repeated key
                    return json_response({"data": _render(existing)}, 200)
            row = table.insert(fields)
            if key:
                self.idempotency[(resource, key)] = int(row["id"])
            return json_response({"data": _render(row)}, 201)

        return create_record

    def replacer(self, resource: str) -> Endpoint:
        async def replace_record(request: Request) -> Response:
            fields = _validated(resource, await read_object(request))
            row = self.store.table(resource).replace(request.path_params["id"], fields)
            if row is None:
                return self.error(404, f"no such {resource[:-1]}: {request.path_params['id']}")
            return json_response({"data": _render(row)})

        return replace_record


def _render(row: Record) -> dict[str, Any]:
    """A stored record as the API shows it (timestamps as ISO 8601, UTC)."""
    return {
        **row,
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


def _instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"updated_since is not an ISO 8601 instant: {text!r}") from None
    if instant.tzinfo is None:
        raise BadRequest("updated_since needs a time zone (e.g. +00:00)")
    return instant


def _text(body: dict[str, Any], name: str) -> None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", 422, field=name)


def _validated(resource: str, body: dict[str, Any]) -> dict[str, Any]:
    """The fields of a create or full update, or a 422 naming what is wrong.

    A PUT replaces the whole record, so both need ``name``; fields left out become null.
    """
    unknown = sorted(set(body) - WRITABLE[resource])
    if unknown:
        raise BadRequest(f"unknown or read-only fields: {', '.join(unknown)}", 422, fields=unknown)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("name is required", 422, field="name")
    for field in WRITABLE[resource] - {"address", "price"}:
        _text(body, field)
    currency = body.get("currency")
    if currency is not None and not _CURRENCY.match(currency):
        raise BadRequest("currency must be an ISO 4217 code such as EUR", 422, field="currency")
    price = body.get("price")
    if price is not None and not (isinstance(price, str) and _DECIMAL.match(price)):
        raise BadRequest('price must be a decimal string such as "12.50"', 422, field="price")
    address = body.get("address")
    if address is not None:
        if not isinstance(address, dict) or set(address) - _ADDRESS_FIELDS:
            raise BadRequest(
                f"address must be an object with {', '.join(sorted(_ADDRESS_FIELDS))}",
                422,
                field="address",
            )
        for part in _ADDRESS_FIELDS:
            _text(address, part)
    return {field: body.get(field) for field in WRITABLE[resource]}


def create_app(options: EmulatorOptions) -> Emulator:
    """The factory behind the ``syncbridge.emulators`` entry point."""
    return {{ cookiecutter.class_name }}Emulator(options)
