"""The portal's limits: enforced by the emulator, respected and recovered from by the connector.

Kept small: the real drain rate is 2 requests a second, so each test makes only a handful of
requests, and the bucket is shrunk where a test needs to overflow it quickly.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest

from syncbridge.errors import ConnectorError
from syncbridge.records import UpsertItem

if TYPE_CHECKING:
    from conftest import Portal


def _contacts(count: int) -> list[UpsertItem]:
    return [UpsertItem(key=f"k{i}", record={"NAME": f"Jonas {i}"}) for i in range(count)]


def test_the_emulator_enforces_the_leaky_bucket(portal: Callable[..., Portal]) -> None:
    handle = portal(rate_limits=True)
    handle.emulator.bucket.capacity = 5
    url = handle.emulator.settings_for(handle.url)["webhook_url"] + "crm.contact.list"
    with httpx.Client() as client:
        answers = [client.get(url) for _ in range(8)]
    refused = [answer for answer in answers if answer.status_code == 503]
    assert [answer.status_code for answer in answers[:5]] == [200] * 5 and refused
    assert refused[0].json() == {
        "error": "QUERY_LIMIT_EXCEEDED",
        "error_description": "Too many requests",
    }
    assert "retry-after" not in refused[0].headers  # as the portal: nothing to honour
    time.sleep(0.6)  # drains 2 a second: room for one more
    with httpx.Client() as client:
        assert client.get(url).status_code == 200

    handle.emulator.bucket.enabled = False  # switchable off, as EmulatorOptions(rate_limits=False)
    with httpx.Client() as client:
        assert all(client.get(url).status_code == 200 for _ in range(10))


def test_a_burst_of_writes_stays_under_the_limit(portal: Callable[..., Portal]) -> None:
    """120 writes and a paged read with both limiters on: no request is ever refused.

    The bucket is shrunk to 3 so that requests sent back to back would overflow it at once;
    the connector's 2-per-second pacing keeps it below that.
    """
    handle = portal(records=100, rate_limits=True)
    handle.emulator.bucket.capacity = 3
    connection = handle.connect(rate_limit=True)
    started = time.monotonic()
    results = connection.upsert("contact", _contacts(120))
    pages = list(connection.fetch("contact"))
    elapsed = time.monotonic() - started

    assert all(result.ok for result in results)
    assert sum(len(page.records) for page in pages) == 220
    assert handle.emulator.requests.count(status=503) == 0
    assert handle.emulator.bucket.refused == 0
    assert all(entry.status == 200 for entry in handle.log)
    assert len(handle.log) == 8 and elapsed >= 3.0  # 3 batches + 5 pages, paced at 2/s


def test_a_refused_batch_post_is_resent(portal: Callable[..., Portal]) -> None:
    """Without client-side pacing the bucket overflows; the 503 POST is sent again, safely.

    The bucket drains by request, not by wall time: its clock moves a quarter of a second each
    time a request reaches it, and at 2 a second that drains half a request. With room for
    one, every other request is refused, however fast or slow the machine sends them (on the
    wall clock a busy machine could space the POSTs so far apart that none overflowed).
    """
    handle = portal(rate_limits=True)
    handle.emulator.bucket.capacity = 1
    ticks = itertools.count()
    handle.emulator.bucket.clock = lambda: next(ticks) * 0.25
    connection = handle.connect(rate_limit=False)
    results = connection.upsert("contact", _contacts(150))
    assert all(result.ok for result in results)
    posts = [entry.status for entry in handle.log if entry.method == "POST"]
    # three batches of 50: the second and the third are each refused once, then resent
    assert posts == [200, 503, 200, 503, 200]
    assert handle.emulator.requests.count("POST", status=503) == 2
    assert len(handle.call("crm.contact.list", start=-1)) == 50
    assert len({r["ID"] for page in connection.fetch("contact") for r in page.records}) == 150
    assert handle.emulator.bucket.refused >= 2


def test_the_operating_budget_answers_429_and_the_connector_says_when_it_resets(
    portal: Callable[..., Portal],
) -> None:
    handle = portal(records=3, rate_limits=True)
    handle.emulator.method_cost["crm.company.list"] = 500.0  # one call uses the whole budget
    connection = handle.connect(max_retries=1)
    assert len([r for page in connection.fetch("company") for r in page.records]) == 3
    with pytest.raises(
        ConnectorError, match=r"OPERATION_TIME_LIMIT: .*; the method's time budget is used up"
    ):
        list(connection.fetch("company"))
    assert handle.emulator.requests.count("GET", status=429) == 2  # retried once, then reported
    assert [r["ID"] for page in connection.fetch("contact") for r in page.records]  # per method


def test_a_429_on_a_batch_is_retried(portal: Callable[..., Portal]) -> None:
    handle = portal()
    handle.emulator.faults.burst_429 = 1
    connection = handle.connect()
    assert all(result.ok for result in connection.upsert("contact", _contacts(3)))
    assert handle.emulator.requests.count("POST", status=429) == 1
    assert len(handle.call("crm.contact.list")) == 3
