"""Each injected fault, as an httpx client over real HTTP sees it."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from notes_api import Served


def test_latency_delays_every_request(serve: Callable[..., Served]) -> None:
    emulator, client = serve(records=1, latency_ms=200)
    started = time.perf_counter()
    assert client.get("/contacts/1").status_code == 200
    assert time.perf_counter() - started >= 0.200

    emulator.faults.latency_ms = 0
    started = time.perf_counter()
    client.get("/contacts/1")
    assert time.perf_counter() - started < 0.200


def test_error_rate_one_answers_500_with_the_systems_body(serve: Callable[..., Served]) -> None:
    emulator, client = serve(records=1, error_rate=1.0)
    response = client.get("/contacts/1")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error", "status": 500}
    emulator.faults.error_rate = 0
    assert client.get("/contacts/1").status_code == 200


def test_error_draws_are_reproducible_from_the_seed(serve: Callable[..., Served]) -> None:
    def statuses(seed: int) -> list[int]:
        _, client = serve(records=1, error_rate=0.5, seed=seed)
        return [client.get("/contacts/1").status_code for _ in range(24)]

    first = statuses(3)
    assert set(first) == {200, 500}
    assert statuses(3) == first
    assert statuses(4) != first


def test_burst_429_answers_the_next_n_requests_with_retry_after(
    serve: Callable[..., Served],
) -> None:
    emulator, client = serve(records=1, burst_429=2)
    responses = [client.get("/contacts/1") for _ in range(3)]
    assert [r.status_code for r in responses] == [429, 429, 200]
    assert responses[0].headers["retry-after"] == "1"
    assert responses[0].json()["status"] == 429

    emulator.faults.burst_429 = 2  # at runtime: the next two
    assert [client.get("/contacts/1").status_code for _ in range(3)] == [429, 429, 200]
    assert emulator.faults.burst_429 == 0
    assert emulator.requests.count(status=429) == 4


def test_drop_rate_closes_the_connection_without_a_response(
    serve: Callable[..., Served],
) -> None:
    emulator, client = serve(records=1, drop_rate=1.0)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.get("/contacts/1")
    assert emulator.requests.count(status=None) == 1

    emulator.faults.drop_rate = 0  # the client recovers on a fresh connection
    assert client.get("/contacts/1").status_code == 200


def test_a_drop_after_handling_loses_only_the_response(serve: Callable[..., Served]) -> None:
    emulator, client = serve(records=0, drop_rate=1.0)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post("/contacts", json={"data": {"name": "Lost Reply"}})
    assert [c["name"] for c in emulator.store.table("contacts").list()] == ["Lost Reply"]

    emulator.faults.drop_mode = "before"
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post("/contacts", json={"data": {"name": "Never Arrived"}})
    assert len(emulator.store.table("contacts")) == 1
