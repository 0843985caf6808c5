"""How an emulator is started: how much data, which seed, which faults.

The same options come from ``syncbridge emulate`` flags and from tests, so that a failure seen in
one place can be replayed in the other with the same numbers.

Faults, precisely (applied per request, in this order, by :mod:`syncbridge.emulator.faults`):

``latency_ms``
    every request waits this long before it is handled.
``burst_429``
    a countdown: while it is above zero, a request is answered ``429`` with ``Retry-After: 1``
    (the emulator's own error body) without reaching the API, and the countdown drops by one.
    At start-up this means "the first N requests"; setting ``emulator.faults.burst_429 = 2`` at
    runtime means "the next 2 requests".
``error_rate``
    the probability that a request is answered ``500`` without reaching the API.
``drop_rate``
    the probability that the connection is closed without any response, so that the client
    sees a protocol/read error rather than a status code. ``drop_mode`` says when:
    ``"after"`` (default) the API handles the request first and only its response is lost, the
    harsh real-world case (a create happened, the client does not know it) that idempotency
    keys and the outbox exist for; ``"before"`` the request never reaches the API.

The random draws come from a generator seeded with ``seed``, so a run is reproducible.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DropMode = Literal["after", "before"]


class FaultOptions(BaseModel):
    """The fault settings; the instance an emulator holds as ``.faults`` can be changed live."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    latency_ms: float = Field(default=0, ge=0, description="delay before every request, in ms")
    error_rate: float = Field(default=0, ge=0, le=1, description="probability of a 500")
    burst_429: int = Field(default=0, ge=0, description="the next N requests get 429")
    drop_rate: float = Field(
        default=0, ge=0, le=1, description="probability that the connection is dropped"
    )
    drop_mode: DropMode = Field(
        default="after", description="drop after the API handled the request, or before"
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
