"""Calling one Bitrix24 REST method, and what its answers mean.

Every method is ``<rest prefix><method>``: the prefix is the webhook URL (which holds the
secret code) or ``https://<portal>/rest/`` with an OAuth ``auth`` parameter added by
:class:`~syncbridge_bitrix24.auth.BitrixOAuth`. Reads go out as GET with a PHP-style query
string, so the core retry layer resends them on 429/503 like any idempotent request. Writes go
through ``batch`` as a POST; see :func:`post_retry` for why that POST may be resent on 503.

What every answer means is :data:`ERRORS`' to decide (:class:`syncbridge.rest.ErrorMap`):
errors are ``{"error": "<CODE>", "error_description": "..."}`` with HTTP 400/401/403/429/503;
401 and 403 (``NO_AUTH_FOUND``, ``expired_token``, ``insufficient_scope``) are an AuthError
with the fix, ``QUERY_LIMIT_EXCEEDED`` that outlasted the retries and ``OPERATION_TIME_LIMIT``
end the entity (every further call would be refused the same way), anything else fails the
read, or on a ``batch`` of writes each of its records (:func:`send_batch`).

No reason ever names a URL: with a webhook the URL path *is* the credential. Requests are
named by their method (``crm.contact.list``, ``batch``) instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import orjson

from syncbridge.errors import ConnectorError
from syncbridge.http import Client
from syncbridge.http.retry import RetryPolicy, backoff_from_env
from syncbridge.rest import BodyError, ErrorMap, OutcomeUnknown
from syncbridge_bitrix24 import phpquery
from syncbridge_bitrix24.settings import Bitrix24Settings, settings_of

#: the fixed page size of every list method
PAGE_SIZE = 50
SYSTEM = "Bitrix24"
#: said of a record in a batch that failed as a whole after some of its commands may have run
MAY_HAVE_RUN = "it may have been written: the next run checks before sending it again"


@dataclass
class Reply:
    """A successful answer: ``result`` and the list metadata, when the method pages."""

    result: Any
    total: int | None = None
    next: int | None = None
    time: dict[str, Any] = field(default_factory=dict)


class BatchRefused(ConnectorError):
    """The portal refused a whole ``batch`` (not one of its commands): each record it carried
    failed, ``unknown`` when some of its commands may have run all the same (a 5xx)."""

    def __init__(self, reason: str, unknown: bool) -> None:
        super().__init__(reason)
        self.unknown = unknown


# -- what answers mean --------------------------------------------------------------------
def _message(body: Any) -> str | None:
    """``CODE: description`` from an error body (either alone when the other is empty)."""
    if not isinstance(body, dict) or not body.get("error"):
        return None
    parts = (str(body.get("error") or "").strip(), str(body.get("error_description") or ""))
    return ": ".join(part.strip() for part in parts if part.strip()) or None


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def _stop(response: httpx.Response) -> str | None:
    """Why this answer ends the entity: the shared request budget or a method's time budget
    is used up, so every further call would be refused the same way."""
    body = _body(response)
    code = str(body.get("error") or "")
    if code == "QUERY_LIMIT_EXCEEDED":
        return (
            "the portal's request budget stayed exhausted through the retries; another "
            "application on the portal may be using the shared budget"
        )
    if code == "OPERATION_TIME_LIMIT":
        timing = body.get("time")
        reset = timing.get("operating_reset_at") if isinstance(timing, dict) else None
        when = f", it resets at {reset} (Unix time)" if reset else ""
        return f"the method's time budget is used up{when}"
    return None


def _doing(request: httpx.Request) -> str:
    """A request named by its method (the last segment of the path): the rest of the path
    is the webhook's secret."""
    method = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    return method.removesuffix(".json") or request.method


def _refusal(reason: str, response: httpx.Response) -> ConnectorError:
    """A refused ``batch``: its records' failure. A 5xx (``INTERNAL_SERVER_ERROR``) may come
    after some of its commands ran, so their outcome is unknown."""
    if response.status_code >= 500:
        return BatchRefused(f"{reason}; {MAY_HAVE_RUN}", unknown=True)
    return BatchRefused(reason, unknown=False)


#: the rules for a portal reached by an inbound webhook
ERRORS = ErrorMap(
    system=SYSTEM,
    message=_message,
    failure=BodyError("error", message=_message),
    auth_hint="the inbound webhook was deleted, expired or mistyped, or lacks the crm scope "
    "(and catalog for products): create one (Developer resources > Inbound webhook) and put "
    "it in connections.{connection}.settings.webhook_url",
    stop=_stop,
    doing=_doing,
)
#: the rules for a portal reached as an OAuth application
APP_ERRORS = replace(
    ERRORS,
    auth_hint="the app's tokens were refused or lack the crm scope (and catalog for "
    "products): reinstall the app and put its new refresh_token in "
    "connections.{connection}.settings",
)


#: the same for a ``batch`` of writes: a refused batch is its records' failure
BATCH_ERRORS = replace(ERRORS, refusal=_refusal)
APP_BATCH_ERRORS = replace(APP_ERRORS, refusal=_refusal)


def errors_of(settings: Bitrix24Settings, *, batch: bool = False) -> ErrorMap:
    """The rules for this connection's answers (of a ``batch`` of writes: ``batch``)."""
    if settings.uses_webhook:
        return BATCH_ERRORS if batch else ERRORS
    return APP_BATCH_ERRORS if batch else APP_ERRORS


# -- calls --------------------------------------------------------------------------------
def post_retry(settings: Bitrix24Settings, *, read: bool = False) -> dict[str, Any]:
    """The per-request retry rules for a ``batch`` POST.

    ``read``: a batch of reads, as safe to send again as a GET, is retried like one (5xx, a
    dropped connection), so that it fails the read only after the retries a list page gets.

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
    if read:
        return {"retry": policy.for_method("GET").copy_with(allowed_methods=["POST"])}
    return {"retry": policy.for_method("POST").copy_with(status_forcelist=[429, 503])}


def call(
    client: Client, method: str, params: Mapping[str, Any] | None = None, *, post: bool = False
) -> Reply:
    """Call ``method`` to read; raise AuthError or ConnectorError when that fails.

    ``post``: a ``batch`` of reads (its answer, unusable, is asked for again: reading twice
    does no harm).
    """
    settings = settings_of(client)
    url = settings.rest_url + method
    errors = errors_of(settings)
    if post:
        body = errors.read(
            client,
            url,
            method="POST",
            json=dict(params or {}),
            extensions=post_retry(settings, read=True),
        )[1]
    else:
        query = phpquery.encode(params) if params else ""
        body = errors.get(client, f"{url}?{query}" if query else url)
    return _reply(body, method)


def send_batch(client: Client, body: Mapping[str, Any]) -> Reply:
    """POST a ``batch`` of writes: its answer, or the failure all its records share.

    Raises :class:`BatchRefused` (the portal refused the whole batch) or
    :class:`~syncbridge.rest.OutcomeUnknown` (no answer, or one that cannot be read: the
    commands may have run), never anything that ends the entity but refused credentials and
    a used-up budget.
    """
    settings = settings_of(client)
    _response, answer = errors_of(settings, batch=True).send(
        client,
        "POST",
        settings.rest_url + "batch",
        json=dict(body),
        extensions=post_retry(settings),
    )
    return _reply(answer, "batch")


def _reply(body: Any, method: str) -> Reply:
    if not isinstance(body, dict):
        said = f"{SYSTEM} answered {method} with a JSON {type(body).__name__}, not an object"
        if method == "batch":
            raise OutcomeUnknown(f"{said}; {MAY_HAVE_RUN}")
        raise ConnectorError(said)
    timing = body.get("time")
    return Reply(
        result=body.get("result"),
        total=_int(body.get("total")),
        next=_int(body.get("next")),
        time=timing if isinstance(timing, dict) else {},
    )


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
