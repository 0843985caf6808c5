"""Retries: which failures are worth another attempt, and how long to wait before it.

The waiting (exponential backoff with full jitter, ``Retry-After`` in seconds or as an HTTP
date, the 60 s cap) is httpx-retries'. What syncbridge adds is the decision per method:
retrying a request the server may already have carried out would duplicate a write, so

* idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) are retried on 429, 500, 502, 503,
  504 and on any connect, read, write or protocol error;
* every other method (POST, PATCH...) only when the server certainly did not process the
  request: on 429, on 503 carrying ``Retry-After`` (the server saying "not now"), and on
  errors raised before a byte was sent (connect error or timeout, no free connection).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx
from httpx_retries import Retry, RetryTransport

__all__ = [
    "BACKOFF_ENV",
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "UNSENT_ERRORS",
    "MethodRetryTransport",
    "RetryPolicy",
    "backoff_from_env",
]

#: environment variable overriding the backoff base factor (seconds); tests set it small
BACKOFF_ENV = "SYNCBRIDGE_RETRY_BACKOFF"
DEFAULT_BACKOFF = 0.5
#: no single wait (backoff or ``Retry-After``) is longer than this
MAX_WAIT = 60.0

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
    response said ``Retry-After``, which wins (also capped at ``max_wait``).
    """

    total: int
    backoff_factor: float = DEFAULT_BACKOFF
    max_wait: float = MAX_WAIT

    def for_method(self, method: str) -> Retry:
        """The httpx-retries configuration for one request with this ``method``."""
        method = method.upper()
        if method in IDEMPOTENT_METHODS:
            return self._retry(
                IDEMPOTENT_METHODS, RETRY_STATUSES, Retry.RETRYABLE_EXCEPTIONS, validate=None
            )
        return self._retry([method], [429], (*UNSENT_ERRORS, _NotNow), validate=_reject_not_now)

    def _retry(
        self,
        methods: Iterable[str],
        statuses: Iterable[int],
        errors: tuple[type[Exception], ...],
        validate: Callable[[httpx.Response], None] | None,
    ) -> Retry:
        return Retry(
            total=self.total,
            backoff_factor=self.backoff_factor,
            max_backoff_wait=self.max_wait,
            respect_retry_after_header=True,
            allowed_methods=methods,
            status_forcelist=statuses,
            retry_on_exceptions=errors,
            validate_response=validate,
        )


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
