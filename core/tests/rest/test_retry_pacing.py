"""429s wait as long as the server asks, within a deadline (syncbridge.http.retry).

A burst of 429s longer than the retry budget used to fail a read although the server said
when to come back. The server here asks for 50 ms at a time, so the tests take no time.
"""

from __future__ import annotations

import time

import httpx
from changes_api import ChangesApi, Scripted

from syncbridge.http import Client
from syncbridge.http.retry import MethodRetryTransport, RetryPolicy, server_wait

BUSY = Scripted(429, b'{"error": {"message": "slow down"}}', headers={"Retry-After": "0.05"})
DONE = Scripted(200, b'{"data": []}')


def test_a_burst_of_429s_longer_than_the_retries_is_waited_out(
    api: ChangesApi, client: Client
) -> None:
    path = api.script("burst", *[BUSY] * 10, DONE)  # the client retries twice (max_retries=2)

    started = time.monotonic()
    response = client.get(path)

    assert response.status_code == 200
    assert len(api.handled) == 11
    assert time.monotonic() - started >= 10 * 0.05


def test_a_post_is_paced_the_same_way(api: ChangesApi, client: Client) -> None:
    path = api.script("burst", *[BUSY] * 4, DONE)

    assert client.post(path, json={}).status_code == 200
    assert [method for method, _name in api.handled] == ["POST"] * 5


def test_pacing_ends_at_the_deadline(served: tuple[ChangesApi, str], api: ChangesApi) -> None:
    """A wait that would end past the deadline is not waited: the 429 is returned."""
    path = api.script("closed", Scripted(429, b"{}", headers={"Retry-After": "30"}))
    policy = RetryPolicy(total=2, backoff_factor=0.001, pace_deadline=1.0)
    transport = MethodRetryTransport(httpx.HTTPTransport(), policy)
    with httpx.Client(base_url=served[1], transport=transport) as client:
        started = time.monotonic()
        response = client.get(path)

    assert response.status_code == 429
    assert time.monotonic() - started < 1.0
    assert len(api.handled) == 2  # the first try, and one more at once: nothing waited


def test_failures_without_a_wait_still_use_up_the_retries(api: ChangesApi, client: Client) -> None:
    path = api.script("down", Scripted(503, b"", ""), DONE)
    assert client.get(path).status_code == 200
    path = api.script("down-for-good", Scripted(503, b"", "", headers={"Retry-After": "0"}))
    assert client.get(path).status_code == 503
    assert len(api.handled) == 2 + 3  # two, then the first try and two retries


def test_what_counts_as_the_server_asking() -> None:
    def answer(status: int, retry_after: str | None) -> httpx.Response:
        return httpx.Response(status, headers={"Retry-After": retry_after} if retry_after else {})

    assert server_wait(answer(429, "2")) == 2.0
    assert server_wait(answer(429, "0.25")) == 0.25
    assert server_wait(answer(503, "1")) == 1.0
    assert server_wait(answer(429, None)) is None
    assert server_wait(answer(429, "0")) is None
    assert server_wait(answer(500, "5")) is None
    assert server_wait(answer(429, "soon")) is None
    assert server_wait(httpx.ConnectError("refused")) is None
