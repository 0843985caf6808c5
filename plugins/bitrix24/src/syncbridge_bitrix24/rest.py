"""Calling one Bitrix24 REST method and reading its envelope.

Every method is ``<rest prefix><method>``: the prefix is the webhook URL (which holds the
secret code) or ``https://<portal>/rest/`` with an OAuth ``auth`` parameter added by
:class:`~syncbridge_bitrix24.auth.BitrixOAuth`. Reads go out as GET with a PHP-style query
string, so the core retry layer resends them on 429/503 like any idempotent request. Writes go
through ``batch`` as a POST; see :func:`post_retry` for why that POST may be resent on 503.

No message raised here ever contains a URL: with a webhook the URL *is* the credential. Errors
name the portal's host and the method instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from syncbridge.errors import AuthError, ConnectorError
from syncbridge.http import Client, json_of
from syncbridge.http.requestlog import redact_text, secrets_of
from syncbridge.http.retry import RetryPolicy, backoff_from_env
from syncbridge_bitrix24 import phpquery
from syncbridge_bitrix24.settings import Bitrix24Settings

#: the fixed page size of every list method
PAGE_SIZE = 50


@dataclass
class Reply:
    """A successful answer: ``result`` and the list metadata, when the method pages."""

    result: Any
    total: int | None = None
    next: int | None = None
    time: dict[str, Any] = field(default_factory=dict)


class BitrixError(ConnectorError):
    """The portal refused a method call; ``code`` is Bitrix24's ``error`` (often empty)."""

    def __init__(self, message: str, *, method: str, code: str, description: str, status: int):
        super().__init__(message)
        self.method = method
        self.code = code
        self.description = description
        self.status = status


def settings_of(client: Client) -> Bitrix24Settings:
    settings = client.settings
    if not isinstance(settings, Bitrix24Settings):
        raise ConnectorError(
            f"the bitrix24 connector needs Bitrix24Settings, got {type(settings).__name__}"
        )
    return settings


def post_retry(settings: Bitrix24Settings) -> dict[str, Any]:
    """The per-request retry rules for a ``batch`` POST.

    The core resends a POST only on 429 or on a 503 carrying ``Retry-After``, because in
    general a 503 may come after the server did the work. Bitrix24's 503 is
    ``QUERY_LIMIT_EXCEEDED``: the leaky bucket refused the request before any command ran, and
    the portal sends no ``Retry-After`` with it. So for this connector a 503 on a POST is as safe
    to resend as a 429: the core's POST rules (connect errors, 429) widened by 503, handed to the
    core retry layer through the per-request ``retry`` extension it documents.
    """
    if settings.max_retries <= 0:
        return {}
    policy = RetryPolicy(total=settings.max_retries, backoff_factor=backoff_from_env())
    return {"retry": policy.for_method("POST").copy_with(status_forcelist=[429, 503])}


def call(
    client: Client, method: str, params: Mapping[str, Any] | None = None, *, post: bool = False
) -> Reply:
    """Call ``method``; raise :class:`BitrixError` (or AuthError) when the portal refuses it."""
    settings = settings_of(client)
    url = settings.rest_url + method
    try:
        if post:
            response = client.post(url, json=dict(params or {}), extensions=post_retry(settings))
        else:
            query = phpquery.encode(params) if params else ""
            response = client.get(f"{url}?{query}" if query else url)
    except httpx.HTTPError as error:
        # httpx messages can quote the request; the webhook URL must not travel with them
        text = redact_text(str(error), secrets_of(settings))
        raise ConnectorError(
            f"{settings.portal}: {method}: {type(error).__name__}: {text}"
        ) from None
    return read_reply(settings, method, response)


def read_reply(settings: Bitrix24Settings, method: str, response: httpx.Response) -> Reply:
    """The envelope of ``response``, or the error it carries as an exception."""
    try:
        body = json_of(response)
    except ValueError:
        raise ConnectorError(
            f"{settings.portal}: {method}: HTTP {response.status_code} without a JSON body "
            "(is base_url the portal's address?)"
        ) from None
    if not isinstance(body, dict):
        raise ConnectorError(
            f"{settings.portal}: {method}: unexpected answer {type(body).__name__}"
        )
    if "error" in body or response.status_code >= 400:
        raise error_for(
            settings,
            method,
            response.status_code,
            str(body.get("error") or ""),
            str(body.get("error_description") or ""),
            body,
        )
    timing = body.get("time")
    return Reply(
        result=body.get("result"),
        total=_int(body.get("total")),
        next=_int(body.get("next")),
        time=timing if isinstance(timing, dict) else {},
    )


def error_for(
    settings: Bitrix24Settings,
    method: str,
    status: int,
    code: str,
    description: str,
    body: Mapping[str, Any] | None = None,
) -> BitrixError:
    """The exception for a refused call, with the fix a person can act on."""
    description = redact_text(description, secrets_of(settings))
    said = ": ".join(part for part in (code, description) if part) or f"HTTP {status}"
    where = f"{settings.portal}: {method}"
    kind: type[BitrixError] = BitrixError
    if status == 401 or code in {"NO_AUTH_FOUND", "expired_token", "invalid_token"}:
        kind = _AuthRefused
        fix = (
            "the inbound webhook was deleted, expired or mistyped: create one (Developer "
            "resources > Inbound webhook) and update webhook_url"
            if settings.uses_webhook
            else "the app's tokens were refused: reinstall the app and put its new "
            "refresh_token in the settings"
        )
        message = f"{where} was refused ({said}); {fix}"
    elif code == "insufficient_scope":
        kind = _AuthRefused
        message = (
            f"{where} was refused ({said}); give the webhook or app the crm scope "
            "(and catalog for products)"
        )
    elif code == "QUERY_LIMIT_EXCEEDED":
        message = (
            f"{where}: the portal's request budget stayed exhausted through "
            f"{settings.max_retries} retries ({said}); another application on the portal "
            "may be using the shared budget"
        )
    elif code == "OPERATION_TIME_LIMIT":
        reset = ((body or {}).get("time") or {}).get("operating_reset_at")
        when = f"; it resets at {reset} (Unix time)" if reset else ""
        message = f"{where}: the method's time budget is used up ({said}){when}"
    else:
        message = f"{where}: {said}"
    return kind(message, method=method, code=code, description=description, status=status)


class _AuthRefused(BitrixError, AuthError):
    """A refusal about credentials: the run stops with the fix instead of going on."""


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
