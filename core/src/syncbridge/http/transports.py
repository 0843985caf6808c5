"""Assembling a connection's transport stack.

Outermost first::

    MethodRetryTransport   retries with backoff, by method (syncbridge.http.retry)
    RateLimitTransport     waits for a slot under the published limits (syncbridge.http.ratelimit)
    RequestLogTransport    reports each attempt, redacted (syncbridge.http.requestlog)
    httpx.HTTPTransport    keep-alive connection pool sized to ``info.max_concurrency``

The order is the point: every attempt, retries included, is paced by the limiter and appears
in the log, while the log's durations exclude the time spent waiting. A layer with nothing to
do (no retries, no limits, no sink) is left out rather than passed through.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from functools import cache

import httpx

from syncbridge.describe import ConnectorInfo
from syncbridge.http.ratelimit import (
    Budget,
    Priority,
    RateLimitTransport,
    RedisBudget,
    build_limiter,
    limited_paths,
)
from syncbridge.http.requestlog import RequestLogSink, RequestLogTransport, secrets_of
from syncbridge.http.retry import MethodRetryTransport, RetryPolicy, backoff_from_env
from syncbridge.settings import ConnectorSettings

__all__ = ["build_transport", "layers"]


@cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every connection shares.

    Building one loads the CA bundle, about 20 ms: once per connection it showed in short
    runs, and connectors that never speak HTTPS (SQL, plain-HTTP emulators) paid it too.
    """
    return httpx.create_ssl_context()


def build_transport(
    *,
    name: str,
    settings: ConnectorSettings,
    info: ConnectorInfo,
    request_log: RequestLogSink | None,
    rate_budget: Budget = None,
    priority: Callable[[], Priority] = lambda: "poll",
) -> httpx.BaseTransport:
    """The transport stack of connection ``name`` (see the module docstring).

    Retries come from ``settings.max_retries`` (settings without that field, as non-HTTP
    connectors have, get none) with the backoff factor of ``$SYNCBRIDGE_RETRY_BACKOFF``
    (default 0.5 s); the limiter from ``info.rate_limits`` unless ``settings.rate_limit`` is
    False, counting in ``rate_budget`` when given (shared with other processes, see
    :mod:`syncbridge.http.ratelimit`), with a ceiling for ``bulk`` runs where the budget
    is shared through Redis (``priority`` says, at each request, which kind of run is being
    served); secrets to redact from every secret field of
    ``settings``.
    """
    concurrency = info.max_concurrency
    transport: httpx.BaseTransport = httpx.HTTPTransport(
        verify=tls_context(),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )
    if request_log is not None:
        transport = RequestLogTransport(transport, request_log, secrets_of(settings))
    limiter = (
        build_limiter(info.rate_limits, budget=rate_budget, key=name)
        if getattr(settings, "rate_limit", True)
        else None
    )
    if limiter is not None:
        bulk = (
            build_limiter(info.rate_limits, budget=rate_budget, key=name, priority="bulk")
            if isinstance(rate_budget, RedisBudget)
            else None
        )
        transport = RateLimitTransport(
            transport,
            limiter,
            key=name,
            paths=limited_paths(info.rate_limits),
            bulk=bulk,
            priority=priority,
        )
    retries = int(getattr(settings, "max_retries", 0))
    if retries > 0:
        policy = RetryPolicy(total=retries, backoff_factor=backoff_from_env())
        transport = MethodRetryTransport(transport, policy)
    return transport


def layers(transport: httpx.BaseTransport) -> Iterator[httpx.BaseTransport]:
    """The layers of a stack built by :func:`build_transport`, outermost first.

    For diagnostics and tests: each syncbridge layer exposes the one below as ``inner``.
    """
    current: httpx.BaseTransport | None = transport
    while current is not None:
        yield current
        below = getattr(current, "inner", None)
        current = below if isinstance(below, httpx.BaseTransport) else None
