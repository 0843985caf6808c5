"""An offline CRM in Cloud Web API: the paths, auth, OData search and errors the connector meets.

Serve it with ``syncbridge emulate crmincloud`` or, in a test::

    emulator = create_app(EmulatorOptions(records=30, rate_limits=False))
    with running(emulator.app) as url:
        settings = emulator.settings_for(url)       # base_url = url + "/api/v1", a user

What it serves (routing is case-insensitive, as the real API's; ``v1`` and ``latest``):

* ``POST /Auth/Login`` -> ``{"access_token": <JWT>, "token_type": "bearer", "expires_in"}``;
  tokens live ``token_lifetime`` seconds (1200 by default; ``sessions.lifetime`` at runtime);
  ``GET /Auth/Me``; requests are signed with ``Authorization: Bearer``, or with an
  ``ApiKey`` header; a ``WebApiKey`` header, when sent, must be valid (and is required when
  :attr:`~CrmInCloudEmulator.require_web_api_key` is set).
* ``Company``, ``Contact``, ``Quote``: ``SearchByODataCriteria``, ``Get/{id}``,
  ``CreateOrUpdate`` (answers the bare id), ``Delete/{id}``; ``Catalog``: the same search
  and ``CreateOrUpdate``, ``GET``/``DELETE /Catalog/{id}`` and ``GET /Catalog`` (ids);
  ``CatalogCategories`` and ``TaxValue``: list, get and ``POST``.
* errors as ``{"error": ..., "message": ...}``, a refused login included (401); rate limits
  (assumed, 60 requests a minute per user) unless ``EmulatorOptions(rate_limits=False)``.

Seeded data is Italian (companies with valid partite IVA, contacts, catalog, quotes) and the
same for the same ``--seed``. Every assumption is listed in the plugin's README.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncbridge.describe import RateLimit
from syncbridge.emulator import (
    BadRequest,
    Emulator,
    EmulatorOptions,
    json_response,
    paginate_offset,
    query_int,
    read_object,
)
from syncbridge_crmincloud.emulator import odata
from syncbridge_crmincloud.emulator.schema import SCHEMAS, Schema, Validator, render, view
from syncbridge_crmincloud.emulator.seed import seed
from syncbridge_crmincloud.emulator.sessions import DENIED, PASSWORD, USER, USERNAME, Sessions

KEY_FIELD = "FF_SYNCBRIDGE_KEY"
MAX_TOP = 100

Handler = Callable[..., Awaitable[Response]]
_PHRASES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    429: "TooManyRequests",
    500: "InternalServerError",
}


class CrmInCloudEmulator(Emulator):
    """The emulated API; ``sessions`` (logins, tokens, keys) can be changed while it runs.

    :param token_lifetime: seconds a JWT from ``Auth/Login`` is valid.
    :param require_web_api_key: refuse requests (and logins) without a valid ``WebApiKey``.
    :param custom_fields: the tenant's custom fields (on Company, Contact, Catalog, Quote).
    """

    system = "crmincloud"
    title = "CRM in Cloud Web API v1 (emulated)"
    #: none are published: 60 a minute per user is an assumption (README, A10)
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(requests=60, seconds=60),)
    countries: ClassVar[tuple[str, ...] | None] = ("IT",)
    clock_resolution: ClassVar[timedelta] = timedelta(milliseconds=1)

    def __init__(
        self,
        options: EmulatorOptions | None = None,
        *,
        token_lifetime: float = 1200.0,
        require_web_api_key: bool = False,
        custom_fields: Collection[str] = (KEY_FIELD,),
    ) -> None:
        self.custom_fields = tuple(custom_fields)
        self._route_table: dict[str, list[tuple[tuple[str, ...], dict[str, Handler]]]] | None = None
        super().__init__(options)
        #: logins, tokens and keys; ``sessions.expire_all()`` forces a 401
        self.sessions = Sessions(
            self.rng, lifetime=token_lifetime, require_web_api_key=require_web_api_key
        )
        self.validator = Validator(self.store, self.custom_fields)

    # -- emulator hooks ---------------------------------------------------------------------

    def populate(self) -> None:
        seed(self.store, self.fake, self.rng, self.options.records)

    def routes(self) -> list[Route]:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return [Route("/api/{version}/{rest:path}", self.dispatch, methods=methods)]

    def settings_for(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": f"{base_url}/api/v1",
            "username": USERNAME,
            "password": PASSWORD,
            "rate_limit": self.options.rate_limits,
        }

    def error(self, status: int, message: str, **details: Any) -> Response:
        body = {"error": _PHRASES.get(status, str(status)), "message": message, **details}
        return json_response(body, status)

    def rate_limit_key(self, request: Request) -> str:
        """The account: the API key, or the (only) user whatever token it holds now."""
        api_key = request.headers.get("apikey")
        if api_key:
            return f"key:{api_key}"
        if request.headers.get("authorization", "").lower().startswith("bearer "):
            return f"user:{USERNAME}"
        return request.client.host if request.client else ""

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        return self.error(429, "API calls quota exceeded; retry later.")

    # -- routing ----------------------------------------------------------------------------

    def _routes(self) -> dict[str, list[tuple[tuple[str, ...], dict[str, Handler]]]]:
        """controller -> [(segments after it, {method: handler})]; ``#`` matches any segment.

        Built once; patterns with fewer ``#`` come first, so ``Catalog/SearchByODataCriteria``
        is the search and not ``Catalog/{id}``.
        """
        if self._route_table is not None:
            return self._route_table
        table: dict[str, list[tuple[tuple[str, ...], dict[str, Handler]]]] = {
            "auth": [(("login",), {"POST": self.login}), (("me",), {"GET": self.me})],
            "catalog": [
                ((), {"GET": self.list_ids}),
                (("#",), {"GET": self.get, "DELETE": self.delete}),
            ],
            "catalogcategories": [
                ((), {"GET": self.list_ids, "POST": self.save_simple}),
                (("#",), {"GET": self.get}),
            ],
            "taxvalue": [
                ((), {"GET": self.list_tax_codes, "POST": self.save_simple}),
                (("#",), {"GET": self.get_tax_value}),
            ],
        }
        for name in ("company", "contact", "quote", "catalog"):
            table.setdefault(name, []).extend(
                [
                    (("searchbyodatacriteria",), {"GET": self.search}),
                    (("createorupdate",), {"POST": self.create_or_update}),
                ]
            )
        for name in ("company", "contact", "quote"):
            table[name].extend(
                [(("get", "#"), {"GET": self.get}), (("delete", "#"), {"DELETE": self.delete})]
            )
        for patterns in table.values():
            patterns.sort(key=lambda pattern: pattern[0].count("#"))
        self._route_table = table
        return table

    async def dispatch(self, request: Request) -> Response:
        """Route ``/api/{version}/{Controller}/...`` case-insensitively, then authenticate."""
        version = request.path_params["version"].lower()
        segments = [part for part in request.path_params["rest"].split("/") if part]
        if version not in ("v1", "latest") or not segments:
            return self._not_found(request)
        controller, rest = segments[0].lower(), segments[1:]
        for pattern, methods in self._routes().get(controller, []):
            if len(pattern) != len(rest) or any(
                want != "#" and want != got.lower() for want, got in zip(pattern, rest, strict=True)
            ):
                continue
            handler = methods.get(request.method)
            if handler is None:
                return self.error(
                    405,
                    f"The requested resource does not support http method '{request.method}'.",
                )
            if handler != self.login:
                denied = self._authenticate(request)
                if denied is not None:
                    return denied
            args = [got for want, got in zip(pattern, rest, strict=True) if want == "#"]
            return await handler(request, controller, *args)
        return self._not_found(request)

    def _not_found(self, request: Request) -> Response:
        return self.error(
            404, f"No HTTP resource was found that matches the request URI '{request.url}'."
        )

    # -- auth -------------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> Response | None:
        """None when the request's credentials pass, else the API's 401."""
        problem = self.sessions.web_api_key_problem(request.headers.get("webapikey"))
        if problem is not None:
            return self.error(401, problem)
        headers = request.headers
        if self.sessions.accepts(headers.get("apikey"), headers.get("authorization", "")):
            return None
        response = self.error(401, DENIED)
        if "apikey" not in headers:
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response

    async def login(self, request: Request, controller: str) -> Response:
        problem = self.sessions.web_api_key_problem(request.headers.get("webapikey"))
        if problem is not None:
            return self.error(401, problem)
        status, body = self.sessions.login(await read_object(request))
        return json_response(body, status)

    async def me(self, request: Request, controller: str) -> Response:
        return json_response(dict(USER))

    # -- records ----------------------------------------------------------------------------

    def _view(self, schema: Schema, row: Any) -> dict[str, Any]:
        record = view(schema, row, self.custom_fields)
        if schema.table == "contact":
            company = self.store.table("company").get(record["companyId"] or 0)
            record["companyName"] = company["companyName"] if company else None
        return record

    def _id(self, raw: str) -> int:
        try:
            return int(raw)
        except ValueError:
            raise BadRequest(f"The value '{raw}' is not valid for Int32.") from None

    async def search(self, request: Request, controller: str) -> Response:
        schema = SCHEMAS[controller]
        params = request.query_params
        fields = schema.properties | set(self.custom_fields)
        rows = [self._view(schema, row) for row in self.store.table(schema.table).list()]
        text = params.get("$filter", params.get("filter"))
        if text:
            predicate = odata.parse_filter(text, fields)
            rows = [row for row in rows if predicate(row)]
        order = params.get("$orderBy", params.get("orderBy"))
        if order:
            rows = odata.sort_rows(rows, odata.parse_order(order, fields))
        skip = query_int(request, "$skip", query_int(request, "skip", 0, minimum=0), minimum=0)
        top = query_int(request, "$top", query_int(request, "top", MAX_TOP, minimum=1), minimum=1)
        window = paginate_offset(rows, skip, top, max_limit=MAX_TOP)
        return json_response([render(row) for row in window.items])

    async def get(self, request: Request, controller: str, raw_id: str) -> Response:
        schema = SCHEMAS[controller]
        row = self.store.table(schema.table).get(self._id(raw_id))
        if row is None:
            return self.error(404, f"{schema.name} with id {raw_id} not found.")
        return json_response(render(self._view(schema, row)))

    async def list_ids(self, request: Request, controller: str) -> Response:
        return json_response([row["id"] for row in self.store.table(SCHEMAS[controller].table)])

    async def create_or_update(self, request: Request, controller: str) -> Response:
        schema = SCHEMAS[controller]
        body = await read_object(request)
        record_id = body.get("id") or 0
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            raise BadRequest(
                f"Error converting value {record_id!r} to type 'System.Int32'. Path 'id'."
            )
        table = self.store.table(schema.table)
        if record_id and record_id not in table:
            return self.error(404, f"{schema.name} with id {record_id} not found.")
        record = self.validator.clean(schema, body, record_id)
        if record_id:
            table.replace(record_id, record)
            return json_response(record_id)
        return json_response(table.insert(record)["id"])

    async def delete(self, request: Request, controller: str, raw_id: str) -> Response:
        schema = SCHEMAS[controller]
        if self.store.table(schema.table).delete(self._id(raw_id)) is None:
            return self.error(404, f"{schema.name} with id {raw_id} not found.")
        return json_response(True)

    async def save_simple(self, request: Request, controller: str) -> Response:
        """``POST /CatalogCategories`` and ``POST /TaxValue``: create, or update by id/code."""
        schema = SCHEMAS[controller]
        body = await read_object(request)
        table = self.store.table(schema.table)
        if controller == "taxvalue":
            code = body.get("taxCode")
            found = table.list(lambda row: row.get("taxCode") == code)
            record_id = found[0]["id"] if found else 0
        else:
            record_id = body.get("id") or 0
            if record_id and record_id not in table:
                return self.error(404, f"{schema.name} with id {record_id} not found.")
        record = self.validator.clean(schema, body, record_id)
        if record_id:
            table.replace(record_id, record)
            return json_response(record_id)
        return json_response(table.insert(record)["id"])

    async def list_tax_codes(self, request: Request, controller: str) -> Response:
        return json_response([row["taxCode"] for row in self.store.table("taxvalue")])

    async def get_tax_value(self, request: Request, controller: str, code: str) -> Response:
        found = self.store.table("taxvalue").list(lambda row: row.get("taxCode") == code)
        if not found:
            return self.error(404, f"TaxValue with code {code} not found.")
        row = found[0]
        return json_response(
            {key: row.get(key) for key in ("taxCode", "taxValue", "taxDescription", "active")}
        )


def create_app(options: EmulatorOptions) -> CrmInCloudEmulator:
    """The ``syncbridge.emulators`` entry point."""
    return CrmInCloudEmulator(options)
