"""The Bitrix24 emulator: the portal's REST transport around :class:`Portal`.

Served as the real portal serves it (``shared/apis/bitrix24/README.md``):

- ``/rest/<user>/<code>/<method>[.json]`` (inbound webhook) and ``/rest/<method>[.json]`` with
  an ``auth`` parameter (OAuth app); GET with a PHP-style query string, or POST with a JSON or
  form body (parameters from the query and the body are merged, as PHP's ``$_REQUEST`` does);
- ``{"result": ..., "total": N, "next": N, "time": {...}}`` envelopes and
  ``{"error": CODE, "error_description": TEXT}`` errors with the real status codes;
- ``batch``: up to 50 ``method?query`` commands, ``halt``, ``$result[key][field]``
  references, per-command ``result_error`` (``[]`` when empty, PHP's way);
- the leaky bucket (50 requests, draining 2/s; 503 ``QUERY_LIMIT_EXCEEDED``, no
  ``Retry-After``) and the per-method operating budget (429 ``OPERATION_TIME_LIMIT``), both off
  with ``EmulatorOptions(rate_limits=False)``;
- ``/oauth/token/`` refreshing app tokens (``grant_type=refresh_token``, rotating the refresh
  token) as ``oauth.bitrix.info`` does;
- ``event.*`` for the app only (an inbound webhook gets ``WRONG_AUTH_TYPE``), and the
  notifications of :mod:`~syncbridge_bitrix24.emulator.events`, which name the portal by the
  address it was last reached at.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncbridge.emulator import Emulator, EmulatorOptions, json_response
from syncbridge_bitrix24 import phpquery
from syncbridge_bitrix24.emulator import seed
from syncbridge_bitrix24.emulator.calls import MethodError, Reply
from syncbridge_bitrix24.emulator.events import APP_ONLY, WRONG_AUTH_TYPE, Events
from syncbridge_bitrix24.emulator.limits import LeakyBucket, OperatingBudget
from syncbridge_bitrix24.emulator.portal import Portal

#: the code of each status the portal answers with, for errors the emulator base produces
ERROR_CODES = {
    400: "INVALID_REQUEST",
    401: "NO_AUTH_FOUND",
    403: "ACCESS_DENIED",
    404: "ERROR_METHOD_NOT_FOUND",
    405: "ERROR_METHOD_NOT_ALLOWED",
    429: "OPERATION_TIME_LIMIT",
    500: "INTERNAL_SERVER_ERROR",
    503: "QUERY_LIMIT_EXCEEDED",
}
_REFERENCE = re.compile(r"\$result\[([^\]]+)\]((?:\[[^\]]*\])*)")
_ALPHABET = string.ascii_lowercase + string.digits
#: the portal's id (``member_id`` of token answers and events)
MEMBER_ID = "a223c6b3710f85df22e9377d6c4f7553"


class Bitrix24Emulator(Emulator):
    """A Bitrix24 portal (``example.bitrix24.de``) with one inbound webhook and one app."""

    system = "bitrix24"
    title = "Bitrix24 REST API (CRM subset)"
    countries: ClassVar[tuple[str, ...] | None] = ("DE", "US")
    #: the portal's time zone: timestamps are written in it
    timezone = ZoneInfo("Europe/Berlin")
    #: the inbound webhook's user
    user_id = "1"

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        options = options or EmulatorOptions()
        self.portal_host = "example.bitrix24.de"
        self.bucket = LeakyBucket(50, 2.0, enabled=options.rate_limits)
        self.operating = OperatingBudget(480.0, enabled=options.rate_limits)
        #: method -> simulated seconds each call adds to its operating budget (tests)
        self.method_cost: dict[str, float] = {}
        #: OAuth: client id -> secret; issued tokens; access token lifetime in seconds
        self.oauth_clients: dict[str, str] = {}
        self.access_tokens: dict[str, float] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.access_lifetime = 3600
        self.refreshes = 0
        super().__init__(options)
        self.webhook_code = "".join(self.rng.choice(_ALPHABET) for _ in range(16))
        self.oauth_clients[f"local.{self.rng.getrandbits(48):012x}.syncbridge"] = "".join(
            self.rng.choice(_ALPHABET + string.ascii_uppercase) for _ in range(40)
        )
        #: where the portal was last reached (events name it as their portal)
        self.origin = f"https://{self.portal_host}"
        #: the app's events (``event.bind``...) and its token, ``auth[application_token]``
        self.events = Events(
            self.store,
            application_token=f"{self.rng.getrandbits(128):032x}",
            member_id=MEMBER_ID,
            origin=lambda: self.origin,
            tokens=self.issue_tokens,
            scopes=lambda: self.portal.scopes,
        )
        self.portal.attach_events(self.events)

    # -- the base's hooks -----------------------------------------------------------------
    def populate(self) -> None:
        self.portal = Portal(self.store, self.timezone)
        seed.reference_data(self.portal)
        seed.business_data(self.portal, self.fake, self.rng, self.options.records)

    def routes(self) -> list[Route]:
        return [
            Route("/rest/{user}/{code}/{method}", self.webhook_call, methods=["GET", "POST"]),
            Route("/rest/{method}", self.app_call, methods=["GET", "POST"]),
            Route("/oauth/token/", self.token, methods=["GET", "POST"]),
        ]

    @property
    def application_token(self) -> str:
        """The token every event carries (the app's; also the connection's to check)."""
        return self.events.application_token

    def settings_for(self, base_url: str) -> dict[str, Any]:
        """A webhook connection; :meth:`oauth_settings_for` gives an app connection.

        Both carry the application token, so that either reads the portal's events (with an
        inbound webhook they come from an outgoing webhook, set up in the portal's UI).
        """
        return {
            "webhook_url": f"{base_url}/rest/{self.user_id}/{self.webhook_code}/",
            "application_token": self.application_token,
        }

    def error(self, status: int, message: str, **details: Any) -> Response:
        # CRM validation errors have an empty code: only a missing one falls back by status
        code = str(details["code"]) if "code" in details else ERROR_CODES.get(status, "")
        return json_response({"error": code, "error_description": message}, status)

    # -- OAuth ----------------------------------------------------------------------------
    @property
    def client_id(self) -> str:
        return next(iter(self.oauth_clients))

    def issue_tokens(self, client_id: str | None = None) -> dict[str, Any]:
        """A fresh token pair for the app, as its installation would hand it over."""
        client_id = client_id or self.client_id
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self.access_tokens[access] = time.time() + self.access_lifetime
        self.refresh_tokens[refresh] = client_id
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": self.access_lifetime,
        }

    def oauth_settings_for(
        self, base_url: str, *, with_access_token: bool = True
    ) -> dict[str, Any]:
        """An app connection to this emulator, with freshly issued tokens."""
        tokens = self.issue_tokens()
        settings = {
            "base_url": base_url,
            "oauth_url": base_url,
            "client_id": self.client_id,
            "client_secret": self.oauth_clients[self.client_id],
            "refresh_token": tokens["refresh_token"],
            "application_token": self.application_token,
        }
        if with_access_token:
            settings["access_token"] = tokens["access_token"]
        return settings

    async def token(self, request: Request) -> Response:
        try:
            params = await self._params(request)
        except MethodError as error:
            return json_response(
                {"error": "invalid_request", "error_description": error.description}, 400
            )
        client_id = str(params.get("client_id") or "")
        if self.oauth_clients.get(client_id) != params.get("client_secret") or not client_id:
            return json_response(
                {"error": "invalid_client", "error_description": "Invalid client credentials"},
                401,
            )
        if params.get("grant_type") != "refresh_token":
            return json_response(
                {"error": "unsupported_grant_type", "error_description": "Unsupported grant"}, 400
            )
        refresh = str(params.get("refresh_token") or "")
        if self.refresh_tokens.get(refresh) != client_id:
            return json_response(
                {"error": "invalid_grant", "error_description": "Invalid refresh token"}, 400
            )
        del self.refresh_tokens[refresh]  # rotated: the old one is dead from now on
        self.refreshes += 1
        issued = self.issue_tokens(client_id)
        base = f"{request.url.scheme}://{request.url.netloc}"
        return json_response(
            {
                **issued,
                "expires": int(time.time()) + self.access_lifetime,
                "scope": ",".join(self.portal.scopes),
                "domain": self.portal_host,
                "server_endpoint": f"{base}/rest/",
                "client_endpoint": f"{base}/rest/",
                "member_id": MEMBER_ID,
                "user_id": int(self.user_id),
                "status": "L",
            }
        )

    # -- calls ----------------------------------------------------------------------------
    async def webhook_call(self, request: Request) -> Response:
        self._reached(request)
        user, code = request.path_params["user"], request.path_params["code"]
        credential = f"webhook:{user}"
        if not self.bucket.admit(self._bucket_key(request)):
            return self._limited()
        if user != self.user_id or code != self.webhook_code:
            return self.error(401, "Wrong authorization data", code="NO_AUTH_FOUND")
        try:
            params = await self._params(request)
        except MethodError as error:
            return self.error(error.status, error.description, code=error.code)
        params.pop("auth", None)
        return self._answer(credential, request.path_params["method"], params)

    async def app_call(self, request: Request) -> Response:
        self._reached(request)
        if not self.bucket.admit(self._bucket_key(request)):
            return self._limited()
        try:
            params = await self._params(request)
        except MethodError as error:
            return self.error(error.status, error.description, code=error.code)
        token = str(params.pop("auth", "") or "")
        expires = self.access_tokens.get(token)
        if expires is None:
            return self.error(401, "Wrong authorization data", code="NO_AUTH_FOUND")
        if expires <= time.time():
            return self.error(401, "The access token provided has expired.", code="expired_token")
        return self._answer("app", request.path_params["method"], params)

    def _reached(self, request: Request) -> None:
        """Remember the address callers use: the portal's own name in what it sends."""
        self.origin = f"{request.url.scheme}://{request.url.netloc}"

    def _bucket_key(self, request: Request) -> str:
        """The bucket is the portal's, per caller address."""
        return request.client.host if request.client else ""

    def _limited(self) -> Response:
        # no Retry-After: the portal does not send one (README section 2)
        return self.error(503, "Too many requests", code="QUERY_LIMIT_EXCEEDED")

    async def _params(self, request: Request) -> dict[str, Any]:
        """Query and body parameters merged (the body wins), top-level names lower-cased."""
        params = phpquery.decode(request.url.query)
        body = await request.body()
        if body.strip():
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind == "application/json":
                try:
                    loaded = orjson.loads(body)
                except orjson.JSONDecodeError:
                    raise MethodError("INVALID_REQUEST", "malformed JSON body") from None
                if isinstance(loaded, dict):
                    params.update(loaded)
            elif kind == "application/x-www-form-urlencoded":
                params.update(phpquery.decode(body.decode("utf-8", errors="replace")))
        return {str(key).lower(): value for key, value in params.items()}

    def _answer(self, credential: str, raw_method: str, params: dict[str, Any]) -> Response:
        started = time.time()
        method = raw_method.lower()
        if method.endswith(".xml"):
            return self.error(400, "the emulator answers JSON only", code="INVALID_REQUEST")
        method = method.removesuffix(".json")
        try:
            if method == "batch":
                reply = self._batch(credential, params)
            else:
                reply = self._run(credential, method, params)
        except MethodError as error:
            return self.error(error.status, error.description, code=error.code)
        body: dict[str, Any] = {"result": reply.result}
        if reply.total is not None:
            body["total"] = reply.total
        if reply.next is not None:
            body["next"] = reply.next
        body["time"] = self._time(credential, method, started)
        return json_response(body)

    def _run(self, credential: str, method: str, params: dict[str, Any]) -> Reply:
        """One method call, counted against its operating budget."""
        if method in APP_ONLY and credential != "app":
            raise WRONG_AUTH_TYPE
        key = f"{credential}:{method}"
        if self.operating.exhausted(key):
            raise MethodError(
                "OPERATION_TIME_LIMIT",
                f"Method is blocked due to operation time limit. Unblock at "
                f"{int(self.operating.reset_at(key))}",
                429,
            )
        started = time.perf_counter()
        try:
            return self.portal.call(method, params)
        finally:
            spent = time.perf_counter() - started + self.method_cost.get(method, 0.0)
            self.operating.spend(key, spent)

    def _time(self, credential: str, method: str, started: float) -> dict[str, Any]:
        finished = time.time()
        key = f"{credential}:{method}"
        return {
            "start": started,
            "finish": finished,
            "duration": finished - started,
            "processing": finished - started,
            "date_start": self.portal.when(datetime.fromtimestamp(started, UTC)),
            "date_finish": self.portal.when(datetime.fromtimestamp(finished, UTC)),
            "operating_reset_at": int(self.operating.reset_at(key)),
            "operating": round(self.operating.used(key), 4),
        }

    # -- batch ----------------------------------------------------------------------------
    def _batch(self, credential: str, params: Mapping[str, Any]) -> Reply:
        commands = params.get("cmd")
        if not isinstance(commands, Mapping) or not commands:
            raise MethodError("INVALID_REQUEST", "Parameter 'cmd' must be a non-empty array")
        if len(commands) > 50:
            raise MethodError("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
        halt = str(params.get("halt") or "0").lower() in ("1", "true", "y")
        results: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        totals: dict[str, Any] = {}
        nexts: dict[str, Any] = {}
        times: dict[str, Any] = {}
        for key, command in commands.items():
            started = time.time()
            method, _, query = str(command).partition("?")
            method = method.strip().lower().removesuffix(".json")
            try:
                if method == "batch":
                    raise MethodError(
                        "ERROR_BATCH_METHOD_NOT_ALLOWED",
                        "Method is not allowed for batch usage",
                        405,
                    )
                arguments = _resolve(phpquery.decode(query), results)
                arguments = {str(name).lower(): value for name, value in arguments.items()}
                arguments.pop("auth", None)
                reply = self._run(credential, method, arguments)
            except MethodError as error:
                errors[str(key)] = {"error": error.code, "error_description": error.description}
                if halt:
                    break
                continue
            results[str(key)] = reply.result
            if reply.total is not None:
                totals[str(key)] = reply.total
            if reply.next is not None:
                nexts[str(key)] = reply.next
            times[str(key)] = self._time(credential, method, started)
        # PHP renders an empty associative array as []
        return Reply(
            {
                "result": results or [],
                "result_error": errors or [],
                "result_total": totals or [],
                "result_next": nexts or [],
                "result_time": times or [],
            }
        )


def _resolve(value: Any, results: Mapping[str, Any]) -> Any:
    """Replace ``$result[key][a][b]`` with earlier results, everywhere in the parameters."""
    if isinstance(value, dict):
        return {key: _resolve(item, results) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, results) for item in value]
    if not isinstance(value, str) or "$result[" not in value:
        return value

    def lookup(match: re.Match[str]) -> Any:
        found: Any = results.get(match.group(1))
        for part in re.findall(r"\[([^\]]*)\]", match.group(2)):
            if isinstance(found, dict):
                found = found.get(part)
            elif isinstance(found, list) and part.isdigit() and int(part) < len(found):
                found = found[int(part)]
            else:
                found = None
        return "" if found is None else found

    whole = _REFERENCE.fullmatch(value)
    if whole is not None:
        return lookup(whole)
    return _REFERENCE.sub(lambda match: str(lookup(match)), value)


def create_app(options: EmulatorOptions) -> Bitrix24Emulator:
    """The ``syncbridge.emulators`` entry point."""
    return Bitrix24Emulator(options)
