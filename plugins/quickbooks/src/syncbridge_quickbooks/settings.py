"""The settings of a ``quickbooks`` connection (``[connections.<name>.settings]``).

QuickBooks Online is reached with an Intuit OAuth2 app: its client id and secret live here (the
secret as ``${ENV_VAR}``), the tokens do not: ``syncbridge auth <conn>`` stores them, with the
company id (``realmId``) from the consent redirect, in the state store. The endpoints default
to Intuit's production URLs; tests and the demo point ``base_url`` and ``oauth_base_url`` at the
emulator.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, model_validator

from syncbridge.settings import HttpSettings

#: the Accounting API host (sandbox companies: https://sandbox-quickbooks.api.intuit.com)
PRODUCTION_API = "https://quickbooks.api.intuit.com"
SANDBOX_API = "https://sandbox-quickbooks.api.intuit.com"
#: Intuit's OAuth2 endpoints, as its discovery document lists them
AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
#: the paths of those endpoints, used when one ``oauth_base_url`` serves all three
AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
SCOPE = "com.intuit.quickbooks.accounting"
#: Intuit no longer serves minor versions below 75 (python-quickbooks MINIMUM_MINOR_VERSION)
MINOR_VERSION = 75
#: the largest MAXRESULTS the query endpoint honours
MAX_PAGE = 1000
#: how far back change data capture reaches, and how many objects one answer holds
CDC_MAX_DAYS = 30
CDC_MAX_OBJECTS = 1000


class QuickBooksSettings(HttpSettings):
    """Where QuickBooks is, which OAuth app reaches it, and how the connector pages and writes."""

    # the client secret must never be echoed back in a validation error
    model_config = ConfigDict(hide_input_in_errors=True)

    base_url: str = Field(
        default=PRODUCTION_API,
        description=f"Accounting API host; sandbox companies use {SANDBOX_API}",
    )
    client_id: str = Field(description="client id of your Intuit developer app")
    client_secret: SecretStr = Field(description="client secret of the app: use ${ENV_VAR}")
    realm_id: str | None = Field(
        default=None,
        description="company id; normally stored by `syncbridge auth` from the consent "
        "redirect, set it only to pin the company (it must then match the stored one)",
    )
    refresh_token: SecretStr | None = Field(
        default=None,
        description="tokens to start from where no browser can run `syncbridge auth` "
        "(Intuit's OAuth Playground): copied to the state store on first use, after which "
        "the rotated tokens there are used; needs realm_id",
    )
    access_token: SecretStr | None = Field(
        default=None,
        description="the access token issued with refresh_token, if at hand (otherwise the "
        "refresh token is exchanged on the first request)",
    )
    oauth_base_url: str | None = Field(
        default=None,
        description="one host serving Intuit's three OAuth paths (the emulator); "
        "overrides the production endpoints",
    )
    authorize_url: str | None = Field(default=None, description="explicit authorize endpoint")
    token_url: str | None = Field(default=None, description="explicit token endpoint")
    revoke_url: str | None = Field(default=None, description="explicit revoke endpoint")
    minor_version: int = Field(
        default=MINOR_VERSION,
        ge=MINOR_VERSION,
        description="the `minorversion` sent with every request",
    )
    page_size: int = Field(
        default=MAX_PAGE, ge=1, le=MAX_PAGE, description="MAXRESULTS of each query page"
    )
    cdc_max_days: int = Field(
        default=CDC_MAX_DAYS,
        ge=1,
        le=CDC_MAX_DAYS,
        description="older cursors are read with LastUpdatedTime queries instead of CDC",
    )
    cdc_max_objects: int = Field(
        default=CDC_MAX_OBJECTS,
        ge=1,
        le=CDC_MAX_OBJECTS,
        description="a CDC answer this large may be truncated: the window is re-read by query",
    )
    income_account_id: str | None = Field(
        default=None,
        description="IncomeAccountRef of created items (default: the first Income account)",
    )
    item_type: Literal["Service", "NonInventory"] = Field(
        default="Service", description="Type of created items"
    )
    webhook_verifier_token: SecretStr | None = Field(
        default=None,
        description="the Verifier Token of your app's webhooks in Intuit's developer "
        "dashboard (it signs every notification): use ${ENV_VAR}; needs realm_id",
    )

    @model_validator(mode="after")
    def _realm_with_token(self) -> QuickBooksSettings:
        if self.refresh_token is not None and not self.realm_id:
            raise ValueError("refresh_token needs realm_id: the company the token is for")
        if self.access_token is not None and self.refresh_token is None:
            raise ValueError("access_token needs refresh_token: it expires within the hour")
        if self.webhook_verifier_token is not None and not self.realm_id:
            # one app's webhooks carry every company connected to it, all signed alike
            raise ValueError(
                "webhook_verifier_token needs realm_id: Intuit notifies an app of every "
                "company connected to it, and realm_id says which one is this connection's"
            )
        return self

    def oauth_endpoints(self) -> tuple[str, str, str]:
        """(authorize, token, revoke): explicit URLs, else ``oauth_base_url``, else Intuit's."""
        if self.oauth_base_url:
            base = self.oauth_base_url.rstrip("/")
            derived = (base + AUTHORIZE_PATH, base + TOKEN_PATH, base + REVOKE_PATH)
        else:
            derived = (AUTHORIZE_URL, TOKEN_URL, REVOKE_URL)
        return (
            self.authorize_url or derived[0],
            self.token_url or derived[1],
            self.revoke_url or derived[2],
        )
