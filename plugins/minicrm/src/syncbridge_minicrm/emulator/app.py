"""An offline MiniCRM: the R3 API and the document endpoints, as the connector meets them.

Serve it with ``syncbridge emulate minicrm`` or, in a test::

    emulator = MiniCrmEmulator(EmulatorOptions(records=30, rate_limits=False))
    with running(emulator.app) as url:
        settings = emulator.settings_for(url)     # base_url, system_id, api_key

What every request meets, in this order (as the live API answers, README assumptions):

1. the system's allowed client IP addresses (:attr:`MiniCrmEmulator.allowed_ips`, empty:
   any): another address gets ``403 <Entity> (<METHOD>): Az API hozzáférés nem
   engedélyezett erről az IP címről: <address>``;
2. HTTP Basic with the system id and API key, else 401 (plain text);
3. the route: paths are case-sensitive; an unknown path is 404, a known one with another
   method 405 ``<Entity> (<METHOD>): A metódus nem engedélyezett!``;
4. a demo system (:attr:`MiniCrmEmulator.demo`) refuses every write with 403;
5. the rate limit, 60 requests a minute on ``/Api/R3/*`` only (the document endpoints are
   outside it), 429 with ``Retry-After``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta
from typing import Any, ClassVar

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncbridge.describe import RateLimit
from syncbridge.emulator import BadRequest, Emulator, EmulatorOptions
from syncbridge_minicrm.emulator.documents import KINDS, Documents
from syncbridge_minicrm.emulator.r3 import R3
from syncbridge_minicrm.emulator.render import ApiError, plain_error
from syncbridge_minicrm.emulator.seed import seed

SYSTEM_ID = 12345
API_KEY = "emulated-minicrm-api-key-3f9c"
#: MiniCRM's published limit on ``/Api/R3/*``
R3_LIMIT = RateLimit(requests=60, seconds=60)

Handler = Callable[..., Awaitable[Response]]
#: (method, path pattern, entity named in errors, handler name); ``{x}`` is one segment
_ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "R3/Category", "Category", "categories"),
    ("GET", "R3/Schema/{kind}", "Schema", "schema"),
    ("GET", "R3/Schema/{kind}/{category}", "Schema", "schema"),
    ("GET", "R3/Contact", "Contact", "contact_search"),
    ("PUT", "R3/Contact", "Contact", "contact_create"),
    ("GET", "R3/Contact/{id}", "Contact", "contact_get"),
    ("PUT", "R3/Contact/{id}", "Contact", "contact_update"),
    ("GET", "R3/PurgePerson/{id}", "Contact", "purge_person"),
    ("PUT", "R3/Address", "Address", "address_create"),
    ("GET", "R3/Address/{id}", "Address", "address_get"),
    ("PUT", "R3/Address/{id}", "Address", "address_update"),
    ("GET", "R3/AddressList/{id}", "Address", "address_list"),
    ("GET", "R3/Project", "Project", "project_search"),
    ("PUT", "R3/Project", "Project", "project_create"),
    ("GET", "R3/Project/{id}", "Project", "project_get"),
    ("PUT", "R3/Project/{id}", "Project", "project_update"),
    ("GET", "R3/ToDoList/{id}", "ToDo", "todo_list"),
    ("PUT", "R3/ToDo", "ToDo", "todo_create"),
    ("PUT", "R3/Product", "Product", "product_create"),
    ("PUT", "R3/Product/{id}", "Product", "product_update"),
)
_DOCUMENT_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "", "document_create"),
    ("GET", "List", "document_list"),
    ("GET", "{id}", "document_get"),
    ("POST", "{id}/Paid", "document_paid"),
    ("POST", "{id}/Storno", "document_storno"),
)
#: methods that change data: a demo system refuses them (and PurgePerson, a GET that deletes)
_WRITES = frozenset({"PUT", "POST", "PATCH", "DELETE"})


def _compile(pattern: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern))
    return re.compile(f"^{regex}/?$")


class MiniCrmEmulator(R3, Documents, Emulator):
    """The emulated MiniCRM system.

    :param allowed_ips: client addresses the system accepts API requests from (empty: any);
        changeable while it runs (``emulator.allowed_ips = {"127.0.0.1"}``).
    :param demo: a demo system: everything can be read, nothing written.
    :param rate_clock: the clock of the R3 rate limit (tests pass a fast one).
    """

    system = "minicrm"
    title = "MiniCRM R3 API (emulated)"
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (R3_LIMIT,)
    countries: ClassVar[tuple[str, ...] | None] = ("HU",)
    clock_resolution: ClassVar[timedelta] = timedelta(microseconds=1)

    def __init__(
        self,
        options: EmulatorOptions | None = None,
        *,
        allowed_ips: Collection[str] = (),
        demo: bool = False,
        system_id: int = SYSTEM_ID,
        api_key: str = API_KEY,
        rate_clock: Callable[[], float] | None = None,
    ) -> None:
        self.allowed_ips: set[str] = set(allowed_ips)
        self.demo = demo
        self.system_id = system_id
        self.api_key = api_key
        self._table: list[tuple[str, re.Pattern[str], str, Handler]] = []
        super().__init__(options, rate_clock=rate_clock)
        for method, pattern, entity, name in _ROUTES:
            self._table.append((method, _compile(pattern), entity, getattr(self, name)))
        for kind in KINDS:
            for method, tail, name in _DOCUMENT_ROUTES:
                pattern = f"{kind}/{tail}".rstrip("/")
                handler = getattr(self, name)
                self._table.append((method, _compile(pattern), kind, self._bind(handler, kind)))

    @staticmethod
    def _bind(handler: Handler, kind: str) -> Handler:
        async def bound(request: Request, *args: Any) -> Response:
            return await handler(request, kind, *args)

        return bound

    # -- emulator hooks ---------------------------------------------------------------------
    def populate(self) -> None:
        seed(self.store, self.fake, self.options.records)

    def routes(self) -> list[Route]:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return [Route("/Api/{rest:path}", self.dispatch, methods=methods)]

    def settings_for(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": base_url,
            "system_id": self.system_id,
            "api_key": self.api_key,
            "rate_limit": self.options.rate_limits,
            "demo_account": self.demo,
            "allowed_ips": sorted(self.allowed_ips),
        }

    def error(self, status: int, message: str, **details: Any) -> Response:
        return plain_error(status, message)

    def rate_limit_key(self, request: Request) -> str | None:
        """The system (its Basic credentials) on ``/Api/R3/*``; nothing elsewhere."""
        if not request.url.path.startswith("/Api/R3/"):
            return None
        return request.headers.get("authorization", "")

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        return plain_error(429, f"{self._entity(request)}: Túl sok kérés! Próbálja újra később.")

    # -- routing ------------------------------------------------------------------------------
    def _entity(self, request: Request) -> str:
        """``<Entity> (<METHOD>)`` of a request, for messages that precede routing."""
        path = request.url.path.removeprefix("/Api/").removeprefix("R3/")
        first = path.split("/", 1)[0] or "Api"
        entity = {"AddressList": "Address", "ToDoList": "ToDo", "PurgePerson": "Contact"}.get(
            first, first
        )
        return f"{entity} ({request.method})"

    def _refusal(self, request: Request) -> Response | None:
        """The IP allow-list, then Basic auth: the answer refusing the request, or None."""
        client = request.client.host if request.client else ""
        if self.allowed_ips and client not in self.allowed_ips:
            return plain_error(
                403,
                f"{self._entity(request)}: Az API hozzáférés nem engedélyezett erről az IP "
                f"címről: {client}",
            )
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        given = ""
        if scheme.lower() == "basic":
            try:
                given = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                given = ""
        expected = f"{self.system_id}:{self.api_key}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            response = plain_error(
                401, f"{self._entity(request)}: Hibás rendszer azonosító vagy API kulcs!"
            )
            response.headers["WWW-Authenticate"] = 'Basic realm="MiniCRM API"'
            return response
        return None

    async def dispatch(self, request: Request) -> Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        rest = request.path_params["rest"]
        allowed_entity: str | None = None
        for method, pattern, entity, handler in self._table:
            match = pattern.match(rest)
            if match is None:
                continue
            if method != request.method:
                allowed_entity = entity
                continue
            prefix = f"{entity} ({request.method})"
            if self.demo and (method in _WRITES or handler == self.purge_person):
                return plain_error(403, f"{prefix}: Demo rendszerben az adatok nem módosíthatók!")
            try:
                args = list(match.groupdict().values())
                if method in ("PUT", "POST"):
                    args.append(await self._json(request))
                return await handler(request, *args)
            except BadRequest as error:
                return plain_error(error.status, f"{prefix}: {error.message}")
        if allowed_entity is not None:
            return plain_error(
                405, f"{allowed_entity} ({request.method}): A metódus nem engedélyezett!"
            )
        return plain_error(404, f"{self._entity(request)}: Az oldal nem található!")

    async def _json(self, request: Request) -> Any:
        raw = await request.body()
        if not raw.strip():
            return None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ApiError('Nem megfelelő paraméter: "Data (JSON)"') from None

    # -- handlers the table names that need an adapter ----------------------------------------
    async def project_create(self, request: Request, raw: Any) -> Response:
        return await self.project_save(request, None, raw)

    async def project_update(self, request: Request, raw_id: str, raw: Any) -> Response:
        return await self.project_save(request, raw_id, raw)

    async def product_create(self, request: Request, raw: Any) -> Response:
        return await self.product_save(request, None, raw)

    async def product_update(self, request: Request, raw_id: str, raw: Any) -> Response:
        return await self.product_save(request, raw_id, raw)

    async def schema(  # type: ignore[override]
        self, request: Request, kind: str, category: str | None = None
    ) -> Response:
        return await R3.schema(self, request, kind, category)

    async def document_paid(self, request: Request, kind: str, raw_id: str, _body: Any) -> Response:
        return await self.document_action(request, kind, raw_id, "Paid")

    async def document_storno(
        self, request: Request, kind: str, raw_id: str, _body: Any
    ) -> Response:
        return await self.document_action(request, kind, raw_id, "Storno")


def create_app(options: EmulatorOptions) -> MiniCrmEmulator:
    """The ``syncbridge.emulators`` entry point."""
    return MiniCrmEmulator(options)
