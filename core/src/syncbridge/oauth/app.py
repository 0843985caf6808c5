"""What a connector says about its OAuth application."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OAuthApp:
    """An OAuth2 client registered with the system, and the system's endpoints.

    ``keep`` names extra query parameters of the redirect that belong with the tokens
    (QuickBooks sends the company as ``realmId``); they are stored with the credentials.
    """

    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    revoke_url: str | None = None
    scopes: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    extra_authorize_params: dict[str, str] = field(default_factory=dict)
    #: how the client authenticates at the token endpoint (RFC 6749 section 2.3)
    token_auth_method: str = "client_secret_basic"
