"""Redaction, secret discovery and the rate list: the pure functions under the request log."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, SecretBytes, SecretStr
from pyrate_limiter import InMemoryBucket

from syncbridge.describe import RateLimit
from syncbridge.http import redact_url
from syncbridge.http.ratelimit import limiter_rates
from syncbridge.http.requestlog import (
    LoggedRequest,
    RequestLog,
    header_secrets,
    redact_text,
    secrets_of,
)
from syncbridge.settings import HttpSettings


@pytest.mark.parametrize(
    ("url", "secrets", "expected"),
    [
        # a Bitrix24 webhook: the code is in the path
        (
            "https://acme.bitrix24.eu/rest/1/abc123xyz/crm.contact.list?start=50",
            ["abc123xyz"],
            "https://acme.bitrix24.eu/rest/1/***/crm.contact.list?start=50",
        ),
        # secret-looking parameter names, whatever their case, whatever the value
        (
            "/v1/items?API_KEY=k1&access_token=t1&client_secret=s&sig=x&page=2",
            [],
            "/v1/items?API_KEY=***&access_token=***&client_secret=***&sig=***&page=2",
        ),
        ("/cb?code=one-time&state=xyz", [], "/cb?code=***&state=xyz"),
        # a known secret under an innocent name, also percent-encoded
        ("/search?q=p%40ss%2Fword&n=1", ["p@ss/word"], "/search?q=***&n=1"),
        ("/search?q=p%40ss/word", ["p@ss/word"], "/search?q=***"),
        # userinfo
        ("https://user:pw@example.com/x", [], "https://***@example.com/x"),
        # secrets too short to search for are left alone
        ("/a/abc/b", ["abc"], "/a/abc/b"),
        # a secret containing a shorter one is masked whole
        ("/t/tok-1234-long", ["tok-1234", "tok-1234-long"], "/t/***"),
        ("/plain?page=1&flag", [], "/plain?page=1&flag"),
    ],
)
def test_redact_url(url: str, secrets: list[str], expected: str) -> None:
    assert redact_url(url, secrets) == expected


def test_redact_text_masks_secrets_and_urls_in_messages() -> None:
    message = (
        "Client error '401 Unauthorized' for url "
        "'https://bot:hunter22@api.example.com/v2/x?token=abc&page=1' (key sk-live-9999)"
    )

    redacted = redact_text(message, ["sk-live-9999"])

    assert redacted == (
        "Client error '401 Unauthorized' for url "
        "'https://***@api.example.com/v2/x?token=***&page=1' (key ***)"
    )


def test_secrets_are_found_anywhere_in_the_settings() -> None:
    class Account(BaseModel):
        login: str
        password: SecretStr

    class Settings(HttpSettings):
        api_key: SecretStr
        certificate: SecretBytes | None = None
        accounts: list[Account] = []
        extra: dict[str, SecretStr] = {}
        pin: SecretStr | None = None

    settings = Settings(
        base_url="https://api.example.com",
        api_key=SecretStr("key-0001"),
        certificate=SecretBytes(b"cert-0002"),
        accounts=[Account(login="visible", password=SecretStr("pw-0003"))],
        extra={"webhook": SecretStr("hook-0004")},
        pin=SecretStr("123"),  # too short to be worth searching for
    )

    assert secrets_of(settings) == {"key-0001", "cert-0002", "pw-0003", "hook-0004"}


def test_credential_headers_are_secrets_and_others_are_not() -> None:
    basic = base64.b64encode(b"apikey-0005:").decode()
    headers = {
        "Authorization": "Bearer tok-0006",
        "X-API-Key": "xkey-0007",
        "Cookie": "sid=sess-0008; theme=dark",
        "Proxy-Authorization": f"Basic {basic}",
        "Accept": "application/json",
        "User-Agent": "syncbridge/1.0",
    }

    found = header_secrets(headers)

    for secret in ("tok-0006", "xkey-0007", "sess-0008", "apikey-0005"):
        assert secret in found
    assert not {"application/json", "syncbridge/1.0", "Bearer"} & found


def test_request_log_keeps_the_last_entries() -> None:
    log = RequestLog(maxlen=3)
    for status in range(200, 205):
        log(LoggedRequest(datetime.now(UTC), "GET", "/x", status, 1.0))

    assert [entry.status for entry in log.entries()] == [202, 203, 204]
    assert len(log) == 3


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        # a longer window denser than the shorter one: tightened to the shorter one's density
        ([(5, 1), (100, 10)], [(5, 1000), (50, 10000)]),
        # a longer window at most as generous as a shorter one implies it
        ([(10, 1), (5, 2)], [(5, 2000)]),
        # two limits on one window: the smaller wins; generous-before-tight lists are kept
        ([(3, 1), (2, 1), (50, 60)], [(2, 1000), (50, 60000)]),
        ([(5, 1), (8, 1.5)], [(5, 1000), (7, 1500)]),
        ([], []),
    ],
)
def test_declared_limits_become_a_valid_rate_list_never_looser(
    declared: list[tuple[int, float]], expected: list[tuple[int, int]]
) -> None:
    rates = limiter_rates(RateLimit(requests=r, seconds=s) for r, s in declared)

    assert [(rate.limit, rate.interval) for rate in rates] == expected
    if rates:
        InMemoryBucket(rates)  # pyrate-limiter accepts it
