"""Rate limits: declared as Intuit publishes them, enforced by the emulator, kept by the client."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

import syncbridge_quickbooks.connector
from syncbridge.connection import Connection
from syncbridge.credentials import MemoryCredentials
from syncbridge.describe import ConnectorInfo, RateLimit
from syncbridge.hookspecs import hookimpl

if TYPE_CHECKING:
    from conftest import Served

#: a limit small enough to test in a second or two
LOW = RateLimit(requests=10, seconds=1)


class LowerLimit:
    """An extension plugin (as a config's ``extensions`` would load) lowering the limit."""

    @hookimpl(wrapper=True)
    def describe(self) -> Generator[None, ConnectorInfo, ConnectorInfo]:
        info = yield
        return info.model_copy(update={"rate_limits": (LOW,)})


def test_the_published_limits_are_declared() -> None:
    info = syncbridge_quickbooks.connector.describe()
    assert info.rate_limits == (RateLimit(requests=500, seconds=60),)
    assert info.max_concurrency == 10
    assert info.entity("invoice").batch_size == 30
    assert info.unsupported["unit"] == "QuickBooks Online has no units of measure"


def test_the_client_paces_itself_under_the_limit_and_never_sees_a_429(
    serve: Callable[..., Served],
) -> None:
    served = serve(records=2, rate_limits=True, rate_limit=LOW)
    conn = Connection(
        "qbo",
        syncbridge_quickbooks.connector,
        served.settings(),
        extensions=[LowerLimit()],
        credentials=MemoryCredentials(served.emulator.issue_tokens()),
    )
    served.connections.append(conn)
    assert conn.info.rate_limits == (LOW,)
    started = time.monotonic()
    for _ in range(25):
        assert len([r for p in conn.fetch("payment_method") for r in p.records]) == 6
    elapsed = time.monotonic() - started
    assert served.emulator.requests.count(status=429) == 0
    assert served.emulator.requests.count("GET") == 25
    assert elapsed >= 1.5  # 25 requests at 10 a second: the limiter waited


def test_without_the_client_limiter_the_emulator_refuses_and_the_retry_honours_it(
    serve: Callable[..., Served],
) -> None:
    served = serve(records=2, rate_limits=True, rate_limit=LOW)
    conn = served.connect()  # declares 500/min: far looser than this emulator's 10/s
    for _ in range(14):
        list(conn.fetch("payment_method"))
    refused = served.emulator.requests.count(status=429)
    assert refused >= 1  # ThrottleExceeded...
    assert served.emulator.requests.count("GET", status=200) == 14  # ...then Retry-After
