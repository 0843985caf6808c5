"""Retries: which failures are worth another attempt, and how long to wait before it.

The waiting (exponential backoff with full jitter and a 60 s cap, ``Retry-After`` in seconds or
as an HTTP date) is httpx-retries'. What syncbridge adds is the decision per method:
retrying a request the server may already have carried out would duplicate a write, so

* idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) are retried on 429, 500, 502, 503,
  504 and on any connect, read, write or protocol error;
* every other method (POST, PATCH...) only when the server certainly did not process the
  request: on 429, on 503 carrying ``Retry-After`` (the server saying "not now"), and on
  errors raised before a byte was sent (connect error or timeout, no free connection).

When the server says how long to wait (a 429, or a 503 with ``Retry-After``), the wait is the
server's, not ours: it is waited in full, however often the server asks, and it does not use
up a retry, as long as the request is done within :data:`PACE_DEADLINE` of its first attempt.
A burst of 429s longer than the retry budget used to fail a read (and turn ``check`` red)
although the server had said when to come back. A wait that would end past the deadline is
not waited: the request is tried once more at once and its answer (the 429) returned, so the
connector reports it rather than hanging.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_retries import Retry, RetryTransport

__all__ = [
    "BACKOFF_ENV",
    "IDEMPOTENT_METHODS",
    "PACE_DEADLINE",
    "RETRY_STATUSES",
    "UNSENT_ERRORS",
    "MethodRetryTransport",
    "PacedRetry",
    "RetryPolicy",
    "backoff_from_env",
]

#: environment variable overriding the backoff base factor (seconds); tests set it small
BACKOFF_ENV = "SYNCBRIDGE_RETRY_BACKOFF"
DEFAULT_BACKOFF = 0.5
#: no single backoff wait is longer than this (a ``Retry-After`` within the deadline may be)
MAX_WAIT = 60.0
#: seconds from a request's first attempt within which waits the server asks for are honoured
PACE_DEADLINE = 300.0

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: failures that happen before the request left this machine, so it was never processed
UNSENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


class _NotNow(Exception):
    """A 503 with ``Retry-After``: the server declined the request, so a POST may be resent.

    httpx-retries retries a response its ``validate_response`` hook rejects with a retryable
    exception, sleeping per that response's headers; this marker is that exception. It never
    leaves the retry loop: once retries are exhausted the 503 response itself is returned.
    """


def _reject_not_now(response: httpx.Response) -> None:
    if response.status_code == 503 and response.headers.get("Retry-After", "").strip():
        raise _NotNow


_SECONDS = re.compile(r"\d+(\.\d+)?")


def server_wait(response: httpx.Response | Exception) -> float | None:
    """How long the server asked us to wait before trying again, or None if it did not ask.

    It asks with a 429, or a 503 carrying ``Retry-After`` (seconds, fractions accepted, or an
    HTTP date). ``Retry-After: 0`` is no pacing: it is retried as any failure, so a server
    answering it forever cannot keep a client spinning until the deadline.
    """
    if not isinstance(response, httpx.Response) or response.status_code not in (429, 503):
        return None
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    if _SECONDS.fullmatch(raw):
        seconds = float(raw)
    else:
        try:
            seconds = Retry().parse_retry_after(raw)
        except ValueError:
            return None
    return seconds if seconds > 0 else None


class PacedRetry(Retry):
    """httpx-retries' :class:`Retry`, waiting as long as the server asks within a deadline.

    ``deadline`` is a :func:`time.monotonic` instant. A wait the server asked for
    (:func:`server_wait`) that ends before it is slept in full and gives its attempt back;
    one that would end after it exhausts the retries instead (see the module docstring).
    Every other failure is retried with backoff, counted, as by the library.
    """

    deadline: float | None = None

    def increment(self) -> Retry:
        following = super().increment()
        if isinstance(following, PacedRetry):
            following.deadline = self.deadline
        return following

    def copy_with(self, **changes: Any) -> Retry:  # type: ignore[override]
        # (a copy that lost the deadline would count the server's pace against the retries)
        copy = super().copy_with(**changes)
        if isinstance(copy, PacedRetry):
            copy.deadline = self.deadline
        return copy

    def sleep(self, response: httpx.Response | Exception) -> None:
        wait = server_wait(response)
        if wait is None or self.deadline is None:
            super().sleep(response)
            return
        if time.monotonic() + wait > self.deadline:
            self.attempts_made = max(self.attempts_made, self.total)
            return
        # the server's pace, not a failure: this attempt does not count against the retries
        self.attempts_made = max(0, self.attempts_made - 1)
        time.sleep(wait)
        self.elapsed_sleep += wait


def backoff_from_env(default: float = DEFAULT_BACKOFF) -> float:
    """The backoff base factor: ``$SYNCBRIDGE_RETRY_BACKOFF`` if set, else ``default``."""
    raw = os.environ.get(BACKOFF_ENV, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ValueError(f"{BACKOFF_ENV} must be a number of seconds >= 0, got {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How one connection retries: how often, and the backoff base factor in seconds.

    The n-th retry waits a random time up to ``backoff_factor * 2**n`` seconds (full jitter,
    so concurrent clients do not retry in lockstep), capped at ``max_wait``, unless the
    response said ``Retry-After``, which wins: a 429 or 503 saying so is waited in full and
    costs no retry while the request is within ``pace_deadline`` seconds of its start.
    """

    total: int
    backoff_factor: float = DEFAULT_BACKOFF
    max_wait: float = MAX_WAIT
    pace_deadline: float = PACE_DEADLINE

    def for_method(self, method: str) -> Retry:
        """The httpx-retries configuration for one request with this ``method``."""
        method = method.upper()
        if method in IDEMPOTENT_METHODS:
            return self._retry(
                IDEMPOTENT_METHODS, RETRY_STATUSES, Retry.RETRYABLE_EXCEPTIONS, validate=None
            )
        return self.once(method)

    def once(self, method: str) -> Retry:
        """Rules for a request that must not be repeated once it may have reached the
        server, whatever its method (a create sent as a PUT): retried only after a 429 or
        when it never left, as a POST is."""
        return self._retry(
            [method.upper()], [429], (*UNSENT_ERRORS, _NotNow), validate=_reject_not_now
        )

    def _retry(
        self,
        methods: Iterable[str],
        statuses: Iterable[int],
        errors: tuple[type[Exception], ...],
        validate: Callable[[httpx.Response], None] | None,
    ) -> Retry:
        retry = PacedRetry(
            total=self.total,
            backoff_factor=self.backoff_factor,
            max_backoff_wait=self.max_wait,
            respect_retry_after_header=True,
            allowed_methods=methods,
            status_forcelist=statuses,
            retry_on_exceptions=errors,
            validate_response=validate,
        )
        retry.deadline = time.monotonic() + self.pace_deadline
        return retry


class MethodRetryTransport(RetryTransport):
    """httpx-retries' transport, choosing the retry rules by the request's method.

    The library applies one :class:`Retry` to every method it allows; this layer gives each
    request the rules of its method (see the module docstring) by setting the per-request
    ``retry`` extension, which the library honours. A request sent with its own
    ``extensions={"retry": Retry(...)}`` keeps it.
    """

    def __init__(self, transport: httpx.BaseTransport, policy: RetryPolicy) -> None:
        super().__init__(transport=transport, retry=policy.for_method("GET"))
        self.inner = transport
        self.policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "retry" not in request.extensions:
            request.extensions["retry"] = self.policy.for_method(request.method)
        return super().handle_request(request)
