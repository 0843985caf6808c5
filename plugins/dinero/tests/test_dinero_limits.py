"""The rate limit: 100 requests a minute per organisation, declared, honoured by the client
with no 429 at all, and a 429 the server answers anyway waited out."""

from __future__ import annotations

import time

from dinero_testkit import Serve

import syncbridge_dinero.connector as dinero_connector
from syncbridge.describe import RateLimit


def test_the_published_limit_is_declared() -> None:
    assert dinero_connector.describe().rate_limits == (RateLimit(requests=100, seconds=60),)


def test_the_client_stays_within_the_organisations_budget(serve: Serve) -> None:
    limit = RateLimit(requests=5, seconds=2)
    served = serve(records=12, rate_limits=True, limit=limit)
    connection = served.connect(page_size=2, requests_per_minute=5, rate_window_seconds=2)
    assert connection.info.rate_limits == (limit,)
    started = time.monotonic()
    records = [r for page in connection.fetch("product") for r in page.records]
    elapsed = time.monotonic() - started
    assert len(records) == 12
    listing = [e for e in served.recorder.exchanges if e.path.endswith("/products")]
    assert len(listing) == 6
    assert served.statuses(429) == []  # paced, never refused
    assert elapsed >= 2.0  # six requests at five per two seconds had to wait


def test_a_429_is_waited_out_and_the_read_completes(serve: Serve) -> None:
    served = serve(records=6, rate_limits=True, limit=RateLimit(requests=2, seconds=1))
    connection = served.connect(page_size=2, rate_limit=False)  # let the server refuse
    records = [r for page in connection.fetch("product") for r in page.records]
    assert len(records) == 6
    refused = served.statuses(429)
    assert refused and all(dict(e.response_headers)["retry-after"] == "1" for e in refused)
