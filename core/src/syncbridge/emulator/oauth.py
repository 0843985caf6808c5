"""An OAuth2 authorization server for emulators (RFC 6749 authorization code + refresh).

Emulators of systems that use OAuth (Fatture in Cloud, QuickBooks, Bitrix24 apps) mount one
:class:`OAuthProvider` instead of each writing its own: its ``routes(prefix)`` serve the
authorize, token and revoke endpoints, and its ``access_tokens`` set guards the API through
:class:`~syncbridge.emulator.auth.BearerAuth`. The authorize endpoint consents at once (a
test plays the browser by following the redirect), so the whole flow runs offline.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncbridge.emulator.responses import json_response


@dataclass
class Grant:
    """What one issued token stands for."""

    client_id: str
    scope: str
    expires_at: float
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class OAuthProvider:
    """Issues, refreshes (rotating the refresh token) and revokes tokens for known clients.

    :param clients: client id -> client secret.
    :param access_lifetime: seconds an access token lives (tests make it short).
    :param rotate: issue a new refresh token on every refresh and retire the old one, as
        QuickBooks and Fatture in Cloud do.
    :param redirect_extra: extra query parameters of the authorize redirect (QuickBooks'
        ``realmId``), as a function of the grant's client id.
    """

    clients: dict[str, str]
    access_lifetime: int = 3600
    rotate: bool = True
    redirect_extra: Callable[[str], Mapping[str, str]] = lambda _client: {}
    access_tokens: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    codes: dict[str, tuple[Grant, str]] = field(default_factory=dict)
    #: counts of issued tokens, for tests ("refreshed exactly once")
    issued: dict[str, int] = field(
        default_factory=lambda: {"authorization_code": 0, "refresh_token": 0}
    )

    def valid_access_token(self, token: str) -> bool:
        grant = self.access_tokens.get(token)
        return grant is not None and grant.expires_at > time.time()

    def routes(
        self,
        authorize: str = "/oauth/authorize",
        token: str = "/oauth/token",
        revoke: str = "/oauth/revoke",
    ) -> list[Route]:
        return [
            Route(authorize, self.authorize, methods=["GET"]),
            Route(token, self.token, methods=["POST"]),
            Route(revoke, self.revoke, methods=["POST"]),
        ]

    @staticmethod
    def _error(error: str, description: str, status: int = 400) -> Response:
        return json_response({"error": error, "error_description": description}, status)

    async def authorize(self, request: Request) -> Response:
        params = request.query_params
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if client_id not in self.clients:
            return self._error("invalid_client", "unknown client_id")
        if params.get("response_type") != "code" or not redirect_uri:
            return self._error("invalid_request", "response_type=code and redirect_uri needed")
        code = secrets.token_urlsafe(24)
        self.codes[code] = (
            Grant(client_id, params.get("scope", ""), time.time() + 600),
            redirect_uri,
        )
        query = {"code": code, "state": params.get("state", ""), **self.redirect_extra(client_id)}
        return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=302)

    def _client(self, request: Request, form: Mapping[str, str]) -> str | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return None
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id if self.clients.get(client_id) == secret and secret else None

    def _issue(self, grant: Grant, kind: str) -> Response:
        access = secrets.token_urlsafe(24)
        refresh = secrets.token_urlsafe(24)
        now = time.time()
        self.access_tokens[access] = Grant(
            grant.client_id, grant.scope, now + self.access_lifetime, grant.extra
        )
        self.refresh_tokens[refresh] = Grant(
            grant.client_id, grant.scope, now + 8_640_000, grant.extra
        )
        self.issued[kind] += 1
        return json_response(
            {
                "access_token": access,
                "refresh_token": refresh,
                "token_type": "bearer",
                "expires_in": self.access_lifetime,
                "x_refresh_token_expires_in": 8_640_000,
                "scope": grant.scope,
            }
        )

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id = self._client(request, form)
        if client_id is None:
            return self._error("invalid_client", "client authentication failed", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            found = self.codes.pop(form.get("code", ""), None)
            if found is None or found[0].client_id != client_id:
                return self._error("invalid_grant", "the authorization code is invalid or used")
            grant, redirect_uri = found
            if form.get("redirect_uri") != redirect_uri:
                return self._error("invalid_grant", "redirect_uri does not match")
            return self._issue(grant, "authorization_code")
        if grant_type == "refresh_token":
            refresh = form.get("refresh_token", "")
            held = self.refresh_tokens.get(refresh)
            if held is None or held.client_id != client_id:
                return self._error("invalid_grant", "the refresh token is invalid or revoked")
            if self.rotate:
                del self.refresh_tokens[refresh]
            return self._issue(held, "refresh_token")
        return self._error("unsupported_grant_type", f"grant_type {grant_type!r}")

    async def revoke(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if self._client(request, form) is None:
            return self._error("invalid_client", "client authentication failed", 401)
        token = form.get("token", "")
        grant = self.refresh_tokens.pop(token, None) or self.access_tokens.pop(token, None)
        if grant is not None:  # revoking a grant ends every token of that client's grant
            for store in (self.access_tokens, self.refresh_tokens):
                for key in [k for k, g in store.items() if g.client_id == grant.client_id]:
                    del store[key]
        return Response(status_code=200)
