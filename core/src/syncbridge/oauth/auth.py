"""Signing requests with a stored OAuth2 token, refreshing it when it expires."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError

from syncbridge.credentials import Credentials
from syncbridge.errors import AuthError
from syncbridge.oauth._authlib import OAuth2Client
from syncbridge.oauth.app import OAuthApp

#: refresh this many seconds before the access token's stated expiry
LEEWAY = 60


class OAuth2Auth(httpx.Auth):
    """Bearer auth from the connection's stored token, with refresh and rotation.

    The newest refresh token is saved the moment it arrives, before the retried request is
    sent, so a crash can never leave only a token the server already rotated away.
    """

    def __init__(self, app: OAuthApp, credentials: Credentials, connection: str = "") -> None:
        self.app = app
        self.credentials = credentials
        self.connection = connection or "<connection>"
        self._lock = threading.Lock()
        self._transport: httpx.BaseTransport | None = None

    def bind_transport(self, transport: httpx.BaseTransport) -> None:
        """Send token requests through ``transport`` (retries, request log) from now on.

        The connection's client owns and closes it; the auth only borrows it.
        """
        self._transport = _Borrowed(transport)

    def _reauthorise(self, why: str) -> AuthError:
        return AuthError(
            f"{self.connection}: {why}; run `syncbridge auth {self.connection}` to re-authorise"
        )

    def _token(self) -> dict[str, Any]:
        token = self.credentials.load()
        if not token.get("access_token"):
            raise self._reauthorise("not authorised yet (no stored token)")
        return token

    def refresh(self, stale_access_token: str | None = None) -> dict[str, Any]:
        """Refresh once, even when several threads find the token expired together."""
        with self._lock:
            token = self._token()
            if stale_access_token is not None and token["access_token"] != stale_access_token:
                return token  # another thread refreshed already
            refresh_token = token.get("refresh_token")
            if not refresh_token:
                raise self._reauthorise("the access token expired and there is no refresh token")
            client = OAuth2Client(
                client_id=self.app.client_id,
                client_secret=self.app.client_secret,
                token_endpoint_auth_method=self.app.token_auth_method,
                **({"transport": self._transport} if self._transport is not None else {}),
            )
            try:
                fresh = dict(client.refresh_token(self.app.token_url, refresh_token=refresh_token))
            except OAuthError as error:
                if error.error == "invalid_client":
                    # the app's own credentials were refused: re-authorising cannot help
                    raise AuthError(
                        f"{self.connection}: the token endpoint refused the app's client_id "
                        f"and client_secret ({error.error}: {error.description}); check them "
                        f"in [connections.{self.connection}.settings] against the app's "
                        "developer console"
                    ) from None
                raise self._reauthorise(
                    f"the refresh token was rejected ({error.error}: {error.description})"
                ) from None
            except httpx.HTTPError as error:
                raise AuthError(f"{self.connection}: token refresh failed: {error}") from None
            finally:
                client.close()
            merged = {**token, **fresh}
            if "refresh_token" not in fresh:
                merged["refresh_token"] = refresh_token
            self.credentials.save(merged)
            return merged

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._token()
        expires_at = float(token.get("expires_at") or 0)
        if expires_at and expires_at - LEEWAY < time.time():
            token = self.refresh(token["access_token"])
        request.headers["Authorization"] = f"Bearer {token['access_token']}"
        response = yield request
        if response.status_code == 401:
            token = self.refresh(token["access_token"])
            request.headers["Authorization"] = f"Bearer {token['access_token']}"
            yield request


class _Borrowed(httpx.BaseTransport):
    """A transport used but not owned: closing the token client leaves it open."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        """Leave the transport to its owner, the connection's client."""
