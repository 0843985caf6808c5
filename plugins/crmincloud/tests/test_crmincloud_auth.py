"""Authentication: JWT sessions with re-login, API keys, Web API keys, and no secret in logs."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from syncbridge.errors import AuthError
from syncbridge_crmincloud.emulator.sessions import API_KEY, PASSWORD, WEB_API_KEY

from .conftest import Crm

LOGIN = "/api/v1/Auth/Login"


def test_check_reports_the_user(crm: Crm) -> None:
    result = crm.connect().check()

    assert result.ok
    assert result.account == "Mario Rossi <mario.rossi@rossicostruzioni.it>"


def test_one_login_serves_many_requests(crm: Crm) -> None:
    conn = crm.connect(page_size=10)

    for _ in range(3):
        list(conn.fetch("company"))

    assert crm.emulator.sessions.logins == 1


def test_an_expiring_token_is_renewed_before_it_runs_out(
    make_crm: Callable[..., Crm],
) -> None:
    crm = make_crm(token_lifetime=1.0)
    conn = crm.connect()
    assert conn.check().ok

    time.sleep(1.0)
    assert conn.check().ok

    assert crm.emulator.sessions.logins == 2
    assert crm.emulator.requests.count(status=401) == 0  # renewed before the server refused


def test_a_refused_token_is_replaced_transparently(crm: Crm) -> None:
    conn = crm.connect(page_size=10)
    assert len(list(conn.fetch("company"))) == 3

    crm.emulator.sessions.expire_all()  # revoked, or the server's clock runs ahead of ours
    pages = list(conn.fetch("company"))

    assert sum(len(page.records) for page in pages) == 25
    assert crm.emulator.sessions.logins == 2
    assert crm.emulator.requests.count(status=401) == 1
    assert crm.emulator.requests.count("POST", LOGIN, 200) == 2


def test_a_wrong_password_fails_the_check_with_the_reason(crm: Crm) -> None:
    result = crm.connect(password="not-the-password").check()

    assert not result.ok
    assert "refused the login of 'mario.rossi@rossicostruzioni.it'" in result.reason
    assert "The user name or password is incorrect." in result.reason
    assert "not-the-password" not in result.reason


def test_a_wrong_password_stops_reads_with_an_auth_error(crm: Crm) -> None:
    conn = crm.connect(password="not-the-password")

    with pytest.raises(AuthError, match="incorrect"):
        list(conn.fetch("company"))
    assert crm.emulator.requests.count("POST", LOGIN) == 1  # a refused login is not retried


def test_api_key_signs_requests_without_login(crm: Crm) -> None:
    conn = crm.connect(username=None, password=None, api_key=API_KEY)

    assert conn.check().ok
    assert len(conn.lookup("company", ["none"])) == 0
    assert crm.emulator.sessions.logins == 0


def test_a_wrong_api_key_fails_the_check(crm: Crm) -> None:
    result = crm.connect(username=None, password=None, api_key="ak_wrong_key_0000").check()

    assert not result.ok
    assert result.reason == (
        "CRM in Cloud refused the credentials of connection 'crm' (HTTP 401 Unauthorized: "
        "Authorization has been denied for this request.); check username, password and "
        "web_api_key (or api_key) in connections.crm.settings"
    )


def test_web_api_key_is_sent_with_login_and_requests(make_crm: Callable[..., Crm]) -> None:
    crm = make_crm(require_web_api_key=True)

    assert crm.connect(web_api_key=WEB_API_KEY).check().ok
    refused = crm.connect().check()
    assert not refused.ok and "The WebApiKey is missing." in refused.reason


def test_the_request_log_holds_no_secret(crm: Crm) -> None:
    conn = crm.connect(page_size=10, web_api_key=WEB_API_KEY)
    list(conn.fetch("company"))
    crm.emulator.sessions.expire_all()
    list(conn.fetch("contact"))
    crm.connect(username=None, password=None, api_key=API_KEY).check()
    crm.connect(password="wrong-password").check()

    text = repr(crm.log)
    assert crm.log and "Auth/Login" in text
    secrets = [PASSWORD, API_KEY, WEB_API_KEY, "wrong-password", *crm.emulator.sessions.tokens]
    for secret in secrets:
        assert secret not in text
    for token in crm.emulator.sessions.tokens:
        assert token.split(".")[2] not in text


def test_settings_want_exactly_one_kind_of_credentials(crm: Crm) -> None:
    from syncbridge.errors import ConfigError

    with pytest.raises(ConfigError, match="credentials are missing"):
        crm.connect(password=None)
    with pytest.raises(ConfigError, match="either api_key or username"):
        crm.connect(api_key=API_KEY)
    with pytest.raises(ConfigError, match="must name a CRM in Cloud custom field"):
        crm.connect(key_field="SYNC_KEY")
