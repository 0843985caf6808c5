"""OAuth for Bitrix24 applications: the ``auth`` parameter, and refreshing it.

Why not :class:`syncbridge.oauth.OAuth2Auth`: Bitrix24 takes the access token as an ``auth``
query/body parameter, not as an ``Authorization: Bearer`` header, and refreshes with a GET to
``<oauth server>/oauth/token/?grant_type=refresh_token&client_id=..&client_secret=..&
refresh_token=..`` (``settings/oauth/auto-renewal.md``) rather than an RFC 6749 form POST.
Everything else follows the core's rules: the refresh is done once when several threads find
the token expired together, and the new pair is saved through ``credentials`` before the
retried request leaves, so the newest refresh token (the old one dies with the refresh) is
never lost.

Which tokens are used: the stored ones, unless the settings carry a different refresh token
than the one the stored pair descends from (the app was reinstalled and the settings updated);
a fingerprint of the settings' refresh token is stored with each pair to tell.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Generator
from typing import Any

import httpx

from syncbridge.credentials import Credentials
from syncbridge.errors import AuthError
from syncbridge_bitrix24.api import ERRORS
from syncbridge_bitrix24.settings import Bitrix24Settings

#: refresh this many seconds before the stated expiry
LEEWAY = 60

#: errors after which a refresh is worth one try (an expired or unknown access token)
REFRESH_ON = {"expired_token", "invalid_token", "NO_AUTH_FOUND"}


class BitrixOAuth(httpx.Auth):
    """Adds ``auth=<access token>`` to each request, refreshing the token when needed."""

    requires_response_body = True  # the error code decides whether to refresh

    def __init__(self, settings: Bitrix24Settings, credentials: Credentials) -> None:
        if settings.refresh_token is None or settings.client_secret is None:
            raise AuthError("bitrix24: OAuth needs client_id, client_secret and refresh_token")
        self.settings = settings
        self.credentials = credentials
        self.seed = hashlib.sha256(settings.refresh_token.get_secret_value().encode()).hexdigest()
        self._lock = threading.Lock()

    # -- token state ----------------------------------------------------------------------
    def current(self) -> dict[str, Any]:
        """The pair to use now: stored if it descends from the configured refresh token."""
        stored = self.credentials.load()
        if stored.get("refresh_token") and stored.get("seed") == self.seed:
            return stored
        assert self.settings.refresh_token is not None
        access = self.settings.access_token
        return {
            "access_token": access.get_secret_value() if access is not None else None,
            "refresh_token": self.settings.refresh_token.get_secret_value(),
            "expires_at": None,  # unknown: used until the portal says it expired
            "seed": self.seed,
        }

    @staticmethod
    def _stale(token: dict[str, Any]) -> bool:
        if not token.get("access_token"):
            return True
        expires_at = token.get("expires_at")
        return expires_at is not None and float(expires_at) - LEEWAY < time.time()

    # -- the flow -------------------------------------------------------------------------
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.current()
        if self._stale(token):
            token = yield from self._refresh(token.get("access_token"))
        _sign(request, token)
        response = yield request
        if response.status_code == 401 and _error_code(response) in REFRESH_ON:
            token = yield from self._refresh(token.get("access_token"))
            _sign(request, token)
            yield request

    def _refresh(
        self, stale: str | None
    ) -> Generator[httpx.Request, httpx.Response, dict[str, Any]]:
        with self._lock:
            token = self.current()
            if token.get("access_token") != stale and not self._stale(token):
                return token  # another thread refreshed while this one waited
            assert self.settings.client_secret is not None
            response = yield httpx.Request(
                "GET",
                f"{self.settings.oauth_url}/oauth/token/",
                params={
                    "grant_type": "refresh_token",
                    "client_id": self.settings.client_id or "",
                    "client_secret": self.settings.client_secret.get_secret_value(),
                    "refresh_token": token["refresh_token"],
                },
            )
            fresh = _token_body(response)
            saved = {
                "access_token": fresh["access_token"],
                "refresh_token": fresh.get("refresh_token") or token["refresh_token"],
                "expires_at": time.time() + float(fresh.get("expires_in") or 3600),
                "seed": self.seed,
                "member_id": fresh.get("member_id"),
                "domain": fresh.get("domain"),
            }
            self.credentials.save(saved)
            return saved


def _sign(request: httpx.Request, token: dict[str, Any]) -> None:
    request.url = request.url.copy_set_param("auth", str(token["access_token"]))


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error") or "") if isinstance(body, dict) else ""


def _token_body(response: httpx.Response) -> dict[str, Any]:
    """The token endpoint's answer, or an AuthError that says how to recover (the answer in
    the one line :data:`~syncbridge_bitrix24.api.ERRORS` gives it)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "error" in body or not body.get("access_token"):
        raise AuthError(
            f"bitrix24: the token refresh was refused ({ERRORS.describe(response)}); "
            "reinstall the app (or open it once on the portal) and put the new refresh_token "
            "in the settings"
        )
    return body
