"""The client-side rate limiter: stay under a system's published limits instead of hitting them.

Systems answer an exceeded limit with 429 and sometimes a long penalty, so a well-behaved run
paces itself: every attempt (retries included) waits for a slot in a sliding window for each
declared :class:`~syncbridge.describe.RateLimit`. The counting is pyrate-limiter's
(``Limiter``, sliding-window log, thread-safe); one limiter belongs to one connection's
transport, so the budget is shared by every thread using that client.

A system counts requests per account, not per process: the daemon and a ``syncbridge run``
or ``push`` started by hand spend one budget. So where the state store is a SQLite file, the
log of each connection's requests lives beside it (``<state file>.rates``, pyrate-limiter's
``SQLiteBucket`` under a file lock), and every process opening that state store waits for
the same slots. Elsewhere (an in-memory or a server state store) each process keeps its own,
unless it is given a :class:`RedisBudget`: workers of a fleet (:mod:`syncbridge.fleet`), on
any number of machines, count one account's requests in one Redis sorted set
(pyrate-limiter's ``RedisBucket``).

A shared budget has priorities. A first sync of a big account may read for an hour; the
poll of that account's other entity, due every minute, must not wait behind it. So a run
marked ``bulk`` counts against a ceiling of ``bulk_share`` of each limit, in the same set
where ``poll`` runs count against the whole limit: however busy the bulk work is, the rest
of every window stays free for polls, and when no poll needs it the bulk work loses only
that share.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
from pyrate_limiter import (
    AbstractBucket,
    InMemoryBucket,
    Limiter,
    Rate,
    RedisBucket,
    SQLiteBucket,
)

from syncbridge.describe import RateLimit

__all__ = [
    "Budget",
    "Priority",
    "RateLimitTransport",
    "RedisBudget",
    "build_limiter",
    "limiter_rates",
]

Priority = Literal["poll", "bulk"]


@dataclass(frozen=True)
class RedisBudget:
    """An account's requests counted in Redis, shared by every process given the same
    ``url`` and ``key``.

    :param url: the Redis server (``redis://127.0.0.1:6379/0``).
    :param key: the account: the fleet uses ``<tenant>:<connection>``.
    :param bulk_share: the share of each limit that ``bulk`` runs may use (see above).
    """

    url: str
    key: str
    bulk_share: float = 0.75


#: where a connection counts its requests with other processes: a file beside a SQLite
#: state store, a Redis budget, or None (this process alone)
Budget = Path | RedisBudget | None

_redis_clients: dict[str, Any] = {}
_redis_lock = threading.Lock()


def redis_client(url: str) -> Any:
    """One Redis client per server and process: its pool serves every budget there."""
    with _redis_lock:
        client = _redis_clients.get(url)
        if client is None:
            import redis

            client = _redis_clients[url] = redis.Redis.from_url(url)
        return client


def bulk_rates(rates: list[Rate], share: float) -> list[Rate]:
    """``rates`` cut to ``share`` of each limit, never below one request a window."""
    return [Rate(max(1, int(rate.limit * share)), rate.interval) for rate in rates]

#: extra wait (ms) pyrate-limiter adds to each computed delay: it covers the moment between
#: being admitted and the request reaching the server, so server-side arrivals keep the limit
_BUFFER_MS = 50


def limiter_rates(limits: Iterable[RateLimit]) -> list[Rate]:
    """The declared limits as a rate list pyrate-limiter accepts, never looser than declared.

    pyrate-limiter wants strictly increasing windows with strictly increasing limits and
    non-increasing density; published limits need not look like that. So: of two limits on
    the same window the smaller wins; a shorter window whose limit a longer one does not
    exceed is dropped (the longer one already implies it); and a longer window denser than
    the shorter one before it is tightened to that density (stricter than declared, never
    looser).
    """
    by_interval: dict[int, int] = {}
    for limit in limits:
        interval = max(1, round(limit.seconds * 1000))
        by_interval[interval] = min(limit.requests, by_interval.get(interval, limit.requests))
    kept: list[Rate] = []
    for interval in sorted(by_interval):
        requests = by_interval[interval]
        while kept and kept[-1].limit >= requests:
            kept.pop()
        if kept and requests * kept[-1].interval > kept[-1].limit * interval:
            requests = kept[-1].limit * interval // kept[-1].interval
            if requests <= kept[-1].limit:
                kept.pop()
        kept.append(Rate(requests, interval))
    return kept


def limited_paths(limits: Iterable[RateLimit]) -> tuple[str, ...]:
    """The paths a connection's limits count: empty (every request) unless every limit names
    its paths; a limit on every request makes the others' scopes moot."""
    limits = list(limits)
    if not limits or any(not limit.paths for limit in limits):
        return ()
    return tuple(dict.fromkeys(path for limit in limits for path in limit.paths))


def budget_table(key: str) -> str:
    """The table of ``key``'s requests in a shared budget file: readable, and distinct for
    keys that differ only in characters a table name cannot hold."""
    digest = hashlib.blake2b(key.encode(), digest_size=4).hexdigest()
    return f"rates_{re.sub(r'[^A-Za-z0-9_]', '_', key)}_{digest}"


def build_limiter(
    limits: Iterable[RateLimit],
    *,
    budget: Budget = None,
    key: str = "",
    priority: Priority = "poll",
) -> Limiter | None:
    """A limiter for ``limits``, or None when there is nothing to limit.

    With ``budget`` (a file), the requests are counted there under ``key`` and shared with
    every process that builds its limiter on the same file and key; with a
    :class:`RedisBudget`, in Redis under the budget's key, at ``priority``; without, in memory.
    """
    rates = limiter_rates(limits)
    if not rates:
        return None
    bucket: AbstractBucket
    if isinstance(budget, RedisBudget):
        if priority == "bulk":
            rates = bulk_rates(rates, budget.bulk_share)
        bucket = RedisBucket.init(
            rates, redis_client(budget.url), f"syncbridge:rate:{budget.key}"
        )
    elif budget is None:
        bucket = InMemoryBucket(rates)
    else:
        # private like the state file beside it (SQLite gives its WAL the same mode)
        budget.touch(mode=0o600, exist_ok=True)
        bucket = SQLiteBucket.init_from_file(
            rates, table=budget_table(key), db_path=str(budget), use_file_lock=True
        )
    return Limiter(bucket, buffer_ms=_BUFFER_MS)


class RateLimitTransport(httpx.BaseTransport):
    """Waits, before each attempt, until the connection's limiter admits it.

    It never fails a request for being over the limit: it only delays it. It sits below the
    retry layer so a retry is paced like any other request.
    """

    def __init__(
        self,
        transport: httpx.BaseTransport,
        limiter: Limiter,
        key: str,
        paths: tuple[str, ...] = (),
        *,
        bulk: Limiter | None = None,
        priority: Callable[[], Priority] = lambda: "poll",
    ) -> None:
        self.inner = transport
        self.limiter = limiter
        #: the limiter of ``bulk`` runs (a smaller share of the same budget), if any
        self.bulk = bulk
        #: the priority of the run the connection serves now, asked at every request
        self.priority = priority
        #: the budget's name in the limiter (the connection's name)
        self.key = key
        #: the URL paths the limits count (empty: every request; see RateLimit.paths)
        self.paths = paths

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.paths and not request.url.path.startswith(self.paths):
            return self.inner.handle_request(request)  # outside the published limits
        limiter = self.limiter
        if self.bulk is not None and self.priority() == "bulk":
            limiter = self.bulk
        admitted = limiter.try_acquire(self.key, blocking=True)
        if admitted is not True:
            # only possible with a weight above a limit or an async bucket: neither is built here
            raise RuntimeError(f"the rate limiter refused a request: {admitted!r}")
        return self.inner.handle_request(request)

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self.limiter.close()
            if self.bulk is not None:
                self.bulk.close()
