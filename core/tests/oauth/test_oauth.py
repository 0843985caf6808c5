"""OAuth2: the authorization-code flow, refresh with rotation, re-authorise errors, revoke."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncbridge.credentials import MemoryCredentials
from syncbridge.emulator import BearerAuth, Emulator, EmulatorOptions, OAuthProvider, json_response
from syncbridge.emulator.server import running
from syncbridge.errors import AuthError
from syncbridge.oauth import OAuth2Auth, OAuthApp, revoke
from syncbridge.testing.oauth import consent

CLIENT_ID, CLIENT_SECRET = "demo-client", "demo-secret-value"


class Protected(Emulator):
    system = "oauth-test"

    def __init__(self) -> None:
        self.provider = OAuthProvider(
            {CLIENT_ID: CLIENT_SECRET},
            access_lifetime=3600,
            redirect_extra=lambda _client: {"realmId": "4620816365"},
        )
        super().__init__(EmulatorOptions(records=0, rate_limits=False))

    def routes(self) -> list[Route]:
        guard = BearerAuth(
            self.provider.valid_access_token,
            on_failure=lambda _r, why: json_response({"fault": why}, 401),
        )
        return [*self.provider.routes(), Route("/me", guard(self.me), methods=["GET"])]

    async def me(self, request: Request) -> Response:
        return json_response({"user": "mario.rossi@example.it"})


@pytest.fixture
def served() -> Iterator[tuple[Protected, str, OAuthApp]]:
    emulator = Protected()
    with running(emulator.app) as base_url:
        app = OAuthApp(
            authorize_url=f"{base_url}/oauth/authorize",
            token_url=f"{base_url}/oauth/token",
            revoke_url=f"{base_url}/oauth/revoke",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            scopes=("entity.clients:r",),
            keep=("realmId",),
        )
        yield emulator, base_url, app


def test_the_flow_stores_tokens_and_the_realm_id(served: tuple[Protected, str, OAuthApp]) -> None:
    emulator, base_url, app = served
    credentials = MemoryCredentials()
    kept = consent(app, credentials)
    stored = credentials.load()
    assert stored["realmId"] == "4620816365" == kept["realmId"]
    assert "access_token" not in kept  # what the command prints holds no token
    assert emulator.provider.valid_access_token(stored["access_token"])
    with httpx.Client(base_url=base_url, auth=OAuth2Auth(app, credentials, "fic")) as client:
        assert client.get("/me").json() == {"user": "mario.rossi@example.it"}


def _expired_consent(app: OAuthApp) -> MemoryCredentials:
    """Credentials from a consent whose access token has just expired."""
    credentials = MemoryCredentials()
    consent(app, credentials)
    credentials.save({**credentials.load(), "expires_at": time.time() - 5})
    return credentials


def test_an_expired_token_is_refreshed_once_and_the_rotated_refresh_token_kept(
    served: tuple[Protected, str, OAuthApp],
) -> None:
    emulator, base_url, app = served
    credentials = _expired_consent(app)
    first = credentials.load()
    with httpx.Client(base_url=base_url, auth=OAuth2Auth(app, credentials, "fic")) as client:
        for _ in range(3):
            assert client.get("/me").status_code == 200
    second = credentials.load()
    assert emulator.provider.issued["refresh_token"] == 1
    assert second["refresh_token"] != first["refresh_token"]
    assert first["refresh_token"] not in emulator.provider.refresh_tokens  # rotated away
    assert second["realmId"] == "4620816365"


def test_a_401_triggers_a_refresh_and_the_request_is_sent_again(
    served: tuple[Protected, str, OAuthApp],
) -> None:
    emulator, base_url, app = served
    credentials = MemoryCredentials()
    consent(app, credentials)
    emulator.provider.access_tokens.clear()  # the server forgot the access token early
    with httpx.Client(base_url=base_url, auth=OAuth2Auth(app, credentials, "fic")) as client:
        assert client.get("/me").status_code == 200
    assert emulator.provider.issued["refresh_token"] == 1


def test_a_rejected_refresh_token_asks_to_re_authorise(
    served: tuple[Protected, str, OAuthApp],
) -> None:
    emulator, base_url, app = served
    credentials = MemoryCredentials()
    consent(app, credentials)
    emulator.provider.access_tokens.clear()
    emulator.provider.refresh_tokens.clear()
    with (
        httpx.Client(base_url=base_url, auth=OAuth2Auth(app, credentials, "fic")) as client,
        pytest.raises(AuthError) as error,
    ):
        client.get("/me")
    assert str(error.value) == (
        "fic: the refresh token was rejected (invalid_grant: the refresh token is invalid or "
        "revoked); run `syncbridge auth fic` to re-authorise"
    )
    assert CLIENT_SECRET not in str(error.value)


def test_no_stored_token_asks_to_authorise(served: tuple[Protected, str, OAuthApp]) -> None:
    _emulator, base_url, app = served
    with (
        httpx.Client(base_url=base_url, auth=OAuth2Auth(app, MemoryCredentials(), "qbo")) as c,
        pytest.raises(AuthError, match=r"qbo: not authorised yet .* `syncbridge auth qbo`"),
    ):
        c.get("/me")


def test_revoke_ends_the_grant_at_the_system_and_forgets_the_tokens(
    served: tuple[Protected, str, OAuthApp],
) -> None:
    emulator, base_url, app = served
    credentials = MemoryCredentials()
    consent(app, credentials)
    access = credentials.load()["access_token"]
    message = revoke(app, credentials)
    assert message == "revoked at the system (HTTP 200); stored credentials deleted"
    assert credentials.load() == {}
    assert not emulator.provider.valid_access_token(access)
    assert (
        httpx.get(f"{base_url}/me", headers={"Authorization": f"Bearer {access}"}).status_code
        == 401
    )


def test_a_refresh_goes_through_the_connections_stack_and_its_request_log(
    served: tuple[Protected, str, OAuthApp],
) -> None:
    from syncbridge.describe import ConnectorInfo
    from syncbridge.http import LoggedRequest, build_client
    from syncbridge.settings import HttpSettings

    emulator, base_url, app = served
    credentials = _expired_consent(app)
    log: list[LoggedRequest] = []
    client = build_client(
        name="fic", settings=HttpSettings(base_url=base_url),
        info=ConnectorInfo(name="t", title="T"),
        auth=OAuth2Auth(app, credentials, "fic"), request_log=log.append,
    )
    with client:
        assert client.get("/me").status_code == 200
        assert client.get("/me").status_code == 200
    assert emulator.provider.issued["refresh_token"] == 1
    assert [(entry.method, entry.url.removeprefix(base_url), entry.status) for entry in log] == [
        ("POST", "/oauth/token", 200), ("GET", "/me", 200), ("GET", "/me", 200)]
    assert not any(CLIENT_SECRET in entry.url for entry in log)
