"""An emulator of the Fatture in Cloud API v2, served over real HTTP for tests and the demo.

It serves the real paths (``/user/*``, ``/c/{company_id}/entities/clients``, ``products``,
``issued_documents``, ``info/*``), bearer authentication with a manually generated token or an
OAuth2 token (the core's :class:`~syncbridge.emulator.OAuthProvider` mounted at
``/oauth/authorize`` and ``/oauth/token``, with per-operation scopes enforced), the
``{"data": ...}`` envelopes and Laravel pagination of the spec, the ``q``/``sort``/``fieldset``
query parameters, 422 validation errors (``{"error": {"message", "validation_result"}}``), and
both rate limits: 300 requests per 5 minutes per company (sliding, ``429``) and 1,000 per hour
per company-app pair (fixed window, ``403``), both with ``Retry-After``, plus the
``RateLimit-*`` headers on every answer. ``EmulatorOptions(rate_limits=False)`` stops the
enforcement (the headers stay).

The user owns two companies; the manual token reaches only the first, an OAuth grant both.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncbridge.describe import RateLimit
from syncbridge.emulator import (
    BadRequest,
    BearerAuth,
    Emulator,
    EmulatorOptions,
    OAuthProvider,
    Table,
    json_response,
    read_json,
)
from syncbridge_fattureincloud import emulator_data
from syncbridge_fattureincloud.emulator_documents import BASIC as DOCUMENT_BASIC
from syncbridge_fattureincloud.emulator_documents import (
    SENT_STATES,
    build,
    next_number,
    number_taken,
    render_document,
)
from syncbridge_fattureincloud.emulator_query import (
    fieldset,
    listing,
    matcher,
    render_time,
    sort_records,
)
from syncbridge_fattureincloud.emulator_schema import (
    CLIENT,
    DOCUMENT,
    DOCUMENT_TYPES,
    PRODUCT,
    Invalid,
    Obj,
    validate_body,
)

MAIN_COMPANY = 1051
OTHER_COMPANY = 2087
MANUAL_TOKEN = "a/emulator-manual-token-0f1c2d3e4f"
OAUTH_CLIENT_ID = "fic-emulator-app"
OAUTH_CLIENT_SECRET = "fic-emulator-app-secret"
SHORT_TERM = RateLimit(requests=300, seconds=300)
USER = {
    "id": 70231,
    "name": "Mario Rossi",
    "first_name": "Mario",
    "last_name": "Rossi",
    "email": "mario.rossi@rossi-impianti.it",
    "hash": "5f4dcc3b5aa765d61d8327deb882cf99",
    "picture": None,
}
COMPANIES = {
    MAIN_COMPANY: {"name": "Rossi Impianti S.r.l.", "vat_number": "01234567897"},
    OTHER_COMPANY: {"name": "Rossi Consulenze S.n.c.", "vat_number": "09876543217"},
}
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Access:
    """What one token may do: which companies, which scopes (None: all), for which app."""

    companies: frozenset[int]
    scopes: frozenset[str] | None
    app: str


class Quota:
    """The long-term limits: fixed hourly and monthly windows per company-app pair."""

    def __init__(self, hourly: int, monthly: int) -> None:
        self.hourly, self.monthly = hourly, monthly
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = {}

    def take(self, key: str, enforce: bool) -> tuple[float | None, dict[str, str]]:
        """Count one request: (seconds to wait if refused, else None; the RateLimit headers)."""
        now = time.time()
        hour = f"h{int(now // 3600)}"
        month = datetime.fromtimestamp(now, UTC).strftime("m%Y%m")
        with self._lock:
            used_hour = self._counts.get((key, hour), 0)
            used_month = self._counts.get((key, month), 0)
            wait: float | None = None
            if enforce and used_hour >= self.hourly:
                wait = 3600 - now % 3600
            elif enforce and used_month >= self.monthly:
                wait = _seconds_to_next_month(now)
            if wait is None:
                used_hour += 1
                used_month += 1
                self._counts[(key, hour)] = used_hour
                self._counts[(key, month)] = used_month
        headers = {
            "RateLimit-HourlyRemaining": str(max(0, self.hourly - used_hour)),
            "RateLimit-HourlyLimit": str(self.hourly),
            "RateLimit-MonthlyRemaining": str(max(0, self.monthly - used_month)),
            "RateLimit-MonthlyLimit": str(self.monthly),
        }
        return wait, headers


def _seconds_to_next_month(now: float) -> float:
    current = datetime.fromtimestamp(now, UTC)
    first = (current.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    return (first - current).total_seconds()


def _render_registry(row: Mapping[str, Any], basic: tuple[str, ...], fs: str) -> dict[str, Any]:
    out = {
        "id": row.get("id"),
        **row,
        "created_at": render_time(row.get("created_at")),
        "updated_at": render_time(row.get("updated_at")),
    }
    if "default_payment_terms_type" in out or "default_payment_terms" in out:
        out["default_payment_terms_type"] = out.get("default_payment_terms_type") or "standard"
    for key in ("default_payment_method", "type"):
        if out.get(key) is None:  # no null in the spec (an object; an enum without null)
            out.pop(key, None)
    if fs == "basic":
        out = {key: out[key] for key in basic if key in out}
    return out


@dataclass(frozen=True)
class Registry:
    """A company resource with plain CRUD: clients and products."""

    table: str
    path: str
    schema: Obj
    kind: str
    scope: str
    basic: tuple[str, ...]
    defaults: Mapping[str, Any]


CLIENTS = Registry(
    "clients",
    "entities/clients",
    CLIENT,
    "client",
    "entity.clients",
    ("id", "code", "name", "type", "vat_number", "tax_code", "address_city", "address_province",
     "country", "email", "phone", "created_at", "updated_at"),
    {"country": "Italia", "default_payment_terms_type": "standard", "e_invoice": False},
)
PRODUCTS = Registry(
    "products",
    "products",
    PRODUCT,
    "product",
    "products",
    ("id", "name", "code", "net_price", "gross_price", "measure", "category", "created_at",
     "updated_at"),
    {},
)


def _scope_of(doc_type: str) -> str:
    plural = {"self_own_invoice": "self_invoices", "self_supplier_invoice": "self_invoices"}
    return f"issued_documents.{plural.get(doc_type, doc_type + 's')}"


class FicEmulator(Emulator):
    """The Fatture in Cloud API v2.

    :param manual_token: the manually generated token (reaches :data:`MAIN_COMPANY` only).
    :param oauth_clients: OAuth apps, client id -> secret.
    :param access_lifetime: seconds an OAuth access token lives (24 h by default).
    :param hourly_limit: requests per hour per company-app pair (403 beyond).
    :param short_term: the sliding short-term limit (429 beyond), 300 per 5 minutes.
    """

    system = "fattureincloud"
    title = "Fatture in Cloud API v2"
    rate_limits = (SHORT_TERM,)
    countries = ("IT",)
    clock_resolution = timedelta(seconds=1)

    def __init__(
        self,
        options: EmulatorOptions | None = None,
        *,
        manual_token: str = MANUAL_TOKEN,
        oauth_clients: Mapping[str, str] | None = None,
        access_lifetime: int = 86_400,
        hourly_limit: int = 1000,
        monthly_limit: int = 40_000,
        short_term: RateLimit = SHORT_TERM,
    ) -> None:
        self.manual_tokens = {manual_token: frozenset({MAIN_COMPANY})}
        self.provider = OAuthProvider(
            dict(oauth_clients or {OAUTH_CLIENT_ID: OAUTH_CLIENT_SECRET}),
            access_lifetime=access_lifetime,
            rotate=True,
        )
        self.quota = Quota(hourly_limit, monthly_limit)
        super().__init__(options)
        self.limiter.limits = (short_term,)
        self.bearer = BearerAuth(
            self._token_ok,
            on_failure=lambda _r, why: self.error(
                401,
                "Token di accesso mancante."
                if why == "missing"
                else "Token di accesso non valido o scaduto.",
            ),
        )

    # -- data -------------------------------------------------------------------------------

    def table(self, company_id: int, name: str) -> Table:
        """A company's table: clients, products, documents, vat_types, payment_*."""
        return self.store.table(f"{company_id}/{name}", start=0 if name == "vat_types" else 1)

    def tables(self, company_id: int) -> dict[str, Table]:
        names = ("clients", "products", "documents", "vat_types", "payment_methods")
        return {name: self.table(company_id, name) for name in names}

    def populate(self) -> None:
        for company_id in COMPANIES:
            emulator_data.seed_settings(self.store, company_id)
        tables = self.tables(MAIN_COMPANY)
        for _ in range(self.options.records):
            tables["clients"].insert(emulator_data.client_record(self.fake))
        for index in range(1, self.options.records + 1):
            tables["products"].insert(emulator_data.product_record(self.fake, index))
        emulator_data.seed_documents(self.fake, tables, self.options.records)

    def send_e_invoice(self, document_id: int, status: str = "sent",
                       company_id: int = MAIN_COMPANY) -> None:
        """Play the SDI: mark an invoice sent as an e-invoice, which locks it."""
        documents = self.table(company_id, "documents")
        documents.update(
            document_id, {"e_invoice": True, "ei_status": status, "locked": status in SENT_STATES}
        )

    def settings_for(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "company_id": MAIN_COMPANY, "access_token": MANUAL_TOKEN}

    def oauth_settings_for(self, base_url: str) -> dict[str, Any]:
        """Settings of an OAuth connection to this emulator (run the flow to get tokens)."""
        return {
            "base_url": base_url,
            "oauth_base_url": base_url,
            "company_id": MAIN_COMPANY,
            "client_id": OAUTH_CLIENT_ID,
            "client_secret": OAUTH_CLIENT_SECRET,
        }

    # -- the system's answers ------------------------------------------------------------------

    def error(self, status: int, message: str, **details: Any) -> Response:
        """Fatture in Cloud's error body: ``{"error": {"message", "validation_result"}}``."""
        body: dict[str, Any] = {
            "error": {"message": message, "validation_result": details.pop("validation_result",
                                                                            None)}
        }
        if details:
            body["extra"] = details
        return json_response(body, status)

    def rate_limit_key(self, request: Request) -> str:
        """Short-term limits are per company, whatever app or user asks."""
        parts = request.url.path.split("/")
        if len(parts) > 2 and parts[1] == "c":
            return f"company:{parts[2]}"
        return request.headers.get("authorization", "")

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        return self.error(429, "Troppe richieste: limite di richieste a breve termine superato.")

    def _token_ok(self, token: str) -> bool:
        return token in self.manual_tokens or self.provider.valid_access_token(token)

    def _access(self, token: str) -> Access:
        if token in self.manual_tokens:
            return Access(self.manual_tokens[token], None, "manual")
        grant = self.provider.access_tokens[token]
        return Access(frozenset(COMPANIES), frozenset(grant.scope.split()), grant.client_id)

    def require(self, request: Request, scope: str, write: bool = False) -> None:
        """403 unless the token was granted ``scope`` (``:a`` covers reading too)."""
        access: Access = request.state.access
        if access.scopes is None or f"{scope}:a" in access.scopes:
            return
        if not write and f"{scope}:r" in access.scopes:
            return
        wanted = f"{scope}:{'a' if write else 'r'}"
        raise BadRequest(f"Permessi insufficienti: è richiesto lo scope {wanted}.", 403)

    def api(self, handler: Endpoint, *, company: bool = True) -> Endpoint:
        """Guard an endpoint: token, company access, hourly quota; add the RateLimit headers."""

        async def endpoint(request: Request) -> Response:
            denied = self.bearer.check(request)
            if denied is not None:
                return denied
            access = self._access(request.state.credential)
            request.state.access = access
            key = f"user:{request.state.credential}"
            if company:
                company_id = int(request.path_params["company_id"])
                if company_id not in COMPANIES:
                    return self.error(404, "Azienda non trovata.")
                if company_id not in access.companies:
                    return self.error(403, "Non hai accesso a questa azienda.")
                key = f"{company_id}:{access.app}"
            wait, headers = self.quota.take(key, enforce=self.options.rate_limits)
            if wait is not None:
                response = self.error(403, "Limite di richieste orario o mensile superato.")
                response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            else:
                try:
                    response = await handler(request)
                except Invalid as invalid:
                    extra = invalid.extra or {}
                    response = self.error(
                        422, invalid.message, validation_result=invalid.errors or None, **extra
                    )
                except BadRequest as bad:
                    response = self.error(bad.status, bad.message, **bad.details)
            for name, value in headers.items():
                response.headers[name] = value
            return response

        return endpoint

    # -- routes -----------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        oauth = [r for r in self.provider.routes() if r.path in ("/oauth/authorize",
                                                                 "/oauth/token")]
        routes = [
            *oauth,
            Route("/user/info", self.api(self.user_info, company=False)),
            Route("/user/companies", self.api(self.user_companies, company=False)),
            Route("/info/currencies", self.api(self.currencies, company=False)),
            Route("/info/measures", self.api(self.measures, company=False)),
            Route("/c/{company_id:int}/info/vat_types", self.api(self.vat_types)),
            Route("/c/{company_id:int}/info/payment_methods", self.api(self.payment_methods)),
            Route("/c/{company_id:int}/info/payment_accounts", self.api(self.payment_accounts)),
        ]
        for registry in (CLIENTS, PRODUCTS):
            base = f"/c/{{company_id:int}}/{registry.path}"
            routes += [
                Route(base, self.api(self._lister(registry)), methods=["GET"]),
                Route(base, self.api(self._creator(registry)), methods=["POST"]),
                Route(f"{base}/{{item_id:int}}", self.api(self._getter(registry)),
                      methods=["GET"]),
                Route(f"{base}/{{item_id:int}}", self.api(self._modifier(registry)),
                      methods=["PUT"]),
                Route(f"{base}/{{item_id:int}}", self.api(self._deleter(registry)),
                      methods=["DELETE"]),
            ]
        docs = "/c/{company_id:int}/issued_documents"
        routes += [
            Route(docs, self.api(self.list_documents), methods=["GET"]),
            Route(docs, self.api(self.create_document), methods=["POST"]),
            Route(f"{docs}/{{item_id:int}}", self.api(self.get_document), methods=["GET"]),
            Route(f"{docs}/{{item_id:int}}", self.api(self.modify_document), methods=["PUT"]),
            Route(f"{docs}/{{item_id:int}}", self.api(self.delete_document),
                  methods=["DELETE"]),
        ]
        return routes

    # -- user and info ----------------------------------------------------------------------

    async def user_info(self, request: Request) -> Response:
        return json_response(
            {
                "data": USER,
                "info": {
                    "need_marketing_consents_confirmation": False,
                    "need_password_change": False,
                    "need_terms_of_service_confirmation": False,
                },
                "email_confirmation_state": {"need_confirmation": False},
            }
        )

    async def user_companies(self, request: Request) -> Response:
        access: Access = request.state.access
        companies = [
            {
                "id": company_id,
                "name": company["name"],
                "type": "company",
                "access_token": None,
                "connection_id": 400_000 + company_id,
                "tax_code": company["vat_number"],
                "vat_number": company["vat_number"],
                "fic_plan": "premium",
                "fic_license_expire": "2027-12-31",
                "controlled_companies": [],
            }
            for company_id, company in COMPANIES.items()
            if company_id in access.companies
        ]
        return json_response({"data": {"companies": companies}})

    async def currencies(self, request: Request) -> Response:
        return json_response({"data": list(emulator_data.CURRENCIES)})

    async def measures(self, request: Request) -> Response:
        return json_response({"data": list(emulator_data.MEASURES)})

    def _info(self, request: Request, name: str) -> Response:
        rows = self.table(int(request.path_params["company_id"]), name).list()
        data = [{k: v for k, v in row.items() if k not in ("created_at", "updated_at")}
                for row in rows]
        return json_response({"data": data})

    async def vat_types(self, request: Request) -> Response:
        self.require(request, "settings")
        return self._info(request, "vat_types")

    async def payment_methods(self, request: Request) -> Response:
        return self._info(request, "payment_methods")

    async def payment_accounts(self, request: Request) -> Response:
        return self._info(request, "payment_accounts")

    # -- clients and products ---------------------------------------------------------------

    def _found(self, request: Request, name: str) -> tuple[Table, Mapping[str, Any]]:
        table = self.table(int(request.path_params["company_id"]), name)
        row = table.get(int(request.path_params["item_id"]))
        if row is None:
            raise BadRequest("Risorsa non trovata.", 404)
        return table, row

    def _with_vat(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        """A ``default_vat`` naming a VAT type by id is stored as that whole VAT type."""
        vat = data.get("default_vat")
        if isinstance(vat, dict) and vat.get("id") is not None:
            stored = self.table(int(request.path_params["company_id"]), "vat_types").get(
                int(vat["id"])
            )
            if stored is None:
                raise Invalid({"data.default_vat.id": [f"L'aliquota IVA {vat['id']} non esiste."]})
            data = {**data, "default_vat": {k: v for k, v in stored.items()
                                            if k not in ("created_at", "updated_at")}}
        return data

    def _lister(self, registry: Registry) -> Endpoint:
        async def handler(request: Request) -> Response:
            self.require(request, registry.scope)
            fs = fieldset(request)
            table = self.table(int(request.path_params["company_id"]), registry.table)
            keep = matcher(request.query_params.get("q"))
            rows = [
                _render_registry(row, registry.basic, "detailed") for row in table.list()
            ]
            rows = sort_records([row for row in rows if keep(row)],
                                request.query_params.get("sort"))
            body = listing(request, rows, registry.path)
            if fs == "basic":
                body["data"] = [{k: row[k] for k in registry.basic if k in row}
                                for row in body["data"]]
            return json_response(body)

        return handler

    def _creator(self, registry: Registry) -> Endpoint:
        async def handler(request: Request) -> Response:
            self.require(request, registry.scope, write=True)
            body = validate_body(await read_json(request), registry.schema, registry.kind)
            table = self.table(int(request.path_params["company_id"]), registry.table)
            row = table.insert({**registry.defaults, **self._with_vat(request, body.data)})
            return json_response({"data": _render_registry(row, registry.basic, "detailed")})

        return handler

    def _getter(self, registry: Registry) -> Endpoint:
        async def handler(request: Request) -> Response:
            self.require(request, registry.scope)
            _table, row = self._found(request, registry.table)
            return json_response({"data": _render_registry(row, registry.basic, "detailed")})

        return handler

    def _modifier(self, registry: Registry) -> Endpoint:
        async def handler(request: Request) -> Response:
            self.require(request, registry.scope, write=True)
            table, row = self._found(request, registry.table)
            body = validate_body(await read_json(request), registry.schema, registry.kind)
            stored = table.update(int(row["id"]), self._with_vat(request, body.data))
            assert stored is not None
            return json_response({"data": _render_registry(stored, registry.basic, "detailed")})

        return handler

    def _deleter(self, registry: Registry) -> Endpoint:
        async def handler(request: Request) -> Response:
            self.require(request, registry.scope, write=True)
            table, row = self._found(request, registry.table)
            table.delete(int(row["id"]))
            return Response(status_code=200)

        return handler

    # -- issued documents -------------------------------------------------------------------

    async def list_documents(self, request: Request) -> Response:
        doc_type = request.query_params.get("type")
        if doc_type is None:
            raise Invalid({"type": ["Il parametro type è obbligatorio."]})
        if doc_type not in DOCUMENT_TYPES:
            raise Invalid({"type": ["Il valore selezionato per type non è valido."]})
        self.require(request, _scope_of(doc_type))
        fs = fieldset(request)
        table = self.table(int(request.path_params["company_id"]), "documents")
        keep = matcher(request.query_params.get("q"))
        rows = [render_document(row) for row in table.list(lambda r: r.get("type") == doc_type)]
        rows = sort_records([row for row in rows if keep(row)], request.query_params.get("sort"))
        body = listing(request, rows, "issued_documents")
        if fs == "basic":
            body["data"] = [{k: row[k] for k in DOCUMENT_BASIC if k in row} for row in body["data"]]
        return json_response(body)

    async def create_document(self, request: Request) -> Response:
        body = validate_body(await read_json(request), DOCUMENT, "document", with_options=True)
        doc_type = body.data.get("type") or "invoice"
        self.require(request, _scope_of(doc_type), write=True)
        company_id = int(request.path_params["company_id"])
        tables = self.tables(company_id)
        doc = build(body.data, body.options, current=None, tables=tables, today=date.today())
        documents = tables["documents"]
        if doc.get("number") is None:
            doc["number"] = next_number(documents, doc["type"], doc["year"], doc["numeration"])
        elif number_taken(documents, doc):
            raise BadRequest(f"Il numero {doc['number']}{doc['numeration']} è già utilizzato.",
                             409)
        row = documents.insert(doc)
        return json_response({"data": render_document(row)})

    async def get_document(self, request: Request) -> Response:
        _table, row = self._found(request, "documents")
        self.require(request, _scope_of(str(row["type"])))
        return json_response({"data": render_document(row)})

    async def modify_document(self, request: Request) -> Response:
        table, row = self._found(request, "documents")
        body = validate_body(await read_json(request), DOCUMENT, "document", with_options=True)
        self.require(request, _scope_of(str(row["type"])), write=True)
        if row.get("locked"):
            raise BadRequest("Il documento è bloccato e non può essere modificato.", 409)
        if body.data.get("type", row["type"]) != row["type"]:
            raise Invalid({"data.type": ["Il tipo di un documento non può essere cambiato."]})
        tables = self.tables(int(request.path_params["company_id"]))
        doc = build(body.data, body.options, current=row, tables=tables, today=date.today())
        if number_taken(table, doc, exclude=int(row["id"])):
            raise BadRequest(f"Il numero {doc['number']}{doc['numeration']} è già utilizzato.",
                             409)
        stored = table.replace(int(row["id"]), doc)
        assert stored is not None
        return json_response({"data": render_document(stored)})

    async def delete_document(self, request: Request) -> Response:
        table, row = self._found(request, "documents")
        self.require(request, _scope_of(str(row["type"])), write=True)
        if row.get("locked"):
            raise BadRequest("Il documento è bloccato e non può essere eliminato.", 409)
        table.delete(int(row["id"]))
        return Response(status_code=200)


def create_app(options: EmulatorOptions) -> FicEmulator:
    """The entry point ``syncbridge.emulators: fattureincloud``."""
    return FicEmulator(options)
