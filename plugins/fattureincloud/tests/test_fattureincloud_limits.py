"""Rate limits: the declared limits, the RateLimit-* headers, 429 with Retry-After retried,
and the hourly quota's 403 stopping the entity with a clear reason."""

from __future__ import annotations

import re
from typing import Any

import pytest

import syncbridge_fattureincloud.connector as fic_connector
from syncbridge.describe import RateLimit
from syncbridge.errors import ConnectorError
from syncbridge.records import UpsertItem


def test_the_published_limits_are_declared() -> None:
    info = fic_connector.describe()
    assert info.rate_limits == (
        RateLimit(requests=300, seconds=300),
        RateLimit(requests=1000, seconds=3600),
    )


def test_every_answer_carries_the_ratelimit_headers(fic: Any) -> None:
    with fic.client() as http:
        first = http.get("/c/1051/products", params={"per_page": 1})
        second = http.get("/user/info")
    assert first.headers["RateLimit-HourlyLimit"] == "1000"
    assert first.headers["RateLimit-HourlyRemaining"] == "999"
    assert first.headers["RateLimit-MonthlyLimit"] == "40000"
    assert first.headers["RateLimit-MonthlyRemaining"] == "39999"
    assert second.headers["RateLimit-HourlyRemaining"] == "999"  # user calls count apart


def test_429_bursts_are_retried_after_retry_after(fic: Any) -> None:
    fic.emulator.faults.burst_429 = 2
    connection = fic.connect()
    records = [r for p in connection.fetch("company") for r in p.records]
    assert len(records) == 25
    assert [entry.status for entry in fic.log[:3]] == [429, 429, 200]


def test_the_short_term_limit_answers_429_and_the_client_waits(serve: Any) -> None:
    fic = serve(rate_limits=True, short_term=RateLimit(requests=3, seconds=1))
    connection = fic.connect(page_size=5, rate_limit=False)  # let the server do the limiting
    records = [r for p in connection.fetch("company") for r in p.records]
    assert len(records) == 25
    refused = fic.emulator.requests.count("GET", status=429)
    assert refused >= 1
    assert sum(1 for entry in fic.log if entry.status == 429) == refused
    retry_after = [
        dict(e.response_headers).get("retry-after")
        for e in fic.recorder.exchanges
        if e.status == 429
    ]
    assert retry_after and all(value == "1" for value in retry_after)


def test_the_hourly_quota_answers_403_and_stops_the_entity(serve: Any) -> None:
    fic = serve(rate_limits=True, hourly_limit=3)
    connection = fic.connect(page_size=5)
    with pytest.raises(ConnectorError) as error:
        list(connection.fetch("company"))
    assert re.fullmatch(
        r"Fatture in Cloud answered GET /c/1051/entities/clients with HTTP 403 Forbidden: "
        r"Limite di richieste orario o mensile superato; the hourly or monthly request quota "
        r"of this company and app is used up; it resets in \d+ s",
        str(error.value),
    )
    quota = [e for e in fic.recorder.exchanges if e.status == 403]
    assert len(quota) == 1
    headers = dict(quota[0].response_headers)
    assert headers["ratelimit-hourlyremaining"] == "0" and int(headers["retry-after"]) > 0
    check = connection.check()  # user endpoints count against the user, not the company
    assert check.ok


def test_the_hourly_quota_stops_the_entitys_writes_too(serve: Any) -> None:
    fic = serve(rate_limits=True, hourly_limit=2)
    connection = fic.connect()
    items = [UpsertItem(key=f"k{n}", record={"name": f"Ditta {n}"}) for n in range(4)]
    with pytest.raises(ConnectorError, match=r"quota of this company and app is used up"):
        connection.upsert("company", items)
    assert fic.emulator.requests.count("POST", status=403) == 1  # not one per record


def test_limits_can_be_switched_off(serve: Any) -> None:
    fic = serve(rate_limits=False, hourly_limit=2, short_term=RateLimit(requests=1, seconds=60))
    connection = fic.connect(page_size=5)
    assert len([r for p in connection.fetch("company") for r in p.records]) == 25
    assert fic.emulator.requests.count(status=429) == fic.emulator.requests.count(status=403) == 0
