"""Signing requests with a token from the OAuth2 resource-owner password grant (RFC 6749 4.3).

For a system that hands out tokens for a username and password (Dinero: the API key as both)
with the client authenticated by HTTP Basic, without refresh tokens: nothing to authorise in a
browser, so no ``syncbridge auth`` step either.

The token is asked for on first use and again shortly before it expires, and once more when
the API answers 401 all the same (a token revoked, or clocks apart). Token requests go
through authlib, over the transport the connection's client binds (retries and the request
log, without the API's rate limits); nothing is persisted, since a new token is one request
away. A refused grant becomes an :class:`~syncbridge.errors.AuthError` naming the setting to
fix, never with a secret in it.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError

from syncbridge.errors import AuthError
from syncbridge.http.retry import backoff_from_env

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import OAuth2Client

#: ask again this many seconds before the token's stated expiry
LEEWAY = 60.0
#: how often a token request is sent in all when its answer fails
ATTEMPTS = 4
#: when the token response states no lifetime
DEFAULT_LIFETIME = 3600.0


@dataclass(frozen=True)
class PasswordGrant:
    """What the token request needs. ``hint`` says where a refused value is configured."""

    token_url: str
    client_id: str
    client_secret: str
    username: str
    password: str
    scope: str | None = None
    hint: str = "check the credentials in the connection's settings"

    def __repr__(self) -> str:  # the secrets never reach a log or a traceback
        return f"PasswordGrant(token_url={self.token_url!r}, client_id={self.client_id!r})"


class PasswordGrantAuth(httpx.Auth):
    """Bearer auth from a password-grant token; ``grants`` counts tokens obtained."""

    def __init__(self, grant: PasswordGrant, connection: str = "") -> None:
        self.grant = grant
        self.connection = connection or "<connection>"
        self.grants = 0
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self._transport: httpx.BaseTransport | None = None

    def bind_transport(self, transport: httpx.BaseTransport) -> None:
        """Send token requests through ``transport`` (the client owns and closes it)."""
        self._transport = _Borrowed(transport)

    def _refused(self, error: OAuthError) -> AuthError:
        what = (
            "the integration's client_id/client_secret"
            if error.error == "invalid_client"
            else "the credentials"
        )
        return AuthError(
            f"{self.connection}: the token endpoint refused {what} "
            f"({error.error}: {error.description}); {self.grant.hint}"
        )

    def token(self, stale: str | None = None) -> str:
        """A valid access token: the one held, or a new one (once, whatever the threads)."""
        with self._lock:
            if self._token is not None and self._token != stale and (
                time.time() < self._expires_at - LEEWAY
            ):
                return self._token
            client = OAuth2Client(
                client_id=self.grant.client_id,
                client_secret=self.grant.client_secret,
                token_endpoint_auth_method="client_secret_basic",
                **({"transport": self._transport} if self._transport is not None else {}),
            )
            try:
                fresh = self._fetch(client)
            except OAuthError as error:
                raise self._refused(error) from None
            except httpx.HTTPError as error:
                raise AuthError(
                    f"{self.connection}: no token from {self.grant.token_url} "
                    f"({type(error).__name__}: {error})"
                ) from None
            except ValueError:  # authlib decoding a body that is not JSON
                raise AuthError(
                    f"{self.connection}: {self.grant.token_url} did not answer with a token; "
                    "check token_url"
                ) from None
            finally:
                client.close()
            access = fresh.get("access_token")
            if not access:
                raise AuthError(f"{self.connection}: the token answer holds no access_token")
            lifetime = float(fresh.get("expires_in") or DEFAULT_LIFETIME)
            self._token = str(access)
            self._expires_at = time.time() + lifetime
            self.grants += 1
            return self._token

    def _fetch(self, client: OAuth2Client) -> dict[str, Any]:
        """The token answer; a grant whose answer failed (5xx, no answer) is asked again,
        :data:`ATTEMPTS` times in all: a second grant only makes a second token."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return dict(
                    client.fetch_token(
                        self.grant.token_url,
                        grant_type="password",
                        username=self.grant.username,
                        password=self.grant.password,
                        **({"scope": self.grant.scope} if self.grant.scope else {}),
                    )
                )
            except (httpx.TransportError, httpx.HTTPStatusError, ValueError) as error:
                server = not isinstance(error, httpx.HTTPStatusError) or (
                    error.response.status_code >= 500 or error.response.status_code == 429
                )
                if not server or attempt >= ATTEMPTS:
                    raise
                time.sleep(backoff_from_env() * 2 ** (attempt - 1))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self.token(stale=token)}"
            yield request


class _Borrowed(httpx.BaseTransport):
    """A transport used but not owned: closing the token client leaves it open."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        """Leave the transport to its owner, the connection's client."""
