"""An emulator of the QuickBooks Online Accounting API v3 and Intuit's OAuth2 service.

It serves the real paths under ``/v3/company/{realmId}/`` (query by GET or by POST with
``Content-Type: application/text``, change data capture, batch, entity reads and writes,
``?operation=delete|void``, ``/invoice/{id}/send``, company info), Intuit's OAuth2 endpoints
(core's :class:`~syncbridge.emulator.OAuthProvider` mounted at ``/connect/oauth2``,
``/oauth2/v1/tokens/bearer`` and ``/v2/oauth2/tokens/revoke``, refresh tokens rotating) and the
OpenID discovery document. Errors are ``Fault`` bodies with Intuit's codes; the per-realm
limits (500 requests a minute, 10 at once, 40 batches a minute) answer 429 ``ThrottleExceeded``
unless ``EmulatorOptions(rate_limits=False)``. A repeated ``requestid`` gets the original
response back instead of a second write, which is what makes a retried create safe.

In tests::

    emulator = create_app(EmulatorOptions(records=10, rate_limits=False))
    with running(emulator.app) as base_url:
        settings = emulator.settings_for(base_url)  # endpoints, OAuth app, a refresh token
        credentials = MemoryCredentials(emulator.issue_tokens())  # or: already authorised
        conn = Connection("qbo", syncbridge_quickbooks.connector, settings,
                          credentials=credentials)

``issue_tokens()`` puts a grant straight into the OAuth provider and returns what
``syncbridge auth`` would have stored (access and refresh token, ``realmId``), so a test has an
authorised connection without a browser; ``settings_for()`` carries tokens of its own,
so ``syncbridge emulate quickbooks --print-settings`` gives a config that works as printed.

Intuit's webhooks: Intuit has no subscription API (an app's endpoint and Verifier Token are set
in its developer dashboard), so the emulator is told them: ``emulator.webhooks(url,
verifier_token)`` makes every later change of a notified object reach ``url`` as Intuit posts
it (see :mod:`.webhooks`).

Test-only knobs beside the core faults: ``force_stale`` (the next N updates fail with 5010),
``cdc_max_objects`` (a smaller CDC answer cap), ``rate_limit=`` at construction (a lower
per-realm limit), and ``bodies`` (the last write bodies received, to check sparse updates).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from syncbridge.describe import RateLimit
from syncbridge.emulator import BearerAuth, Emulator, EmulatorOptions, OAuthProvider, RateLimiter
from syncbridge.emulator.oauth import Grant
from syncbridge.emulator.responses import json_response
from syncbridge.emulator.webhooks import WebhookSender
from syncbridge_quickbooks.emulator import faults
from syncbridge_quickbooks.emulator.books import ENTITIES, Books
from syncbridge_quickbooks.emulator.faults import Fault
from syncbridge_quickbooks.emulator.seed import COMPANY_INFO, Seeder, seed_reference
from syncbridge_quickbooks.emulator.values import TZ, stamp
from syncbridge_quickbooks.emulator.webhooks import IntuitWebhooks, marked
from syncbridge_quickbooks.settings import (
    AUTHORIZE_PATH,
    CDC_MAX_DAYS,
    CDC_MAX_OBJECTS,
    MINOR_VERSION,
    REVOKE_PATH,
    SCOPE,
    TOKEN_PATH,
)

#: the emulated company (realmId) and the OAuth app that may reach it
REALM = "9130357924681152"
CLIENT_ID = "ABsyncbridgeEmulatorClient0QuickBooksOnline2024x"
CLIENT_SECRET = "emulator-client-secret-7f3c1d2a"
#: Intuit's refresh tokens live about 100 days
REFRESH_LIFETIME = 8_726_400
#: the per-realm limits of the real service
REQUESTS_PER_MINUTE = RateLimit(requests=500, seconds=60)
BATCHES_PER_MINUTE = RateLimit(requests=40, seconds=60)
MAX_CONCURRENT = 10
MAX_BATCH_ITEMS = 30
#: request ids whose answers are kept for replay (the oldest are forgotten first)
MAX_REMEMBERED_REQUESTS = 50_000

Handler = Callable[[Request], Awaitable[Response]]


def _now() -> str:
    """The envelope's ``time``: the server's clock in the company's zone, with milliseconds."""
    return datetime.now(UTC).astimezone(TZ).isoformat(timespec="milliseconds")


def _reply(data: dict[str, Any], status: int = 200) -> Response:
    return json_response({**data, "time": _now()}, status)


def fault_response(fault: Fault) -> Response:
    return _reply({"Fault": fault.fault()}, fault.status)


async def _body(request: Request) -> Any:
    """The JSON body with numbers as Decimal (money never passes through float)."""
    raw = await request.body()
    if not raw.strip():
        raise faults.Fault(400, "2020", "Required param missing", "The request body is empty")
    try:
        return json.loads(raw, parse_float=Decimal)
    except ValueError as error:
        raise faults.Fault(
            400, "2010", "Request has invalid or unsupported property", f"Malformed JSON: {error}"
        ) from None


class QuickBooksEmulator(Emulator):
    """QuickBooks Online for one company (:data:`REALM`), seeded by :mod:`.seed`.

    :param rate_limit: a lower per-realm limit than 500 a minute, for tests of pacing.
    :param access_lifetime: seconds an access token lives (tests of refresh make it short).
    """

    system = "quickbooks"
    title = "QuickBooks Online Accounting API v3"
    rate_limits = (REQUESTS_PER_MINUTE,)
    countries = ("US", "DE")

    def __init__(
        self,
        options: EmulatorOptions | None = None,
        *,
        rate_limit: RateLimit | None = None,
        access_lifetime: int = 3600,
    ) -> None:
        self.realm = REALM
        self.provider = OAuthProvider(
            {CLIENT_ID: CLIENT_SECRET},
            access_lifetime=access_lifetime,
            redirect_extra=lambda _client: {"realmId": self.realm},
        )
        self.bearer = BearerAuth(
            self.provider.valid_access_token,
            on_failure=lambda _request, why: fault_response(
                faults.authentication(
                    "Token expired or invalid" if why == "invalid" else "No access token"
                )
            ),
        )
        #: fault: the next N updates are answered 5010 Stale Object Error
        self.force_stale = 0
        #: the most objects one CDC answer holds
        self.cdc_max_objects = CDC_MAX_OBJECTS
        #: ``minorversion`` values received ("" when a request had none)
        self.minor_versions: Counter[str] = Counter()
        #: (path, query string, body) of the last write requests, newest last
        self.bodies: deque[tuple[str, str, Any]] = deque(maxlen=500)
        self._replies: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self._in_flight = 0
        self._flight_lock = threading.Lock()
        #: the app's webhook configuration (:meth:`webhooks`); None: nothing is notified
        self.notifier: IntuitWebhooks | None = None
        super().__init__(options)
        if rate_limit is not None:
            self.limiter.limits = (rate_limit,)
        self.batch_limiter = RateLimiter((BATCHES_PER_MINUTE,), enabled=self.options.rate_limits)
        # after seeding: the seed is the company as it was before any app was listening
        self.store.listen(self._changed)

    # -- webhooks --------------------------------------------------------------------------

    def webhooks(
        self,
        url: str,
        verifier_token: str,
        entities: Iterable[str] | None = None,
        *,
        window: float = 0.2,
        retries: int = 3,
    ) -> IntuitWebhooks:
        """Notify ``url`` of this company's changes, signed with ``verifier_token``.

        What an app's webhook settings in Intuit's dashboard say (there is no API for them):
        the endpoint, the entity names to notify (all by default) and the Verifier Token.
        Changes within ``window`` seconds go out as one notification; a delivery that is not
        answered 2xx is tried ``retries`` more times. Replaces an earlier configuration.
        """
        notifier = IntuitWebhooks(  # first: a configuration it refuses changes nothing
            self.store,
            self.realm,
            url,
            verifier_token,
            entities=entities,
            window=window,
            sender=WebhookSender(retries=retries),
        )
        previous, self.notifier = self.notifier, notifier
        if previous is not None:
            previous.close()
        return notifier

    def _changed(self, table: str, operation: str, row: Mapping[str, Any]) -> None:
        notifier = self.notifier
        if notifier is not None:
            notifier.changed(table, operation, row)

    # -- base hooks ------------------------------------------------------------------------

    def populate(self) -> None:
        self.books = Books(self.store)
        seed_reference(self.books)
        Seeder(self.books, self.fake, self.rng).run(self.options.records)

    def settings_for(self, base_url: str) -> dict[str, Any]:
        """API and OAuth endpoints on this emulator, the OAuth app it knows, and a grant.

        The freshly issued tokens (with the company's ``realm_id``) let a connection work
        without ``syncbridge auth``, as tokens from Intuit's OAuth Playground would.
        """
        tokens = self.issue_tokens()
        return {
            "base_url": base_url,
            "oauth_base_url": base_url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "realm_id": self.realm,
            "refresh_token": tokens["refresh_token"],
            "access_token": tokens["access_token"],
        }

    def error(self, status: int, message: str, **details: Any) -> Response:
        if status == 429:
            return fault_response(faults.throttled())
        if status >= 500:
            fault = Fault(
                status,
                "10000",
                "An application error has occurred while processing your request",
                message,
                fault_type="SystemFault",
            )
        elif status == 404:
            fault = Fault(404, "610", "Object Not Found", message)
        else:
            fault = Fault(status, "2010", "Request has invalid or unsupported property", message)
        return fault_response(fault)

    def rate_limit_key(self, request: Request) -> str:
        """Limits are per company: the realm in the path (OAuth requests share one key)."""
        parts = request.url.path.split("/")
        return parts[3] if len(parts) > 3 and parts[1:3] == ["v3", "company"] else "oauth"

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        return fault_response(faults.throttled())

    def issue_tokens(self) -> dict[str, Any]:
        """Tokens for a test's credentials, as ``syncbridge auth`` would have stored them.

        Issued straight into the OAuth provider (no browser, no redirect): an access token
        valid for ``access_lifetime`` seconds, a refresh token, and the ``realmId``.
        """
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = time.time()
        lifetime = self.provider.access_lifetime
        self.provider.access_tokens[access] = Grant(CLIENT_ID, SCOPE, now + lifetime)
        self.provider.refresh_tokens[refresh] = Grant(CLIENT_ID, SCOPE, now + REFRESH_LIFETIME)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": lifetime,
            "expires_at": now + lifetime,
            "x_refresh_token_expires_in": REFRESH_LIFETIME,
            "realmId": self.realm,
        }

    # -- routes ----------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        api = "/v3/company/{realm}"
        guard = self._guard
        once = self._once
        return [
            *self.provider.routes(authorize=AUTHORIZE_PATH, token=TOKEN_PATH, revoke=REVOKE_PATH),
            Route("/.well-known/openid_configuration", self.discovery, methods=["GET"]),
            Route("/.well-known/openid_configuration/", self.discovery, methods=["GET"]),
            Route(api + "/query", guard(self.query), methods=["GET", "POST"]),
            Route(api + "/cdc", guard(self.cdc), methods=["GET"]),
            Route(api + "/batch", guard(once(self.batch)), methods=["POST"]),
            Route(api + "/companyinfo/{id}", guard(self.company_info), methods=["GET"]),
            Route(api + "/preferences", guard(self.preferences), methods=["GET"]),
            Route(api + "/{entity}/{id}/send", guard(once(self.send)), methods=["POST"]),
            Route(api + "/{entity}/{id}", guard(self.read), methods=["GET"]),
            Route(api + "/{entity}", guard(once(self.write)), methods=["POST"]),
        ]

    def _guard(self, handler: Handler) -> Handler:
        """Minor version, bearer token, realm, concurrency; Faults rendered."""

        async def guarded(request: Request) -> Response:
            minor = request.query_params.get("minorversion", "")
            self.minor_versions[minor] += 1
            try:
                if minor and (not minor.isdigit() or int(minor) < MINOR_VERSION):
                    raise faults.invalid_value(
                        "minorversion",
                        f"minorversion {minor} is not supported; use {MINOR_VERSION} or later",
                    )
                denied = self.bearer.check(request)
                if denied is not None:
                    return denied
                if request.path_params.get("realm") != self.realm:
                    raise faults.authorization(str(request.path_params.get("realm")))
                if not self._enter():
                    raise faults.throttled()
                try:
                    return await handler(request)
                finally:
                    self._leave()
            except Fault as fault:
                return fault_response(fault)

        return guarded

    def _enter(self) -> bool:
        with self._flight_lock:
            if self.options.rate_limits and self._in_flight >= MAX_CONCURRENT:
                return False
            self._in_flight += 1
            return True

    def _leave(self) -> None:
        with self._flight_lock:
            self._in_flight -= 1

    def _once(self, handler: Handler) -> Handler:
        """Honour ``requestid``: a repeated id gets the first response, nothing is redone."""

        async def idempotent(request: Request) -> Response:
            request_id = request.query_params.get("requestid")
            if request_id and request_id in self._replies:
                status, body = self._replies[request_id]
                return Response(body, status, media_type="application/json")
            try:
                response = await handler(request)
            except Fault as fault:
                response = fault_response(fault)
            if request_id and response.status_code < 500:
                self._replies[request_id] = (response.status_code, bytes(response.body))
                while len(self._replies) > MAX_REMEMBERED_REQUESTS:
                    self._replies.popitem(last=False)
            return response

        return idempotent

    # -- endpoints -------------------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        """Intuit's OpenID configuration, pointing at this emulator."""
        base = str(request.base_url).rstrip("/")
        return json_response(
            {
                "issuer": "https://oauth.platform.intuit.com/op/v1",
                "authorization_endpoint": base + AUTHORIZE_PATH,
                "token_endpoint": base + TOKEN_PATH,
                "userinfo_endpoint": base + "/v1/openid_connect/userinfo",
                "revocation_endpoint": base + REVOKE_PATH,
                "jwks_uri": base + "/op/v1/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": [
                    "openid",
                    "email",
                    "profile",
                    "address",
                    "phone",
                    SCOPE,
                    "com.intuit.quickbooks.payment",
                ],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
            }
        )

    async def query(self, request: Request) -> Response:
        if request.method == "POST":
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != "application/text":
                raise Fault(
                    415,
                    "4000",
                    "Unsupported Media Type",
                    "A POSTed query is sent as Content-Type: application/text",
                )
            text = (await request.body()).decode("utf-8")
        else:
            text = request.query_params.get("query", "")
            if not text:
                raise faults.required("query")
        return _reply({"QueryResponse": self.books.query(text)})

    async def cdc(self, request: Request) -> Response:
        names = request.query_params.get("entities", "")
        changed = request.query_params.get("changedSince", "")
        if not names:
            raise faults.required("entities")
        if not changed:
            raise faults.required("changedSince")
        try:
            since = datetime.fromisoformat(changed)
        except ValueError:
            raise faults.invalid_value(
                "changedSince", f"changedSince is not a date-time: {changed}"
            ) from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=TZ)
        if since < datetime.now(UTC) - timedelta(days=CDC_MAX_DAYS):
            raise faults.invalid_value(
                "changedSince",
                f"changedSince must be within the last {CDC_MAX_DAYS} days; use a query on "
                "Metadata.LastUpdatedTime for older changes",
            )
        room = self.cdc_max_objects
        answers: list[dict[str, Any]] = []
        for name in (part.strip() for part in names.split(",") if part.strip()):
            entity = self.books.entity(name)
            changes = self.books.changes(entity, since)[: max(room, 0)]
            room -= len(changes)
            answer: dict[str, Any] = {"startPosition": 1, "maxResults": len(changes)}
            if changes:
                answer[entity] = changes
            answers.append(answer)
        return _reply({"CDCResponse": [{"QueryResponse": answers}]})

    async def batch(self, request: Request) -> Response:
        body = await _body(request)
        self.bodies.append((request.url.path, request.url.query, body))
        items = body.get("BatchItemRequest") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise faults.required("BatchItemRequest")
        if len(items) > MAX_BATCH_ITEMS:
            raise faults.invalid_value(
                "BatchItemRequest",
                f"A batch request may carry at most {MAX_BATCH_ITEMS} items, not {len(items)}",
            )
        if self.batch_limiter.acquire(self.realm) is not None:
            raise faults.throttled()
        return _reply({"BatchItemResponse": [self._batch_item(item) for item in items]})

    def _batch_item(self, item: Any) -> dict[str, Any]:
        bid = item.get("bId") if isinstance(item, dict) else None
        try:
            if not isinstance(item, dict):
                raise faults.invalid_value("BatchItemRequest", "each item must be an object")
            if "Query" in item:
                return {"bId": bid, "QueryResponse": self.books.query(str(item["Query"]))}
            names = [key for key in item if key not in ("bId", "operation", "optionsData")]
            if len(names) != 1 or names[0] not in ENTITIES:
                raise faults.invalid_value(
                    "BatchItemRequest", f"one object expected in the item, found {names}"
                )
            entity = names[0]
            operation = item.get("operation") or "create"
            return {"bId": bid, entity: self._operate(entity, str(operation), item[entity])}
        except Fault as fault:
            return {"bId": bid, "Fault": fault.fault()}

    def _operate(self, entity: str, operation: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise faults.invalid_value(entity, f"{entity} must be an object")
        if operation == "create":
            if body.get("Id") not in (None, ""):
                return self._update(entity, body)
            return self.books.create(entity, body)
        if operation == "update":
            return self._update(entity, body)
        if operation == "delete":
            return self.books.delete(entity, body)
        if operation == "void":
            with marked("Void"):  # Intuit notifies a void as such, not as an update
                return self.books.void(entity, body)
        raise faults.invalid_value("operation", f"Unsupported operation {operation!r}")

    def _update(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.force_stale > 0:
            self.force_stale -= 1
            raise faults.stale(entity, str(body.get("SyncToken")))
        return self.books.update(entity, body)

    async def write(self, request: Request) -> Response:
        entity = self.books.entity(request.path_params["entity"])
        body = await _body(request)
        self.bodies.append((request.url.path, request.url.query, body))
        operation = request.query_params.get("operation")
        if operation is None:
            operation = "update" if isinstance(body, dict) and body.get("Id") else "create"
        return _reply({entity: self._operate(entity, operation, body)})

    async def read(self, request: Request) -> Response:
        entity = self.books.entity(request.path_params["entity"])
        return _reply({entity: self.books.read(entity, request.path_params["id"])})

    async def send(self, request: Request) -> Response:
        entity = self.books.entity(request.path_params["entity"])
        sent = self.books.send(
            entity, request.path_params["id"], request.query_params.get("sendTo")
        )
        return _reply({entity: sent})

    async def company_info(self, request: Request) -> Response:
        if request.path_params["id"] != self.realm:
            raise faults.not_found("CompanyInfo", request.path_params["id"])
        epoch = stamp(datetime(2019, 3, 1, 17, 0, tzinfo=UTC))
        info = {
            **COMPANY_INFO,
            "Id": "1",
            "SyncToken": "4",
            "domain": "QBO",
            "MetaData": {"CreateTime": epoch, "LastUpdatedTime": epoch},
        }
        return _reply({"CompanyInfo": info})

    async def preferences(self, request: Request) -> Response:
        return _reply(
            {
                "Preferences": {
                    "CurrencyPrefs": {
                        "MultiCurrencyEnabled": True,
                        "HomeCurrency": {"value": "USD"},
                    },
                    "SalesFormsPrefs": {"CustomTxnNumbers": True, "DefaultTerms": {"value": "3"}},
                    "TaxPrefs": {"UsingSalesTax": True},
                    "Id": "1",
                    "SyncToken": "0",
                }
            }
        )


def create_app(options: EmulatorOptions) -> QuickBooksEmulator:
    """The entry point ``syncbridge.emulators: quickbooks``."""
    return QuickBooksEmulator(options)
