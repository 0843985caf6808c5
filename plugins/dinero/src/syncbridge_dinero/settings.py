"""The settings of a Dinero connection: the organisation, the API key and the integration's
OAuth client, where the API and its token endpoint live, the bookkeeping choices the
connector cannot guess (which sales account a line goes to), and the token its webhook
notifications must carry."""

from __future__ import annotations

from pydantic import ConfigDict, Field, SecretStr, field_validator

from syncbridge import ConnectorError, HttpSettings

#: the largest ``pageSize`` Dinero answers (``Pagination.MaxPageSizeAllowed``)
MAX_PAGE_SIZE = 1000
#: requests a minute per organisation (developer.dinero.dk, best practices)
REQUESTS_PER_MINUTE = 100
#: the shortest ``webhook_token``: it is the only thing that tells a notification genuine
WEBHOOK_TOKEN_MIN = 16


class DineroSettings(HttpSettings):
    """``[connections.<name>.settings]`` of a ``dinero`` connection."""

    # a too-short webhook_token must not be echoed back by a validation error
    model_config = ConfigDict(hide_input_in_errors=True)

    base_url: str = Field(
        default="https://api.dinero.dk", description="the Dinero API (paths add /v1/<org>/...)"
    )
    token_url: str = Field(
        default="https://authz.dinero.dk/dineroapi/oauth/token",
        description="the token endpoint of the OAuth2 password grant",
    )
    organization_id: int = Field(
        gt=0,
        description="the Dinero organisation (firma-ID), shown bottom left in Dinero beside "
        "the API keys page",
    )
    api_key: SecretStr = Field(
        description="an API key from Dinero: Indstillinger -> Integrationer -> API-nøgler "
        "(sent as both username and password of the password grant)",
    )
    client_id: str = Field(
        min_length=1, description="the integration's OAuth client id (from api@dinero.dk)"
    )
    client_secret: SecretStr = Field(description="the integration's OAuth client secret")
    page_size: int = Field(
        default=MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="records per listing page"
    )
    requests_per_minute: int = Field(
        default=REQUESTS_PER_MINUTE,
        ge=1,
        le=REQUESTS_PER_MINUTE,
        description="the organisation's request budget the client stays within (Dinero "
        "allows 100 a minute per organisation; lower it when other integrations share it)",
    )
    rate_window_seconds: float = Field(
        default=60.0, gt=0, le=60.0, description="the window of requests_per_minute, seconds"
    )
    sales_account: int = Field(
        default=1000, description="the sales account of lines with 25% VAT (Danish standard)"
    )
    vat_free_sales_account: int = Field(
        default=1010, description="the sales account of lines without VAT"
    )
    deposit_account: int = Field(
        default=55000, description="the bank account payments are deposited to"
    )
    webhook_token: SecretStr | None = Field(
        default=None,
        min_length=WEBHOOK_TOKEN_MIN,
        description="the secret `syncbridge webhooks` subscribes with (put in the subscribed "
        "URL's query as ?token=...) and requires of every notification: Dinero signs none "
        "(reference it as ${DINERO_WEBHOOK_TOKEN}; at least 16 characters)",
    )

    @field_validator("base_url", "token_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


def settings_of(client_or_settings: object) -> DineroSettings:
    """The :class:`DineroSettings` of a client (``client.settings``) or settings object."""
    settings = getattr(client_or_settings, "settings", client_or_settings)
    if not isinstance(settings, DineroSettings):
        name = type(settings).__name__
        raise ConnectorError(f"dinero needs DineroSettings, got {name}")
    return settings
