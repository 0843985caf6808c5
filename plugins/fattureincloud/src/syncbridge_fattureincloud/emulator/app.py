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
enforcement (the headers stay). Webhook subscriptions (``/c/{company_id}/subscriptions``) and
the notifications of every write are :mod:`.webhooks`'.

Writes are stamped by the wall clock and shown to the second without a zone (Italian time),
as the API shows them: records written within one second share their ``updated_at``, and a
listing sorted by ``updated_at,id`` orders them by id.

The user owns two companies; the manual token reaches only the first, an OAuth grant both.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
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
)
from syncbridge_fattureincloud.documents import E_INVOICE_SENT
from syncbridge_fattureincloud.emulator import seed
from syncbridge_fattureincloud.emulator.access import (
    APP_IDS,
    COMPANIES,
    MAIN_COMPANY,
    MANUAL_TOKEN,
    OAUTH_CLIENT_ID,
    OAUTH_CLIENT_SECRET,
    SHORT_TERM,
    USER,
    Access,
    Quota,
)
from syncbridge_fattureincloud.emulator.documents import Numbering
from syncbridge_fattureincloud.emulator.endpoints import (
    CLIENTS,
    PRODUCTS,
    DocumentEndpoints,
    RegistryEndpoints,
)
from syncbridge_fattureincloud.emulator.query import ListingCache
from syncbridge_fattureincloud.emulator.schema import Invalid
from syncbridge_fattureincloud.emulator.webhooks import Webhooks

__all__ = ["FicEmulator", "create_app"]

Endpoint = Callable[[Request], Awaitable[Response]]
MAX_SEEDED_DOCUMENTS = 1000


class FicEmulator(Emulator):
    """The Fatture in Cloud API v2.

    :param manual_token: the manually generated token (reaches :data:`MAIN_COMPANY` only).
    :param oauth_clients: OAuth apps, client id -> secret.
    :param access_lifetime: seconds an OAuth access token lives (24 h by default).
    :param hourly_limit: requests per hour per company-app pair (403 beyond).
    :param short_term: the sliding short-term limit (429 beyond), 300 per 5 minutes.
    :param documents: quotes, orders and invoices seeded (each); by default as many
        as ``options.records``, at most :data:`MAX_SEEDED_DOCUMENTS` (seeding a document costs
        about ten times a client, and benchmarks seed tens of thousands of clients).
    :param verify_interval: seconds between two ``/verify`` requests of a subscription (10
        minutes, as documented; a test retrying at once sets 0).
    """

    system = "fattureincloud"
    title = "Fatture in Cloud API v2"
    rate_limits = (SHORT_TERM,)
    countries = ("IT",)

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
        documents: int | None = None,
        verify_interval: float = 600.0,
    ) -> None:
        self.manual_tokens = {manual_token: frozenset({MAIN_COMPANY})}
        self.provider = OAuthProvider(
            dict(oauth_clients or {OAUTH_CLIENT_ID: OAUTH_CLIENT_SECRET}),
            access_lifetime=access_lifetime,
            rotate=True,
        )
        self.quota = Quota(hourly_limit, monthly_limit)
        self._numbering: dict[int, Numbering] = {}
        self._listings = ListingCache()
        records = (options or EmulatorOptions()).records
        self.documents = min(records, MAX_SEEDED_DOCUMENTS) if documents is None else documents
        #: subscriptions and notifications (:mod:`.webhooks`); the tokens' ``aid`` of each app
        self.webhooks = Webhooks(
            {"manual": APP_IDS["manual"], **{c: APP_IDS["oauth"] for c in self.provider.clients}},
            verify_interval=verify_interval,
        )
        super().__init__(options)
        # after the seed: only writes made while the emulator serves are notified
        self.store.listen(self.webhooks.listen)
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

    @property
    def listings(self) -> ListingCache:
        """Listings rebuilt only when their table changes (pages cost O(page), not O(N))."""
        return self._listings

    def table(self, company_id: int, name: str) -> Table:
        """A company's table: clients, products, documents, vat_types, payment_*."""
        return self.store.table(f"{company_id}/{name}", start=0 if name == "vat_types" else 1)

    def tables(self, company_id: int) -> dict[str, Table]:
        names = ("clients", "products", "documents", "vat_types", "payment_methods")
        return {name: self.table(company_id, name) for name in names}

    def numbering(self, company_id: int) -> Numbering:
        """The document numbers in use in a company (documents written through the API)."""
        return self._numbering.setdefault(company_id, Numbering())

    def populate(self) -> None:
        for company_id in COMPANIES:
            seed.seed_settings(self.store, company_id)
        tables = self.tables(MAIN_COMPANY)
        for _ in range(self.options.records):
            tables["clients"].insert(seed.client_record(self.fake))
        for index in range(1, self.options.records + 1):
            tables["products"].insert(seed.product_record(self.fake, index))
        seed.seed_documents(
            self.fake, tables, self.numbering(MAIN_COMPANY), self.documents
        )

    def send_e_invoice(
        self, document_id: int, status: str = "sent", company_id: int = MAIN_COMPANY
    ) -> None:
        """Play the SDI: mark an invoice sent as an e-invoice, which locks it."""
        documents = self.table(company_id, "documents")
        documents.update(
            document_id,
            {"e_invoice": True, "ei_status": status, "locked": status in E_INVOICE_SENT},
        )

    def settings_for(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": base_url,
            "company_id": MAIN_COMPANY,
            "access_token": MANUAL_TOKEN,
            "webhook_public_key": self.webhooks.public_key,
        }

    def oauth_settings_for(self, base_url: str) -> dict[str, Any]:
        """Settings of an OAuth connection to this emulator (run the flow to get tokens)."""
        return {
            "base_url": base_url,
            "oauth_base_url": base_url,
            "company_id": MAIN_COMPANY,
            "client_id": OAUTH_CLIENT_ID,
            "client_secret": OAUTH_CLIENT_SECRET,
            "webhook_public_key": self.webhooks.public_key,
        }

    # -- the system's answers ------------------------------------------------------------------

    def error(self, status: int, message: str, **details: Any) -> Response:
        """Fatture in Cloud's error body: ``{"error": {"message", "validation_result"}}``."""
        body: dict[str, Any] = {
            "error": {
                "message": message,
                "validation_result": details.pop("validation_result", None),
            }
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
        oauth = [
            r for r in self.provider.routes() if r.path in ("/oauth/authorize", "/oauth/token")
        ]
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
            routes += self._crud(base, RegistryEndpoints(self, registry))
        routes += self._crud("/c/{company_id:int}/issued_documents", DocumentEndpoints(self))
        hooks = self.webhooks
        subscriptions = "/c/{company_id:int}/subscriptions"
        subscription = subscriptions + "/{subscription_id}"
        routes += [
            Route(subscriptions, self.api(hooks.list), methods=["GET"]),
            Route(subscriptions, self.api(hooks.create), methods=["POST"]),
            Route(subscription, self.api(hooks.get), methods=["GET"]),
            Route(subscription, self.api(hooks.modify), methods=["PUT"]),
            Route(subscription, self.api(hooks.delete), methods=["DELETE"]),
            Route(subscription + "/verify", self.api(hooks.verify_again), methods=["POST"]),
        ]
        return routes

    def _crud(self, base: str, endpoints: RegistryEndpoints | DocumentEndpoints) -> list[Route]:
        item = f"{base}/{{item_id:int}}"
        return [
            Route(base, self.api(endpoints.list), methods=["GET"]),
            Route(base, self.api(endpoints.create), methods=["POST"]),
            Route(item, self.api(endpoints.get), methods=["GET"]),
            Route(item, self.api(endpoints.modify), methods=["PUT"]),
            Route(item, self.api(endpoints.delete), methods=["DELETE"]),
        ]

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
        companies: list[dict[str, Any]] = [
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
        return json_response({"data": list(seed.CURRENCIES)})

    async def measures(self, request: Request) -> Response:
        return json_response({"data": list(seed.MEASURES)})

    def _info(self, request: Request, name: str) -> Response:
        rows = self.table(int(request.path_params["company_id"]), name).list()
        data = [
            {k: v for k, v in row.items() if k not in ("created_at", "updated_at")} for row in rows
        ]
        return json_response({"data": data})

    async def vat_types(self, request: Request) -> Response:
        self.require(request, "settings")
        return self._info(request, "vat_types")

    async def payment_methods(self, request: Request) -> Response:
        return self._info(request, "payment_methods")

    async def payment_accounts(self, request: Request) -> Response:
        return self._info(request, "payment_accounts")


def create_app(options: EmulatorOptions) -> FicEmulator:
    """The entry point ``syncbridge.emulators: fattureincloud``."""
    return FicEmulator(options)
