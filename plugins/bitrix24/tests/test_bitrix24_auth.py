"""Credentials: the webhook code never leaks; OAuth tokens are refreshed and persisted."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

import syncbridge_bitrix24.connector
from syncbridge.connection import Connection
from syncbridge.credentials import MemoryCredentials
from syncbridge.emulator.server import free_port
from syncbridge.errors import AuthError, ConfigError, ConnectorError
from syncbridge.records import UpsertItem

if TYPE_CHECKING:
    from conftest import Portal


def _logged(handle: Portal) -> str:
    return "\n".join(f"{entry.url} {entry.error or ''}" for entry in handle.log)


def test_the_webhook_code_never_shows(portal: Callable[..., Portal]) -> None:
    handle = portal(records=3)
    code = handle.code
    connection = handle.connect()
    assert connection.check().ok
    list(connection.fetch("contact"))
    results = connection.upsert("company", [UpsertItem(key="k", record={"COMMENTS": "no title"})])
    assert not results[0].ok and code not in str(results[0].error)
    assert code not in repr(connection.settings) + str(connection.settings)

    # a wrong code: the run stops with the fix, naming neither code
    wrong = "x" + code[1:]
    refused = handle.connect(webhook_url=f"{handle.url}/rest/1/{wrong}/")
    with pytest.raises(AuthError) as caught:
        list(refused.fetch("contact"))
    message = str(caught.value)
    assert "NO_AUTH_FOUND" in message and "webhook" in message
    assert code not in message and wrong not in message
    check = refused.check()
    assert not check.ok and wrong not in check.reason + check.account

    # no server at all: the transport error names the portal, not the URL
    gone = handle.connect(
        webhook_url=f"http://127.0.0.1:{free_port()}/rest/1/{code}/", max_retries=0
    )
    with pytest.raises(ConnectorError) as unreachable:
        list(gone.fetch("contact"))
    assert code not in str(unreachable.value) and "cannot connect to" in str(unreachable.value)

    assert handle.log and all(entry.url.startswith("***") for entry in handle.log)
    assert code not in _logged(handle) and wrong not in _logged(handle)


def test_settings_errors_never_echo_the_webhook(portal: Callable[..., Portal]) -> None:
    secret = "s3cr3tc0de1234"
    for url in (
        f"https://b24.example.de/rest/1/{secret}",  # fine: the trailing slash is added
        f"http://b24.example.de/rest/1/{secret}/",  # plain http to a real host
        f"https://b24.example.de/rest/{secret}/",  # no user id
    ):
        try:
            Connection("b24", syncbridge_bitrix24.connector, {"webhook_url": url})
        except ConfigError as error:
            assert secret not in str(error)
            assert "connections.b24.settings" in str(error)
    connection = Connection(
        "b24",
        syncbridge_bitrix24.connector,
        {"webhook_url": f"https://B24.example.de:443/rest/1/{secret}"},
    )
    assert connection.settings.base_url == "https://b24.example.de"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="either webhook_url or the OAuth settings"):
        Connection(
            "b24",
            syncbridge_bitrix24.connector,
            {"webhook_url": f"https://b24.example.de/rest/1/{secret}/", "client_id": "app"},
        )
    with pytest.raises(ConfigError, match="missing: client_secret, refresh_token"):
        Connection(
            "b24",
            syncbridge_bitrix24.connector,
            {"base_url": "https://b24.example.de", "client_id": "a"},
        )


def test_oauth_refresh_persists_the_rotated_refresh_token(portal: Callable[..., Portal]) -> None:
    handle = portal(records=3)
    emulator = handle.emulator
    credentials = MemoryCredentials()
    connection = handle.connect(oauth=True, credentials=credentials)
    settings = connection.settings
    first_access = settings.access_token.get_secret_value()  # type: ignore[attr-defined]
    first_refresh = settings.refresh_token.get_secret_value()  # type: ignore[attr-defined]
    emulator.access_tokens[first_access] = 0  # the portal now says: expired_token

    assert len([r for page in connection.fetch("contact") for r in page.records]) == 3

    stored = credentials.load()
    assert emulator.refreshes == 1
    assert stored["refresh_token"] != first_refresh
    assert stored["refresh_token"] in emulator.refresh_tokens  # the newest is the live one
    assert first_refresh not in emulator.refresh_tokens  # rotated away
    assert stored["access_token"] != first_access and stored["expires_at"] > 0
    statuses = [(entry.method, entry.status) for entry in handle.log]
    assert statuses[:3] == [("GET", 401), ("GET", 200), ("GET", 200)]
    logged = _logged(handle)
    client_secret = settings.client_secret.get_secret_value()  # type: ignore[attr-defined]
    for secret in (
        first_access,
        first_refresh,
        stored["access_token"],
        stored["refresh_token"],
        client_secret,
    ):
        assert secret not in logged
    assert "/oauth/token/" in logged and "auth=***" in logged

    # another connection on the same store and settings uses the stored pair: no refresh
    reuse = Connection("b24", syncbridge_bitrix24.connector, settings, credentials=credentials)
    assert [r["ID"] for page in reuse.fetch("company") for r in page.records]
    reuse.close()
    assert emulator.refreshes == 1

    # the app was reinstalled and the settings carry its new tokens: those win over the store
    fresh = emulator.issue_tokens()
    reinstalled = settings.model_copy(
        update={
            "refresh_token": SecretStr(fresh["refresh_token"]),
            "access_token": SecretStr(fresh["access_token"]),
        }
    )
    emulator.access_tokens[stored["access_token"]] = 0  # the old pair would need a refresh
    newer = Connection("b24", syncbridge_bitrix24.connector, reinstalled, credentials=credentials)
    assert newer.check().ok
    newer.close()
    assert emulator.refreshes == 1


def test_oauth_without_access_token_refreshes_first_and_a_dead_grant_says_how_to_fix(
    portal: Callable[..., Portal],
) -> None:
    handle = portal(records=1)
    settings = handle.emulator.oauth_settings_for(handle.url, with_access_token=False)
    connection = Connection("b24", syncbridge_bitrix24.connector, {**settings, "rate_limit": False})
    assert connection.check().ok
    assert handle.emulator.refreshes == 1
    connection.close()

    handle.emulator.refresh_tokens.clear()  # revoked on the portal (app uninstalled)
    dead = Connection("b24", syncbridge_bitrix24.connector, {**settings, "rate_limit": False})
    with pytest.raises(AuthError, match=r"invalid_grant.*reinstall the app"):
        list(dead.fetch("contact"))
    dead.close()
