"""The settings of a ``crmincloud`` connection (``[connections.<name>.settings]``).

CRM in Cloud accepts two kinds of credentials: a user's login (``Auth/Login`` gives a JWT,
optionally with the user's *Web API key* on every request), or a console-generated API key
sent as the ``ApiKey`` header without any login. Exactly one kind must be configured, so a
connection never silently falls back from one to the other. Every credential is a
``SecretStr``: it prints as ``**********`` and the request log masks it.
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator, model_validator

from syncbridge import Client, ConnectorSettings, HttpSettings

#: the production API (``latest`` is an alias of the newest version; v1 is pinned on purpose)
PRODUCTION_URL = "https://api.crmincloud.it/api/v1"
#: the most records one ``SearchByODataCriteria`` page returns (assumption A5 of the README)
MAX_PAGE_SIZE = 100

_CUSTOM_FIELD = re.compile(r"^(FF|ff)_[A-Za-z0-9_]+$")


class CrmInCloudSettings(HttpSettings):
    """Where the API is, who we are, and where the idempotency key of a create is kept."""

    base_url: str = Field(
        default=PRODUCTION_URL,
        description="API root including the version segment; tests point it at the emulator",
    )
    username: str | None = Field(
        default=None, description="user name (e-mail or TeamSystem ID) for Auth/Login"
    )
    password: SecretStr | None = Field(default=None, description="password for Auth/Login")
    web_api_key: SecretStr | None = Field(
        default=None,
        description="the user's Web API key (Setup > Users > Web API Keys), sent as the "
        "WebApiKey header with the login and every request",
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="a console-generated API key sent as the ApiKey header (no login); "
        "instead of username/password",
    )
    key_field: str | None = Field(
        default="FF_SYNCBRIDGE_KEY",
        description="text custom field (defined on Company, Contact, Catalog and Quote) that "
        "stores the idempotency key of each create, so a crashed run can find what it made; "
        "empty to disable (lookup then finds nothing)",
    )
    page_size: int = Field(
        default=MAX_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description="records per SearchByODataCriteria page ($top)",
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://api.crmincloud.it/api/v1")
        return value

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("key_field")
    @classmethod
    def _key_field(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is not None and not _CUSTOM_FIELD.match(value):
            raise ValueError(
                "must name a CRM in Cloud custom field, which start with FF_ "
                "(e.g. FF_SYNCBRIDGE_KEY), or be empty"
            )
        return value

    @model_validator(mode="after")
    def _one_kind_of_credentials(self) -> CrmInCloudSettings:
        login = self.username is not None or self.password is not None
        if self.api_key is not None and login:
            raise ValueError(
                "give either api_key or username + password, not both: they are different "
                "users as far as CRM in Cloud is concerned"
            )
        if self.api_key is None:
            if self.username is None or self.password is None:
                raise ValueError(
                    "credentials are missing: set username and password (Auth/Login), "
                    "or api_key (the ApiKey header)"
                )
        elif self.web_api_key is not None:
            raise ValueError("web_api_key goes with a username/password login, not with api_key")
        return self

    @property
    def uses_login(self) -> bool:
        """True when requests are signed with a JWT from ``Auth/Login``."""
        return self.api_key is None


def settings_of(source: Client | ConnectorSettings) -> CrmInCloudSettings:
    """The connection's settings, typed: a hook's ``settings``, or a client's."""
    return CrmInCloudSettings.of(source)
