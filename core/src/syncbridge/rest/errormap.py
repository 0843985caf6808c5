"""The error map: what every answer and every transport failure means, decided once.

Connectors used to translate HTTP answers each in their own way, and got different things
wrong: an HTML error page pasted into a report, an ``orjson`` traceback for a truncated body,
a dropped connection on one create ending a whole entity. :class:`ErrorMap` holds the rules:

==============================  =============================  ==============================
what happened                   reading (``read``, ``get``)    writing one record (``write``)
==============================  =============================  ==============================
401, 403                        :class:`AuthError`, with the   the same: every other record
                                fix (``syncbridge auth``)      would fail the same way
404, 410 (by id)                None with ``missing_ok``       the record's failure
a body the API declares its     ``refusal``'s exception (a     the record's failure, nothing
refusal (``refused``)           ConnectorError), at once       written
an answer that is not JSON      tried again, then              the record's failure: it may
(HTML, cut short, empty), or    :class:`ConnectorError`        have been written, the outbox
a body declared an error                                       checks on the next run
other status >= 400             :class:`ConnectorError`        the record's failure
no answer (connection dropped,  :class:`ConnectorError`        the record's failure, never
timed out, refused)             (the transport retried)        the entity's
==============================  =============================  ==============================

Retries of whole requests (5xx, 429, dropped connections on idempotent methods) are the
transport's (:mod:`syncbridge.http.retry`); this layer adds the retry of a read whose answer
came but cannot be used, which no transport can see.

Every reason is one line a person can read: ``HTTP 502 Bad Gateway (an HTML page, not
JSON)``, ``HTTP 422 Unprocessable Entity: name is required``, ``HTTP 200 OK (JSON cut short
after 57 bytes)``. Bodies are summarised, never pasted; the API's own message is kept (it is
what a person can act on) on one line and at most :data:`MESSAGE_LENGTH` characters; secrets
(the connection's secret settings, the request's credentials, secret-looking URL parameters)
are masked everywhere, with the request log's own redaction.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from httpx_retries import Retry

from syncbridge.errors import AuthError, ConnectorError
from syncbridge.http.requestlog import header_secrets, redact_text, secrets_of
from syncbridge.http.retry import (
    IDEMPOTENT_METHODS,
    RETRY_STATUSES,
    PacedRetry,
    RetryPolicy,
    backoff_from_env,
)
from syncbridge.records import NativeRecord, UpsertItem, UpsertResult
from syncbridge.rest.paths import Selector, select

__all__ = [
    "MESSAGE_LENGTH",
    "BodyError",
    "ErrorMap",
    "Unusable",
    "describe",
    "one_line",
    "outcome_unknown",
]

#: the longest API message quoted in a reason
MESSAGE_LENGTH = 200

#: where error bodies usually keep their message, tried in order when none is declared
MESSAGE_PATHS: tuple[str, ...] = (
    "error.message",
    "error_description",
    "message",
    "error",
    "detail",
    "title",
    "errors.0.message",
    "errors.0.detail",
    "errors.0",
    "Fault.Error.0.Message",
)

#: said of a write whose outcome is unknown
_UNKNOWN = "it may have been written: the next run checks before sending it again"

_SPACE = re.compile(r"\s+")
_UNSET: Any = object()


def one_line(text: str, limit: int = MESSAGE_LENGTH) -> str:
    """``text`` on one line (whitespace runs, newlines included, become one space), cut to
    ``limit`` characters with an ellipsis."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def outcome_unknown(result: UpsertResult) -> bool:
    """Whether ``result`` is a write :meth:`ErrorMap.write` could not learn the outcome of
    (no answer, or an answer that cannot be read): the system may have carried it out.

    A connector that can tell at once (a create's key in a searchable field) may look it up
    before reporting the result; the others leave it to the engine's outbox.
    """
    return not result.ok and result.unknown


class Unusable(Exception):
    """An answer that came but cannot be used; ``reason`` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Refused(Exception):
    """A success body that is the API's refusal (``ErrorMap.refused``): final, unlike
    :class:`Unusable`."""

    def __init__(self, reason: str, auth: bool) -> None:
        super().__init__(reason)
        self.reason, self.auth = reason, auth


class OutcomeUnknown(ConnectorError):
    """A request that went out and got no usable answer (:meth:`ErrorMap.send`): the system
    may have carried it out. The message is the one line to report, saying so."""


@dataclass(frozen=True, slots=True)
class BodyError:
    """Declares an answer with a success status whose body says it failed.

    ``BodyError("success", equals=False, message="error.message")`` for
    ``{"success": false, "error": {"message": ...}}``; ``BodyError("error",
    message="error_description")`` for any body with a non-null ``error`` (Bitrix24).

    :param path: what to look at; :param equals: the value meaning failure (default: any
        value other than None); :param message: where the body keeps the reason.
    """

    path: Selector
    equals: Any = _UNSET
    message: Selector | None = None

    def __call__(self, body: Any) -> str | None:
        value = select(body, self.path)
        failed = value is not None if self.equals is _UNSET else value == self.equals
        if not failed:
            return None
        reason = select(body, self.message) if self.message is not None else value
        if reason is None or reason == "":
            return "the body says it failed"
        return one_line(str(reason))


def _status(response: httpx.Response) -> str:
    phrase = response.reason_phrase
    return f"HTTP {response.status_code} {phrase}" if phrase else f"HTTP {response.status_code}"


def _kind(response: httpx.Response) -> str:
    kind: str = response.headers.get("content-type", "")
    return kind.partition(";")[0].strip().lower()


def _not_json(response: httpx.Response, error: ValueError | None) -> str:
    """Why the body of ``response`` is no JSON, summarised (the body is never quoted).

    ``error`` is the decoder's; its position tells a body cut short (the decoder ran out of
    text) from one that is something else.
    """
    content = response.content
    if not content.strip():
        return "an empty body, not JSON"
    kind = _kind(response)
    if "html" in kind or content.lstrip()[:1] == b"<":
        return "an HTML page, not JSON"
    end = getattr(error, "pos", None)
    if end is not None and end >= len(content.rstrip()):
        return f"JSON cut short after {len(content)} bytes"
    if kind and "json" not in kind:
        return f"a {kind} body, not JSON"
    return "a body that is not JSON"


def _message(body: Any, where: Selector | None) -> str | None:
    """The API's message in an error body: where declared, else in the usual places."""
    if where is not None:
        found = select(body, where)
        if found is not None and found != "" and not isinstance(found, dict | list):
            return one_line(str(found))
    for path in MESSAGE_PATHS:
        found = select(body, path)
        if isinstance(found, str) and found.strip():
            return one_line(found)
    return None


def describe(response: httpx.Response, message: Selector | None = None) -> str:
    """The answer in one line: status, and the API's message or what the body was.

    :param message: where an error body keeps its message (default: the usual places).
    """
    status = _status(response)
    wait = response.headers.get("Retry-After", "").strip()
    asked = f"; asked to retry after {wait} s" if response.status_code == 429 and wait else ""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as error:
        if response.status_code >= 400:
            if not response.content.strip():
                return status + asked
            if _kind(response) == "text/plain" and len(response.content) <= MESSAGE_LENGTH:
                return f"{status}: {one_line(response.text)}{asked}"
        return f"{status} ({_not_json(response, error)}){asked}"
    text = _message(body, message) if response.status_code >= 400 else None
    return f"{status}: {text}{asked}" if text else status + asked


def _repeatable(client: httpx.Client, method: str) -> Retry | None:
    """The connection's retry rules for a GET, applied to a request of ``method`` that is
    safe to repeat (None: the client has no retry policy, a bare httpx client)."""
    policy = getattr(getattr(client, "_transport", None), "policy", None)
    if not isinstance(policy, RetryPolicy):
        return None
    rules = PacedRetry(
        total=policy.total,
        backoff_factor=policy.backoff_factor,
        max_backoff_wait=policy.max_wait,
        respect_retry_after_header=True,
        allowed_methods=[method.upper()],
        status_forcelist=RETRY_STATUSES,
        retry_on_exceptions=Retry.RETRYABLE_EXCEPTIONS,
    )
    rules.deadline = time.monotonic() + policy.pace_deadline
    return rules


def _once(client: httpx.Client, method: str, request: dict[str, Any]) -> None:
    """Give ``request`` the retry rules of a request sent at most once (see
    :meth:`RetryPolicy.once`), when the client has a retry policy."""
    policy = getattr(getattr(client, "_transport", None), "policy", None)
    if isinstance(policy, RetryPolicy):
        request["extensions"] = {**request.get("extensions", {}), "retry": policy.once(method)}


def _secrets(client: httpx.Client, request: httpx.Request | None) -> set[str]:
    found = secrets_of(getattr(client, "settings", None))
    if request is not None:
        found |= header_secrets(request.headers)
    return found


def _request_of(error: httpx.HTTPError) -> httpx.Request | None:
    try:
        return error.request
    except RuntimeError:  # an error raised before it had a request
        return None


@dataclass(frozen=True, kw_only=True)
class ErrorMap:
    """The rules for one API's answers (see the module docstring).

    :param system: the system's name in messages (``"Acme CRM"``).
    :param message: where its error bodies keep the message (a dotted path or a function;
        default: the usual places, :data:`MESSAGE_PATHS`).
    :param failure: a function of a decoded success body giving the reason when the body
        is an error all the same (:class:`BodyError`), or None when it is not.
    :param auth_statuses: statuses that mean the credentials are refused.
    :param auth_hint: what the person should do then; ``{connection}`` is the connection's
        name. The default fits OAuth connectors; one with an API key says where the key goes.
    :param missing_statuses: statuses that mean "no such record" for ``missing_ok`` reads.
    :param attempts: how often a read whose answer cannot be used is tried in all.
    :param decode: the JSON decoder (``orjson.loads``; a connector keeping decimals exact
        passes its own).
    :param stop: a function of an answer with an error status giving the reason when it
        ends the whole entity, for a write as for a read (a request quota used up: every
        further request would be refused the same way), or None when it does not. Its
        reason follows the answer in the ConnectorError raised.
    :param doing: how a request is named in reasons (default: its method and path, ``GET
        /v1/items``). An API whose URL path holds a secret (a webhook's code) names its
        requests otherwise, e.g. by the method the path ends in.

    :param refusal: makes the exception raised for an answer with an error status (by
        :meth:`read` and :meth:`send`) from its one-line reason and the answer; default
        :class:`~syncbridge.errors.ConnectorError`. An API whose error codes the connector
        acts on (QuickBooks' 5010, a stale object) returns a subclass carrying them; it
        must be a ConnectorError, so that an entity fails cleanly when nobody catches it.
    :param refused: for APIs that answer every error with a success status and an envelope
        (vtiger's ``200 {"success": false, "error": {"code", "message"}}``): a function of a
        decoded body giving the reason when the body is the API's refusal, None otherwise
        (a :class:`BodyError` does). Unlike ``failure`` (a body that cannot be used: read
        again, a write's outcome unknown), a refusal is the API's final word: a read or
        :meth:`send` raises ``refusal``'s exception at once, a write fails its record with
        the outcome known (nothing was written).
    :param auth_refused: a function of such a body saying whether the refusal is of the
        credentials (an expired session, a wrong key): AuthError with ``auth_hint`` then.

    .. versionadded:: doing
    .. versionadded:: refusal
    .. versionadded:: refused
    """

    system: str
    message: Selector | None = None
    failure: Callable[[Any], str | None] | None = None
    auth_statuses: frozenset[int] = frozenset({401, 403})
    auth_hint: str = "run `syncbridge auth {connection}`"
    missing_statuses: frozenset[int] = frozenset({404, 410})
    attempts: int = 3
    decode: Callable[[bytes], Any] = orjson.loads
    stop: Callable[[httpx.Response], str | None] | None = None
    doing: Callable[[httpx.Request], str] | None = None
    refusal: Callable[[str, httpx.Response], ConnectorError] | None = None
    refused: Callable[[Any], str | None] | None = None
    auth_refused: Callable[[Any], bool] | None = None

    # -- one answer ---------------------------------------------------------------------
    def describe(self, response: httpx.Response) -> str:
        """``response`` in one line (see :func:`describe`)."""
        return describe(response, self.message)

    def body(self, response: httpx.Response) -> Any:
        """The decoded body of a successful ``response``, or :class:`Unusable` saying why
        it cannot be used (not JSON, or declared an error by ``failure``)."""
        try:
            body = self.decode(response.content)
        except ValueError as error:
            raise Unusable(f"{_status(response)} ({_not_json(response, error)})") from None
        if self.refused is not None:
            said = self.refused(body)
            if said is not None:
                auth = self.auth_refused is not None and self.auth_refused(body)
                raise _Refused(said, auth)
        if self.failure is not None:
            reason = self.failure(body)
            if reason is not None:
                raise Unusable(f"{_status(response)}: {reason}")
        return body

    def auth_error(
        self, client: httpx.Client, response: httpx.Response, said: str | None = None
    ) -> AuthError:
        """The AuthError for a refused request, with the fix (``said``: the refusal in the
        API's words, when its status does not say it)."""
        connection = str(getattr(client, "connection", "") or "<connection>")
        hint = self.auth_hint.format(connection=connection)
        reason = f"{self.system} refused the credentials of connection {connection!r} " + (
            f"({said or self.describe(response)}); {hint}"
        )
        return AuthError(redact_text(reason, _secrets(client, response.request)))

    def _stop(self, client: httpx.Client, response: httpx.Response) -> None:
        """Raise the ConnectorError that ends the entity, if ``stop`` says this answer does."""
        if self.stop is None or response.status_code < 300:
            return
        why = self.stop(response)
        if why is not None:
            said = self.describe(response).rstrip(".")
            reason = f"{self.system} answered {self._doing(response.request)} with {said}; {why}"
            raise ConnectorError(self._redact(client, response.request, reason))

    def _doing(self, request: httpx.Request) -> str:
        if self.doing is not None:
            return self.doing(request)
        return f"{request.method} {request.url.path}"

    def _redact(self, client: httpx.Client, request: httpx.Request | None, text: str) -> str:
        return redact_text(text, _secrets(client, request))

    def _unanswered(self, client: httpx.Client, error: httpx.HTTPError) -> str:
        request = _request_of(error)
        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout) and str(error):
            # the connection's client already said it whole: which connection, which server,
            # what to check (syncbridge.http.client.ConnectGuard)
            return self._redact(client, request, one_line(str(error), 2 * MESSAGE_LENGTH))
        # the transport's own words, which may be long (a sentence naming what to check)
        detail = one_line(str(error), 2 * MESSAGE_LENGTH) or "no details"
        to = f" to {self._doing(request)}" if request is not None else ""
        return self._redact(
            client, request, f"no answer from {self.system}{to} ({type(error).__name__}: {detail})"
        )

    # -- reading ------------------------------------------------------------------------
    def read(
        self,
        client: httpx.Client,
        url: str,
        *,
        method: str = "GET",
        missing_ok: bool = False,
        repeatable: bool = False,
        **request: Any,
    ) -> tuple[httpx.Response, Any]:
        """Send a request that reads, and return its answer and decoded body.

        ``repeatable``: a read sent with another method than GET that is safe to repeat all
        the same (a query by POST, Számlázz.hu's Agent): the transport then retries it as
        it retries a GET (5xx, a connection dropped after it was sent).

        An answer that cannot be used is asked for again, ``attempts`` times in all, with
        backoff (``$SYNCBRIDGE_RETRY_BACKOFF``); so is a non-idempotent read (a search by
        POST) that got no answer, which the transport does not retry. Raises AuthError or
        ConnectorError with one sentence; with ``missing_ok``, a 404 gives ``(response,
        None)``.
        """
        if repeatable:
            rules = _repeatable(client, method)
            if rules is not None:
                request["extensions"] = {**request.get("extensions", {}), "retry": rules}
        attempt = 0
        while True:
            attempt += 1
            try:
                response = client.request(method, url, **request)
            except httpx.TransportError as error:
                if method.upper() in IDEMPOTENT_METHODS or attempt >= self.attempts:
                    raise ConnectorError(self._unanswered(client, error)) from None
                self._pause(attempt)
                continue
            status = response.status_code
            if status in self.auth_statuses:
                raise self.auth_error(client, response)
            self._stop(client, response)
            if missing_ok and status in self.missing_statuses:
                return response, None
            doing = self._doing(response.request)
            if status >= 300:
                reason = f"{self.system} answered {doing} with {self.describe(response)}"
                raise self._refused(client, response, reason)
            try:
                return response, self.body(response)
            except _Refused as refused:
                raise self._said_no(client, response, refused, doing) from None
            except Unusable as unusable:
                if attempt >= self.attempts:
                    times = f", {attempt} times" if attempt > 1 else ""
                    reason = f"{self.system} answered {doing} with {unusable.reason}{times}"
                    raise ConnectorError(
                        self._redact(client, response.request, reason)
                    ) from None
            self._pause(attempt)

    def get(self, client: httpx.Client, url: str, **request: Any) -> Any:
        """``GET url``'s decoded body (see :meth:`read`)."""
        return self.read(client, url, **request)[1]

    def _refused(
        self, client: httpx.Client, response: httpx.Response, reason: str
    ) -> ConnectorError:
        reason = self._redact(client, response.request, reason)
        return ConnectorError(reason) if self.refusal is None else self.refusal(reason, response)

    def _said_no(
        self, client: httpx.Client, response: httpx.Response, refused: _Refused, doing: str
    ) -> ConnectorError:
        """The exception for a refusal in a success body (see ``refused``)."""
        if refused.auth:
            return self.auth_error(client, response, refused.reason)
        reason = f"{self.system} answered {doing} with {refused.reason}"
        return self._refused(client, response, reason)

    # -- one request, its outcome handled by the connector --------------------------------
    def send(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        *,
        repeatable: bool = False,
        once: bool = False,
        **request: Any,
    ) -> tuple[httpx.Response, Any]:
        """Send one request whose outcome the connector handles itself (a write whose error
        codes it acts on, a batch of writes): its answer and decoded body (None if empty).

        Raises AuthError for refused credentials, ConnectorError for what ``stop`` says,
        ``refusal``'s exception (default ConnectorError) for another error status, with
        the answer in one line, and :class:`OutcomeUnknown` when no answer came or it
        cannot be used: the system may have carried the request out. Nothing is retried
        here but by the transport.

        :param repeatable: the request may be sent again without doing twice what it does,
            whatever its method (QuickBooks' ``requestid``, an ``Idempotency-Key`` header):
            the transport then retries it as it retries a GET (5xx, a connection dropped
            after it was sent), within the connection's retry budget.
        :param once: the opposite: the request must not be sent again once it may have
            reached the server, whatever its method (an API that creates with PUT).
        """
        if once:
            _once(client, method, request)
        elif repeatable:
            rules = _repeatable(client, method)
            if rules is not None:
                request["extensions"] = {**request.get("extensions", {}), "retry": rules}
        try:
            response = client.request(method, url, **request)
        except httpx.TransportError as error:
            raise OutcomeUnknown(f"{self._unanswered(client, error)}; {_UNKNOWN}") from None
        status = response.status_code
        if status in self.auth_statuses:
            raise self.auth_error(client, response)
        self._stop(client, response)
        if status >= 300:
            raise self._refused(client, response, self.describe(response))
        if not response.content.strip():
            return response, None
        try:
            return response, self.body(response)
        except _Refused as refused:
            raise self._said_no(client, response, refused, self._doing(response.request)) from None
        except Unusable as unusable:
            reason = self._redact(client, response.request, f"{unusable.reason}; {_UNKNOWN}")
            raise OutcomeUnknown(reason) from None

    def _pause(self, attempt: int) -> None:
        time.sleep(backoff_from_env() * 2 ** (attempt - 1))

    # -- writing one record -------------------------------------------------------------
    def write(
        self,
        client: httpx.Client,
        item: UpsertItem,
        method: str,
        url: str,
        *,
        record: Selector | None = None,
        id: Selector = "id",
        missing_ok: bool = False,
        once: bool = False,
        **request: Any,
    ) -> UpsertResult:
        """Send the request that writes ``item``, and its outcome as an UpsertResult.

        :param record: where the answer keeps the record as stored (None: the body is it).
        :param id: where that record keeps its id.
        :param missing_ok: a status of ``missing_statuses`` (404, 410) is done, not failed:
            a delete of a record already gone (``item.id`` is the id; no record).
        :param once: never send it again once it may have reached the server, whatever its
            method (a create by PUT): see :meth:`send`.

        Every failure but refused credentials (and what ``stop`` says ends the entity) is
        this record's alone (see the module docstring), so one bad answer never ends the
        entity. When it is unknown whether the
        system carried the write out (no answer, or an answer that cannot be read) the
        reason says so; the engine's outbox finds out on the next run before anything is
        sent again.
        """
        if once:
            _once(client, method, request)
        try:
            response = client.request(method, url, **request)
        except httpx.TransportError as error:
            reason = f"{self._unanswered(client, error)}; {_UNKNOWN}"
            return UpsertResult.failed(item.key, reason, item.id, unknown=True)
        status = response.status_code
        if status in self.auth_statuses:
            raise self.auth_error(client, response)
        self._stop(client, response)
        if missing_ok and status in self.missing_statuses:
            return UpsertResult(key=item.key, id=item.id)
        if status >= 300:
            return UpsertResult.failed(
                item.key, self._redact(client, response.request, self.describe(response)), item.id
            )
        if not response.content.strip() and item.id is not None:
            return UpsertResult(key=item.key, id=item.id)  # 204: updated, nothing to show
        try:
            body = self.body(response)
        except _Refused as refused:
            if refused.auth:
                raise self.auth_error(client, response, refused.reason) from None
            reason = self._redact(client, response.request, refused.reason)
            return UpsertResult.failed(item.key, reason, item.id)
        except Unusable as unusable:
            reason = f"{unusable.reason}; {_UNKNOWN}"
            return UpsertResult.failed(
                item.key, self._redact(client, response.request, reason), item.id, unknown=True
            )
        stored = select(body, record)
        native_id = select(stored, id) if isinstance(stored, dict) else None
        if native_id is None and item.id is None:
            reason = f"{_status(response)}, but the answer names no id of the new record"
            return UpsertResult.failed(item.key, reason, unknown=True)
        return UpsertResult(
            key=item.key,
            id=str(native_id if native_id is not None else item.id),
            record=stored if isinstance(stored, dict) else None,
        )

    def records(self, body: Any, where: Selector | None, doing: str) -> list[NativeRecord]:
        """The list of records at ``where`` in a listing's ``body``, or a ConnectorError."""
        found = select(body, where)
        if found is None:
            return []
        if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
            place = repr(where) if isinstance(where, str) and where else "the top of its body"
            raise ConnectorError(
                f"{self.system} answered {doing} without a list of records at {place}"
            )
        return found

