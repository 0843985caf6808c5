"""Credentials: settings, check(), the OAuth flow with refresh, scopes, and the request log."""

from __future__ import annotations

import time
from typing import Any

import pytest

import syncbridge_fattureincloud.connector as fic_connector
from syncbridge.connection import Connection
from syncbridge.credentials import MemoryCredentials
from syncbridge.errors import ConfigError, ConnectorError
from syncbridge.oauth import OAuth2Auth, OAuthApp
from syncbridge.records import UpsertItem
from syncbridge_fattureincloud.connector import BearerToken
from syncbridge_fattureincloud.emulator import MANUAL_TOKEN, OTHER_COMPANY
from syncbridge_fattureincloud.settings import FicSettings


def test_settings_need_exactly_one_kind_of_credentials() -> None:
    with pytest.raises(ConfigError, match="no credentials"):
        Connection("fic", fic_connector, {"company_id": 1})
    with pytest.raises(ConfigError, match="not both"):
        Connection(
            "fic",
            fic_connector,
            {"company_id": 1, "access_token": "a/x", "client_id": "c", "client_secret": "s"},
        )
    with pytest.raises(ConfigError, match="both client_id and client_secret"):
        Connection("fic", fic_connector, {"company_id": 1, "client_id": "c"})
    with pytest.raises(ConfigError) as error:
        Connection("fic", fic_connector, {"company_id": 0, "access_token": "a/secret-token"})
    assert "secret-token" not in str(error.value)
    settings = FicSettings(company_id=5, access_token="a/t0ken")
    assert settings.base_url == "https://api-v2.fattureincloud.it"
    assert "a/t0ken" not in repr(settings)


def test_hooks_choose_the_auth_by_settings() -> None:
    manual = FicSettings(company_id=5, access_token="a/t0ken")
    assert fic_connector.oauth(manual) is None
    assert isinstance(fic_connector.auth(manual, MemoryCredentials(), "fic"), BearerToken)
    app_settings = FicSettings(company_id=5, client_id="app", client_secret="shh-secret")
    app = fic_connector.oauth(app_settings)
    assert isinstance(app, OAuthApp)
    assert app.authorize_url == "https://api-v2.fattureincloud.it/oauth/authorize"
    assert app.token_url == "https://api-v2.fattureincloud.it/oauth/token"
    assert "entity.clients:a" in app.scopes and app.token_auth_method == "client_secret_post"
    assert isinstance(fic_connector.auth(app_settings, MemoryCredentials(), "fic"), OAuth2Auth)


def test_check_lists_the_companies_of_a_manual_token(fic: Any) -> None:
    result = fic.connect().check()
    assert result.ok, result.reason
    assert result.account == "mario.rossi@rossi-impianti.it"
    assert result.companies == [{"id": 1051, "name": "Rossi Impianti S.r.l."}]
    assert result.details["ratelimit-hourlylimit"] == "1000"


def test_check_fails_on_a_wrong_token(fic: Any) -> None:
    result = fic.connect(access_token="a/not-the-right-token").check()
    assert not result.ok
    assert result.reason == (
        "Fatture in Cloud refused the credentials of connection 'fic' (HTTP 401 Unauthorized: "
        "Token di accesso non valido o scaduto.); generate a new token in Fatture in Cloud and "
        "set it as access_token in connections.fic.settings"
    )


def test_check_fails_on_a_company_the_token_does_not_reach(fic: Any) -> None:
    result = fic.connect(company_id=OTHER_COMPANY).check()
    assert not result.ok
    assert result.reason == (
        f"company {OTHER_COMPANY} is not reachable with these credentials; they reach: "
        "1051 (Rossi Impianti S.r.l.)"
    )
    with pytest.raises(ConnectorError, match="403"):
        list(fic.connect(company_id=OTHER_COMPANY).fetch("company"))


def test_oauth_flow_check_and_refresh(fic: Any, oauth_consent: Any) -> None:
    fic.emulator.provider.access_lifetime = 3600
    settings = fic.emulator.oauth_settings_for(fic.base_url)
    credentials = MemoryCredentials()
    connection = fic.connect_with(settings, credentials)
    app = connection.pm.hook.oauth(settings=connection.settings)
    kept = oauth_consent(app, credentials)
    assert "access_token" not in kept
    first = credentials.load()
    result = connection.check()
    assert result.ok, result.reason
    assert {c["id"] for c in result.companies} == {1051, OTHER_COMPANY}  # granted to both
    assert "issued_documents.quotes:a" in result.scopes
    # the access token expires: the next request refreshes it once, rotating the refresh token
    credentials.save({**first, "expires_at": time.time() - 5})
    assert len([r for p in connection.fetch("company") for r in p.records]) == 25
    second = credentials.load()
    assert fic.emulator.provider.issued["refresh_token"] == 1
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    # a token the server dropped (401) is refreshed too, and the request is sent again
    fic.emulator.provider.access_tokens.clear()
    assert connection.check().ok
    assert fic.emulator.provider.issued["refresh_token"] == 2
    secrets = {
        first["access_token"],
        first["refresh_token"],
        second["access_token"],
        credentials.load()["access_token"],
        settings["client_secret"],
    }
    logged = " ".join(f"{entry.url} {entry.error or ''}" for entry in fic.log)
    assert fic.log and not any(secret in logged for secret in secrets)


def test_oauth_without_stored_tokens_asks_to_authorise(fic: Any) -> None:
    connection = fic.connect_with(fic.emulator.oauth_settings_for(fic.base_url))
    result = connection.check()
    assert not result.ok
    assert "not authorised yet" in result.reason and "syncbridge auth" in result.reason


def test_oauth_scopes_are_enforced(fic: Any, oauth_consent: Any) -> None:
    settings = {**fic.emulator.oauth_settings_for(fic.base_url), "scopes": ["entity.clients:r"]}
    credentials = MemoryCredentials()
    connection = fic.connect_with(settings, credentials)
    oauth_consent(connection.pm.hook.oauth(settings=connection.settings), credentials)
    assert len([r for p in connection.fetch("company") for r in p.records]) == 25
    with pytest.raises(ConnectorError) as refused_read:
        list(connection.fetch("product"))
    assert str(refused_read.value) == (
        "Fatture in Cloud answered GET /c/1051/products with HTTP 403 Forbidden: Permessi "
        "insufficienti: è richiesto lo scope products:r."
    )
    [refused] = connection.upsert(
        "company",
        [UpsertItem(key="k", record={"name": "Sola lettura S.r.l."})],
    )
    assert not refused.ok and "entity.clients:a" in (refused.error or "")


def test_the_manual_token_never_reaches_the_request_log(fic: Any) -> None:
    connection = fic.connect()
    list(connection.fetch("company"))
    connection.check()
    assert fic.log
    assert all(MANUAL_TOKEN not in entry.url for entry in fic.log)
    assert all(entry.url.startswith(fic.base_url) for entry in fic.log)
