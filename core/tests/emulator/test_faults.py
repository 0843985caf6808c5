"""Each injected fault, as an httpx client over real HTTP sees it."""

from __future__ import annotations

import contextlib
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


def test_the_429_burst_says_its_retry_after_and_can_start_later(
    serve: Callable[..., Served],
) -> None:
    emulator, client = serve(records=1, burst_429=2, burst_429_after=3, retry_after=0.5)
    responses = [client.get("/contacts/1") for _ in range(6)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429, 200]
    assert responses[3].headers["retry-after"] == "0.5"
    assert emulator.injected.count("429") == 2


def test_a_truncated_answer_keeps_status_and_headers_and_the_write_happened(
    serve: Callable[..., Served],
) -> None:
    emulator, client = serve(records=0, corrupt_rate=1.0, corrupt_kinds=("truncated",))
    response = client.post("/contacts", json={"data": {"name": "Half Told"}})
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(ValueError):
        response.json()
    assert response.text.startswith('{"data":')
    assert [c["name"] for c in emulator.store.table("contacts").list()] == ["Half Told"]
    assert emulator.injected.by_kind() == {"truncated": 1}


@pytest.mark.parametrize(("kind", "status"), [("html_502", 502), ("html_200", 200)])
def test_an_html_page_replaces_the_answer_of_a_handled_request(
    serve: Callable[..., Served], kind: str, status: int
) -> None:
    emulator, client = serve(records=0, corrupt_rate=1.0, corrupt_kinds=(kind,))
    response = client.post("/contacts", json={"data": {"name": "Behind A Proxy"}})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")
    assert len(emulator.store.table("contacts")) == 1
    assert emulator.requests.count("POST", "/contacts", status) == 1


def test_draws_depend_on_the_request_not_on_the_order_requests_arrive(
    serve: Callable[..., Served],
) -> None:
    """Concurrent clients interleave differently on every run; each request's fate must not."""

    def fates(ids: list[int]) -> dict[tuple[int, int], int]:
        _, client = serve(records=30, error_rate=0.3, corrupt_rate=0.3, seed=7)
        seen: dict[tuple[int, int], int] = {}
        for attempt in range(3):  # the same request again draws afresh
            for contact in ids:
                seen[contact, attempt] = client.get(f"/contacts/{contact}").status_code
        return seen

    forwards = fates(list(range(1, 31)))
    backwards = fates(list(range(30, 0, -1)))
    assert forwards == backwards
    assert {200, 500} <= set(forwards.values())
    assert any(forwards[c, 0] != forwards[c, 1] for c in range(1, 31))


def test_the_injected_faults_are_counted_by_kind(serve: Callable[..., Served]) -> None:
    emulator, client = serve(records=5, error_rate=0.2, drop_rate=0.2, corrupt_rate=0.2, seed=2)
    for contact in range(1, 6):
        for _ in range(8):
            with contextlib.suppress(httpx.TransportError):
                client.get(f"/contacts/{contact}")
    kinds = emulator.injected.by_kind()
    assert set(kinds) >= {"500", "drop"} and set(kinds) & {"truncated", "html_502", "html_200"}
    assert sum(kinds.values()) == len(emulator.injected)
    unanswered = sum(n for hit, n in emulator.requests.hits.items() if hit.status is None)
    assert emulator.injected.count("drop") == unanswered
    assert emulator.injected.summary().count(" x ") == len(kinds)
