"""Intuit OAuth2: the consent flow, refresh-token rotation, revocation, secrets kept out of logs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

import syncbridge_quickbooks.connector
from syncbridge.connection import Connection
from syncbridge.credentials import MemoryCredentials
from syncbridge.errors import AuthError
from syncbridge.oauth import OAuthApp, revoke
from syncbridge.testing.oauth import consent
from syncbridge_quickbooks.emulator import CLIENT_SECRET
from syncbridge_quickbooks.settings import QuickBooksSettings

if TYPE_CHECKING:
    from conftest import Served


def app_of(conn: Connection) -> OAuthApp:
    app = conn.pm.hook.oauth(settings=conn.settings)
    assert isinstance(app, OAuthApp)
    return app


def test_the_oauth_app_defaults_to_intuit_and_follows_the_settings() -> None:
    settings = QuickBooksSettings(client_id="AB123", client_secret="s3cret-value")
    app = syncbridge_quickbooks.connector.oauth(settings)
    assert app.authorize_url == "https://appcenter.intuit.com/connect/oauth2"
    assert app.token_url == "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
    assert app.revoke_url == "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
    assert app.scopes == ("com.intuit.quickbooks.accounting",) and app.keep == ("realmId",)
    assert "s3cret-value" not in repr(settings) and "s3cret-value" not in repr(app)
    moved = QuickBooksSettings(
        client_id="AB123",
        client_secret="x" * 8,
        oauth_base_url="http://127.0.0.1:9/",
        token_url="http://127.0.0.1:9/custom-token",
    )
    app = syncbridge_quickbooks.connector.oauth(moved)
    assert app.authorize_url == "http://127.0.0.1:9/connect/oauth2"
    assert app.token_url == "http://127.0.0.1:9/custom-token"


def test_authorise_refresh_with_rotation_then_revoke(served: Served) -> None:
    emulator = served.emulator
    credentials = MemoryCredentials()
    conn = served.connect(credentials=credentials)
    app = app_of(conn)

    kept = consent(app, credentials)

    assert kept["realmId"] == emulator.realm  # the company comes with the redirect
    stored = credentials.load()
    assert stored["realmId"] == emulator.realm
    result = conn.check()
    assert result.ok, result.reason
    assert result.account == f"Keystone Supply Co. (realmId {emulator.realm})"

    # the access token runs out: the next request refreshes, the refresh token rotates
    credentials.save({**stored, "expires_at": time.time() - 5})
    assert len([r for p in conn.fetch("product") for r in p.records]) == 12
    fresh = credentials.load()
    assert emulator.provider.issued["refresh_token"] == 1
    assert fresh["refresh_token"] != stored["refresh_token"]
    assert stored["refresh_token"] not in emulator.provider.refresh_tokens  # rotated away
    assert fresh["refresh_token"] in emulator.provider.refresh_tokens  # the newest is kept
    assert fresh["realmId"] == emulator.realm

    message = revoke(app, credentials)  # `syncbridge auth qbo --revoke`
    assert message == "revoked at the system (HTTP 200); stored credentials deleted"
    assert not emulator.provider.valid_access_token(fresh["access_token"])
    with pytest.raises(AuthError, match=r"run `syncbridge auth qbo` to re-authorise"):
        list(conn.fetch("product"))
    with pytest.raises(AuthError, match=r"run `syncbridge auth qbo` to re-authorise"):
        list(served.connect(credentials=credentials).fetch("product"))


def test_a_refresh_token_the_server_dropped_asks_to_re_authorise(
    served: Served, qbo: Connection
) -> None:
    served.emulator.provider.access_tokens.clear()
    served.emulator.provider.refresh_tokens.clear()
    with pytest.raises(AuthError) as error:
        list(qbo.fetch("company"))
    assert str(error.value) == (
        "qbo: the refresh token was rejected (invalid_grant: the refresh token is invalid or "
        "revoked); run `syncbridge auth qbo` to re-authorise"
    )
    check = qbo.check()
    assert not check.ok and "re-authorise" in check.reason


def test_tokens_and_the_client_secret_never_reach_the_request_log(served: Served) -> None:
    credentials = MemoryCredentials()
    conn = served.connect(credentials=credentials)
    consent(app_of(conn), credentials)
    first = credentials.load()
    credentials.save({**first, "expires_at": time.time() - 5})  # force a refresh too
    list(conn.fetch("invoice"))
    conn.check()
    secrets = {CLIENT_SECRET, first["access_token"], first["refresh_token"]}
    latest = credentials.load()
    secrets |= {latest["access_token"], latest["refresh_token"]}
    assert len(served.log) >= 3
    for entry in served.log:
        text = f"{entry.url} {entry.error or ''}"
        assert not any(secret in text for secret in secrets), entry


def test_a_refresh_token_in_the_settings_starts_a_connection_without_a_browser(
    served: Served,
) -> None:
    credentials = MemoryCredentials()
    conn = served.connect(credentials=credentials)  # settings_for() carries both tokens
    assert conn.check().ok
    settings = served.settings()
    assert credentials.load()["access_token"] == settings["access_token"]
    assert served.emulator.provider.issued["refresh_token"] == 0  # the access token served

    alone = MemoryCredentials()  # a refresh token alone: exchanged on the first request
    conn = served.connect(credentials=alone, access_token=None)
    assert conn.check().ok
    stored = alone.load()
    assert stored["realmId"] == served.emulator.realm
    assert stored["refresh_token"] != settings["refresh_token"]  # rotated, and kept
    assert served.emulator.provider.issued["refresh_token"] == 1
    assert len([r for p in conn.fetch("payment_method") for r in p.records]) == 6
    assert served.emulator.provider.issued["refresh_token"] == 1  # the stored one is used now


def test_a_realm_id_setting_must_match_the_authorised_company(served: Served) -> None:
    conn = served.connect(realm_id="1234567890")
    with pytest.raises(AuthError, match="the stored tokens are for company 9130357924681152"):
        list(conn.fetch("company"))
    result = conn.check()
    assert not result.ok and "realm_id is 1234567890" in result.reason
