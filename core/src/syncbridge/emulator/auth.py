"""Credential checks that guard emulator endpoints: bearer token, API key, HTTP Basic.

Each check finds the credential where its system sends it and decides whether it is valid; a
rejected request is answered by the ``on_failure`` callable the emulator supplies, so each
system returns its own 401 body. Use a check as a decorator around an endpoint::

    auth = BearerAuth({"test-token"}, on_failure=lambda request, why: self.error(401, why))
    Route("/contacts", auth(self.list_contacts))

``valid`` is either a collection, kept by reference (an OAuth emulator adds tokens it issues to
the same set and removes revoked ones), or a predicate. An accepted credential is put on
``request.state.credential`` for handlers that serve several accounts.
"""

from __future__ import annotations

import base64
import binascii
import functools
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection
from typing import ClassVar, Literal

from starlette.requests import Request
from starlette.responses import Response

from syncbridge.emulator.responses import json_response

#: why a request was refused: no credential at all, or a wrong one
AuthFailure = Literal["missing", "invalid"]
FailureResponder = Callable[[Request, AuthFailure], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


class CredentialAuth(ABC):
    """A credential check; subclasses say where the credential is sent."""

    #: the ``WWW-Authenticate`` challenge of the default 401, if the scheme has one
    challenge: ClassVar[str | None] = None

    def __init__(
        self,
        valid: Collection[str] | Callable[[str], bool],
        *,
        on_failure: FailureResponder | None = None,
    ) -> None:
        self.valid = valid
        self.on_failure = on_failure or self.default_failure

    @abstractmethod
    def credential(self, request: Request) -> str | None:
        """The credential the request carries, or None when it carries none."""

    def accepts(self, credential: str) -> bool:
        if callable(self.valid):
            return bool(self.valid(credential))
        return credential in self.valid

    def check(self, request: Request) -> Response | None:
        """None when the request may pass; otherwise the 401 response to send."""
        credential = self.credential(request)
        if credential is None:
            return self.on_failure(request, "missing")
        if not self.accepts(credential):
            return self.on_failure(request, "invalid")
        request.state.credential = credential
        return None

    def __call__(self, endpoint: Endpoint) -> Endpoint:
        """Guard ``endpoint`` with this check."""

        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            denied = self.check(request)
            if denied is not None:
                return denied
            return await endpoint(request)

        return guarded

    def default_failure(self, request: Request, why: AuthFailure) -> Response:
        headers = {"WWW-Authenticate": self.challenge} if self.challenge else None
        message = "credentials are missing" if why == "missing" else "credentials are invalid"
        return json_response({"error": "unauthorized", "message": message}, 401, headers)


class BearerAuth(CredentialAuth):
    """``Authorization: Bearer <token>``."""

    challenge = "Bearer"

    def credential(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()


class ApiKeyAuth(CredentialAuth):
    """An API key in a header and/or a query parameter (the header wins when both are sent).

    :param header: the header name (case-insensitive), or None.
    :param query: the query parameter name, or None.
    """

    def __init__(
        self,
        valid: Collection[str] | Callable[[str], bool],
        *,
        header: str | None = "X-API-Key",
        query: str | None = None,
        on_failure: FailureResponder | None = None,
    ) -> None:
        if header is None and query is None:
            raise ValueError("an API key must be read from a header, a query parameter or both")
        super().__init__(valid, on_failure=on_failure)
        self.header = header
        self.query = query

    def credential(self, request: Request) -> str | None:
        if self.header is not None and self.header in request.headers:
            return request.headers[self.header]
        if self.query is not None and self.query in request.query_params:
            return request.query_params[self.query]
        return None


class BasicAuth(CredentialAuth):
    """HTTP Basic; the credential is ``"user:password"`` (so ``valid`` holds such strings)."""

    challenge = 'Basic realm="api"'

    def credential(self, request: Request) -> str | None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            return base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""  # present but unreadable: refused as invalid, not as missing
