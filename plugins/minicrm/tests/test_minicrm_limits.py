"""The 60 requests a minute: declared, enforced by the emulator, kept by the connector.

Minutes are too long for a test, so both sides run the same limit on a clock 20 times
faster: the emulator's R3 limiter counts 60 requests per minute of a clock running 20x, and
the connection declares the same limit over 3 real seconds. A sync of more than 60 R3
requests then paces itself to the limit and meets no 429.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest

import syncbridge_minicrm.connector
from syncbridge import RateLimit, UpsertItem
from syncbridge.models import Company

if TYPE_CHECKING:
    from conftest import Crm

FAST = 20


def test_the_published_limit_is_declared() -> None:
    info = syncbridge_minicrm.connector.describe()
    assert info.rate_limits == (RateLimit(requests=60, seconds=60, paths=("/Api/R3/",)),)


def test_a_sync_of_more_than_60_requests_meets_no_429(
    make_crm: Callable[..., Crm], monkeypatch: pytest.MonkeyPatch
) -> None:
    crm = make_crm(records=30, rate_limits=True, rate_clock=lambda: time.monotonic() * FAST)
    # the emulator does refuse a burst over the limit on its fast clock
    with crm.http() as http:
        burst = [http.get("/Api/R3/Category").status_code for _ in range(70)]
    assert 429 in burst
    time.sleep(60 / FAST + 0.2)  # the burst's window passes
    crm.emulator.requests.reset()

    monkeypatch.setattr(
        syncbridge_minicrm.connector, "RATE_LIMITS", (RateLimit(requests=60, seconds=60 / FAST),)
    )
    connection = crm.connect(rate_limit=True)
    started = time.monotonic()
    read = [r for page in connection.fetch("company") for r in page.records]
    items = []
    for index in range(10):
        company = Company(name=f"Ütem {index} Kft.", city="Debrecen", address=f"Piac utca {index}")
        context: dict[str, object] = {}
        native = connection.map_out("company", company, context)
        items.append(UpsertItem(key=f"rate-{index}", record=native, context=context))
    written = connection.upsert("company", items)
    elapsed = time.monotonic() - started

    r3 = crm.emulator.requests.count(path_prefix="/Api/R3/")
    assert len(read) == 30 and all(result.ok for result in written)
    assert r3 == 1 + 2 * 30 + 2 * 10 > 60
    assert crm.emulator.requests.count(status=429) == 0
    assert all(entry.status == 200 for entry in crm.log)
    assert elapsed >= (r3 - 60) / 60 * (60 / FAST)  # paced: the requests past 60 waited


def test_invoice_endpoints_are_outside_the_limit(make_crm: Callable[..., Crm]) -> None:
    crm = make_crm(records=2, rate_limits=True)
    auth = (str(crm.emulator.system_id), crm.emulator.api_key)
    with httpx.Client(base_url=crm.url, auth=auth) as http:
        assert {http.get("/Api/Invoice/1").status_code for _ in range(80)} == {200}
        assert {http.get("/Api/R3/Category").status_code for _ in range(60)} == {200}
        assert http.get("/Api/R3/Category").status_code == 429
