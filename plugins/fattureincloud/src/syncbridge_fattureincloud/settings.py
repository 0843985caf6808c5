"""The settings of a ``fattureincloud`` connection (``[connections.<name>.settings]``).

Fatture in Cloud accepts two kinds of bearer tokens: a *manually generated* token (private
apps: created once in the web app, never expires) or an *OAuth2* access token obtained with
the authorization-code flow (``syncbridge auth <conn>``). The settings carry exactly one of
the two set-ups; both secrets are ``SecretStr`` so they never print.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from syncbridge.settings import HttpSettings
from syncbridge_fattureincloud.signing import FIC_WEBHOOK_PUBLIC_KEY, load_public_key

PRODUCTION_URL = "https://api-v2.fattureincloud.it"

#: what the connector reads and writes: clients, products, the three document types it maps,
#: and the settings (VAT types) it reads. ``:a`` ("all") includes reading.
DEFAULT_SCOPES: tuple[str, ...] = (
    "entity.clients:a",
    "products:a",
    "issued_documents.quotes:a",
    "issued_documents.orders:a",
    "issued_documents.invoices:a",
    "settings:r",
)


class FicSettings(HttpSettings):
    """Where the API is, which company to work on, and how to authenticate."""

    # tokens and secrets must never be echoed back by a validation error
    model_config = ConfigDict(hide_input_in_errors=True)

    base_url: str = Field(default=PRODUCTION_URL, description="API base URL")
    company_id: int = Field(
        gt=0,
        description="the company to sync (`syncbridge check` lists those the token reaches)",
    )
    access_token: SecretStr | None = Field(
        default=None, description="a manually generated token (private apps); never expires"
    )
    client_id: str | None = Field(default=None, description="OAuth2 app client id")
    client_secret: SecretStr | None = Field(default=None, description="OAuth2 app client secret")
    oauth_base_url: str = Field(
        default=PRODUCTION_URL,
        description="host serving /oauth/authorize and /oauth/token",
    )
    scopes: tuple[str, ...] = Field(
        default=DEFAULT_SCOPES, description="OAuth2 scopes requested by `syncbridge auth`"
    )
    page_size: int = Field(
        default=100, ge=1, le=100, description="records per page when reading (API max 100)"
    )

    webhook_public_key: str = Field(
        default=FIC_WEBHOOK_PUBLIC_KEY,
        description="the public key Fatture in Cloud's webhook tokens (ES256 JWTs) are checked "
        "with, base64 of a PEM as the docs publish it (default: the published key)",
    )
    webhook_app_id: int | None = Field(
        default=None,
        description="the Fatture in Cloud application id of this connection's subscriptions: "
        "when set, webhook requests signed for another app (the token's aid) are refused",
    )

    @field_validator("webhook_public_key")
    @classmethod
    def _a_p256_key(cls, value: str) -> str:
        """A key that cannot be read would refuse every notification: fail at config time."""
        load_public_key(value)
        return value

    @field_validator("base_url", "oauth_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_credential(self) -> FicSettings:
        """Exactly one way to authenticate, so a half-configured OAuth app fails at config time."""
        oauth = self.client_id is not None or self.client_secret is not None
        if self.access_token is not None and oauth:
            raise ValueError(
                "give either access_token (a manual token) or client_id + client_secret "
                "(an OAuth app), not both"
            )
        if oauth and (not self.client_id or self.client_secret is None):
            raise ValueError("an OAuth app needs both client_id and client_secret")
        if self.access_token is None and not oauth:
            raise ValueError(
                "no credentials: set access_token (a manually generated token) or "
                "client_id + client_secret (an OAuth app, then run `syncbridge auth <conn>`)"
            )
        return self

    @property
    def uses_oauth(self) -> bool:
        return self.client_id is not None
