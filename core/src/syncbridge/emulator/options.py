"""How an emulator is started: how much data, which seed, which faults.

The same options come from ``syncbridge emulate`` flags and from tests, so that a failure seen in
one place can be replayed in the other with the same numbers.

Faults, precisely (applied per request, in this order, by :mod:`syncbridge.emulator.faults`):

``latency_ms``
    every request waits this long before it is handled.
``burst_429``
    a countdown: while it is above zero, a request is answered ``429`` with ``Retry-After``
    (``retry_after`` seconds, default 1; the emulator's own error body) without reaching the
    API, and the countdown drops by one. At start-up this means "the first N requests";
    setting ``emulator.faults.burst_429 = 2`` at runtime means "the next 2 requests".
    ``burst_429_after`` delays the burst: that many requests pass first (another countdown),
    so a burst can hit the middle of a run rather than its first request.
``error_rate``
    the probability that a request is answered ``500`` without reaching the API.
``drop_rate``
    the probability that the connection is closed without any response, so that the client
    sees a protocol/read error rather than a status code. ``drop_mode`` says when:
    ``"after"`` (default) the API handles the request first and only its response is lost, the
    harsh real-world case (a create happened, the client does not know it) that idempotency
    keys and the outbox exist for; ``"before"`` the request never reaches the API.
``corrupt_rate``
    the probability that the API handles the request and its answer is then replaced by a
    corrupted one, of a kind drawn from ``corrupt_kinds``: ``"truncated"`` (the real status
    and headers, the body cut in half: JSON that does not parse), ``"html_502"`` (a proxy's
    ``502 Bad Gateway`` HTML page), ``"html_200"`` (an HTML page with status 200, as a
    maintenance page or a captive portal sends). Like a drop after handling, a write met by
    one happened, and the client cannot tell.

Each request meets at most one of the random faults, tried in the order above. The draws are
reproducible from ``seed``: they are not taken from one shared stream (whose order would
depend on how concurrent requests interleave) but derived from the seed, the request itself
(method, path, query, body) and how many times that same request was received before. The
same requests get the same faults however a connector's threads interleave them, and a
request sent again (a retry, the next run) draws afresh.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DropMode = Literal["after", "before"]
CorruptKind = Literal["truncated", "html_502", "html_200"]
#: every kind of corrupted answer, the default of ``corrupt_kinds``
CORRUPT_KINDS: tuple[CorruptKind, ...] = ("truncated", "html_502", "html_200")


class FaultOptions(BaseModel):
    """The fault settings; the instance an emulator holds as ``.faults`` can be changed live."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    latency_ms: float = Field(default=0, ge=0, description="delay before every request, in ms")
    error_rate: float = Field(default=0, ge=0, le=1, description="probability of a 500")
    burst_429: int = Field(default=0, ge=0, description="the next N requests get 429")
    burst_429_after: int = Field(
        default=0, ge=0, description="requests let through before the 429 burst starts"
    )
    retry_after: float = Field(
        default=1, ge=0, description="the Retry-After of the burst's 429s, in seconds"
    )
    drop_rate: float = Field(
        default=0, ge=0, le=1, description="probability that the connection is dropped"
    )
    drop_mode: DropMode = Field(
        default="after", description="drop after the API handled the request, or before"
    )
    corrupt_rate: float = Field(
        default=0,
        ge=0,
        le=1,
        description="probability that a handled request's answer is replaced by a corrupt one",
    )
    corrupt_kinds: tuple[CorruptKind, ...] = Field(
        default=CORRUPT_KINDS,
        min_length=1,
        description="the corrupted answers drawn from: truncated, html_502, html_200",
    )


class EmulatorOptions(FaultOptions):
    """Everything an emulator factory receives: data size, seed, faults, rate limits.

    Frozen: it records how the emulator was started. Change faults at runtime through
    ``emulator.faults`` instead, a live copy of the fault fields.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    records: int = Field(default=20, ge=0, description="records seeded per main resource")
    seed: int = Field(default=1, description="seed of the data and of the fault draws")
    rate_limits: bool = Field(
        default=True, description="apply the system's real rate limits (False for fast tests)"
    )

    def fault_options(self) -> FaultOptions:
        """A fresh, mutable copy of the fault fields."""
        return FaultOptions.model_validate(self.model_dump(include=set(FaultOptions.model_fields)))
