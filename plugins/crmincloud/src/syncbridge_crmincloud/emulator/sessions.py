"""The emulator's authentication: the user, API keys, and the JWTs ``Auth/Login`` hands out.

Kept apart from the routes so that a test can reach the session state directly: count the
logins, shorten the token lifetime, or revoke every token to force a 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
from typing import Any

USERNAME = "mario.rossi@rossicostruzioni.it"
PASSWORD = "Rossi-2024!"
API_KEY = "ak_3f9d2c7e81b04a6fa5d0c2e9b7f41a68"
WEB_API_KEY = "wk_5b1e9a7c3d2f48e0a6c4b8d2e1f07a93"
USER = {"id": 7, "name": "Mario Rossi", "email": USERNAME, "userName": USERNAME}

DENIED = "Authorization has been denied for this request."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class Sessions:
    """Who may call the emulator, and with which token.

    :param lifetime: seconds a JWT is valid (the real API's look like 1200).
    :param require_web_api_key: refuse requests and logins without a valid ``WebApiKey``.
    """

    def __init__(self, rng: random.Random, *, lifetime: float, require_web_api_key: bool) -> None:
        self.rng = rng
        self.lifetime = lifetime
        self.require_web_api_key = require_web_api_key
        #: issued tokens -> expiry (epoch seconds, the JWT's ``exp``)
        self.tokens: dict[str, float] = {}
        #: successful logins so far
        self.logins = 0
        self._secret = hashlib.sha256(f"crmincloud:{rng.random()}".encode()).digest()

    def expire_all(self) -> None:
        """Forget every issued token (a revocation or a server restart): the next call is 401."""
        self.tokens.clear()

    def web_api_key_problem(self, key: str | None) -> str | None:
        """Why a request's ``WebApiKey`` header is refused, or None when it passes."""
        if key is None and not self.require_web_api_key:
            return None
        if key != WEB_API_KEY:
            return f"The WebApiKey {'is missing' if key is None else 'is not valid'}."
        return None

    def accepts(self, api_key: str | None, authorization: str) -> bool:
        """Whether the ``ApiKey`` header, else the bearer token, is valid now."""
        if api_key is not None:
            return api_key == API_KEY
        scheme, _, token = authorization.partition(" ")
        expires = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        return expires is not None and time.time() < expires

    def login(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``Auth/Login``: (status, body). Errors use the API's usual body (README, A2)."""
        if body.get("grant_type") != "password":
            return 400, {"error": "BadRequest", "message": "grant_type must be 'password'."}
        if body.get("username") != USERNAME or body.get("password") != PASSWORD:
            return 401, {
                "error": "Unauthorized",
                "message": "The user name or password is incorrect.",
            }
        self.logins += 1
        token = self.issue()
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": int(self.lifetime),
        }

    def issue(self) -> str:
        """A signed JWT for the user, valid :attr:`lifetime` seconds from now.

        ``exp`` may carry a fraction (RFC 7519 NumericDate allows it), so a test can use
        sub-second lifetimes.
        """
        now = time.time()
        claims = {
            "sub": str(USER["id"]),
            "unique_name": USERNAME,
            "iat": int(now),
            "nbf": int(now),
            "exp": now + self.lifetime,
            "jti": _b64(self.rng.randbytes(9)),
        }
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(claims).encode())
        signature = hmac.new(self._secret, f"{header}.{payload}".encode(), "sha256").digest()
        token = f"{header}.{payload}.{_b64(signature)}"
        self.tokens[token] = float(claims["exp"])  # type: ignore[arg-type]
        return token
