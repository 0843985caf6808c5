"""The authorization-code flow with a local redirect listener, and revocation."""

from __future__ import annotations

import secrets
import threading
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.integrations.base_client.errors import OAuthError

from syncbridge.credentials import Credentials
from syncbridge.errors import AuthError
from syncbridge.oauth._authlib import OAuth2Client
from syncbridge.oauth.app import OAuthApp

CALLBACK_PATH = "/callback"


def _callback_handler(box: dict[str, str], done: threading.Event) -> type[BaseHTTPRequestHandler]:
    """A request handler that keeps the redirect's query parameters in ``box``."""

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != CALLBACK_PATH:
                self.send_error(404)
                return
            box.update({k: v[0] for k, v in parse_qs(parts.query).items()})
            body = b"syncbridge: authorisation received, you can close this window.\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            done.set()

        def log_message(self, format: str, *args: Any) -> None:  # the code is a secret
            return None

    return Callback


def authorize(
    app: OAuthApp,
    credentials: Credentials,
    *,
    port: int = 0,
    open_browser: bool = True,
    timeout: float = 300.0,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the flow: print/open the consent URL, wait for the redirect, store the token.

    Returns the stored credentials without the secrets (for the caller to describe).
    """
    received: dict[str, str] = {}
    done = threading.Event()
    server = HTTPServer(("127.0.0.1", port), _callback_handler(received, done))
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}{CALLBACK_PATH}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = OAuth2Client(
        client_id=app.client_id,
        client_secret=app.client_secret,
        token_endpoint_auth_method=app.token_auth_method,
        scope=" ".join(app.scopes) or None,
        redirect_uri=redirect_uri,
    )
    try:
        state = secrets.token_urlsafe(16)
        url, _state = client.create_authorization_url(
            app.authorize_url, state=state, **app.extra_authorize_params
        )
        say(f"Open this address to grant access (waiting on {redirect_uri}):\n{url}")
        if open_browser:
            webbrowser.open(url)
        if not done.wait(timeout):
            raise AuthError(f"no authorisation arrived within {timeout:g} s; run it again")
        if received.get("error"):
            raise AuthError(
                f"the authorisation was refused: {received['error']} "
                f"{received.get('error_description', '')}".strip()
            )
        if received.get("state") != state:
            raise AuthError("the redirect carried a wrong state: possible forgery, refused")
        if "code" not in received:
            raise AuthError("the redirect carried no authorisation code")
        try:
            token = dict(
                client.fetch_token(app.token_url, code=received["code"], redirect_uri=redirect_uri)
            )
        except OAuthError as error:
            raise AuthError(
                f"the token exchange failed: {error.error}: {error.description}"
            ) from None
        except httpx.HTTPError as error:
            raise AuthError(f"the token exchange failed: {error}") from None
        for name in app.keep:
            if name in received:
                token[name] = received[name]
        credentials.save(token)
        return {k: v for k, v in token.items() if "token" not in k}
    finally:
        client.close()
        server.shutdown()
        server.server_close()


def revoke(app: OAuthApp, credentials: Credentials) -> str:
    """Revoke the stored tokens at the system (when it offers revocation) and forget them."""
    token = credentials.load()
    message = "no stored credentials"
    if token and app.revoke_url:
        client = OAuth2Client(
            client_id=app.client_id,
            client_secret=app.client_secret,
            token_endpoint_auth_method=app.token_auth_method,
        )
        try:
            target = token.get("refresh_token") or token.get("access_token")
            hint = "refresh_token" if token.get("refresh_token") else "access_token"
            response = client.revoke_token(app.revoke_url, token=target, token_type_hint=hint)
            message = (
                f"revoked at the system (HTTP {response.status_code})"
                if response.status_code < 400
                else f"the system answered HTTP {response.status_code} to the revocation"
            )
        except httpx.HTTPError as error:
            message = (
                f"revocation request failed ({type(error).__name__}); forgot the tokens anyway"
            )
        finally:
            client.close()
    elif token:
        message = "the system offers no revocation endpoint"
    credentials.delete()
    return f"{message}; stored credentials deleted"
