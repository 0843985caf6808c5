"""Signing requests for CRM in Cloud: a JWT from ``Auth/Login``, or a fixed ``ApiKey`` header.

The JWT lives about 20 minutes and comes without a refresh token, so the session is kept
alive by logging in again: shortly before the token's own ``exp`` (so long runs never see a
401 in the normal case), and once more whenever the server answers 401 anyway (a token
revoked or a server clock ahead of ours). The login is a request of the flow itself, so it
goes through the connection's retries, rate limiter and request log like any other request,
and its body (the password) never reaches the log, which records only method and URL.

One session is shared by every thread of a connection: the lock makes concurrent requests
that find the token expired wait for a single login instead of each making its own.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from decimal import Decimal

import httpx

from syncbridge import AuthError, ConnectorError
from syncbridge.http.retry import RetryPolicy, backoff_from_env
from syncbridge.rest import Unusable
from syncbridge_crmincloud.api import ERRORS
from syncbridge_crmincloud.settings import CrmInCloudSettings

#: token lifetime assumed when neither the JWT nor the login response states one (seconds)
DEFAULT_LIFETIME = 1200.0
#: log in again this long before expiry; capped at a tenth of the lifetime for short tokens
LEEWAY = 60.0


@dataclass(frozen=True, slots=True)
class Session:
    """An access token and when (by our clock) to stop using it."""

    token: str
    expires_at: float
    leeway: float

    def fresh(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) < self.expires_at - self.leeway


def token_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (read, not verified: we only need to know when to renew)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


class CrmInCloudAuth(httpx.Auth):
    """The connection's :class:`httpx.Auth`: ApiKey header, or a JWT session with re-login.

    ``logins`` counts successful logins (for diagnostics and tests).
    """

    requires_response_body = True

    def __init__(self, settings: CrmInCloudSettings, connection: str = "") -> None:
        self.connection = connection or "crmincloud"
        self._login_url = f"{settings.base_url}/Auth/Login"
        self._username = settings.username or ""
        self._password = settings.password.get_secret_value() if settings.password else ""
        self._web_api_key = (
            settings.web_api_key.get_secret_value() if settings.web_api_key else None
        )
        self._api_key = settings.api_key.get_secret_value() if settings.api_key else None
        # a login changes nothing on the server, so unlike other POSTs it is retried like a
        # GET (on 5xx and on a connection lost before the answer)
        self._login_policy = (
            RetryPolicy(settings.max_retries, backoff_from_env())
            if settings.max_retries > 0
            else None
        )
        self._lock = threading.Lock()
        self._session: Session | None = None
        self.logins = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._web_api_key is not None:
            request.headers["WebApiKey"] = self._web_api_key
        if self._api_key is not None:
            request.headers["ApiKey"] = self._api_key
            yield request
            return
        session = self._session
        if session is None or not session.fresh():
            session = yield from self._login(session)
        request.headers["Authorization"] = f"Bearer {session.token}"
        response = yield request
        if response.status_code == 401:
            session = yield from self._login(session)
            request.headers["Authorization"] = f"Bearer {session.token}"
            yield request

    def _login(self, stale: Session | None) -> Generator[httpx.Request, httpx.Response, Session]:
        """Log in, unless another thread already replaced ``stale`` with a fresh session."""
        with self._lock:
            current = self._session
            if current is not None and current is not stale and current.fresh():
                return current
            headers = {"WebApiKey": self._web_api_key} if self._web_api_key else {}
            request = httpx.Request(
                "POST",
                self._login_url,
                json={
                    "grant_type": "password",
                    "username": self._username,
                    "password": self._password,
                },
                headers=headers,
                extensions=(
                    # made per login: its deadline for waiting out a 429 burst starts now
                    {"retry": self._login_policy.for_method("GET").copy_with(
                        allowed_methods=["POST"]
                    )}
                    if self._login_policy is not None
                    else None
                ),
            )
            response = yield request
            session = self._session = self._session_from(response)
            self.logins += 1
            return session

    def _session_from(self, response: httpx.Response) -> Session:
        """The session a login answer gives, or why there is none (the error map's words)."""
        if response.status_code in (400, 401, 403):
            raise AuthError(
                f"{self.connection}: CRM in Cloud refused the login of {self._username!r} "
                f"({ERRORS.describe(response)}); check username, password and web_api_key in "
                f"connections.{self.connection}.settings"
            )
        if response.status_code >= 300:
            raise ConnectorError(
                f"{self.connection}: CRM in Cloud answered Auth/Login with "
                f"{ERRORS.describe(response)}"
            )
        try:
            body = ERRORS.body(response)
        except Unusable as unusable:
            raise ConnectorError(
                f"{self.connection}: CRM in Cloud answered Auth/Login with {unusable.reason}"
            ) from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ConnectorError(f"{self.connection}: Auth/Login answered without an access_token")
        now = time.time()
        expires_at = token_expiry(token)
        if expires_at is None:
            stated = body.get("expires_in") if isinstance(body, dict) else None
            lifetime = float(stated) if isinstance(stated, int | Decimal) else DEFAULT_LIFETIME
            expires_at = now + lifetime
        lifetime = max(expires_at - now, 0.0)
        return Session(token, expires_at, min(LEEWAY, lifetime / 10))
