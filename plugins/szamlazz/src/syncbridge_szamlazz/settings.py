"""The settings of a ``szamlazz`` connection (``[connections.<name>.settings]``).

The Számla Agent takes its credentials inside every request's XML: an *Agent key*
(``szamlaagentkulcs``, generated in the web app; preferred) or a user name and password.
Exactly one kind must be configured, so a connection never silently falls back from one to
the other. Secrets are ``SecretStr``: they print as ``**********`` and the request log masks
them.

The Agent has no list endpoint, so the settings also say where the connection's documents
are: the account's number prefix and the first year to read (see :mod:`.numbers`).
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import Field, SecretStr, field_validator, model_validator

from syncbridge import Client, ConnectorSettings, HttpSettings

#: the one URL every action is posted to
PRODUCTION_URL = "https://www.szamlazz.hu/szamla/"
#: the languages an invoice may be issued in (``szamlaNyelveTipus`` of the XSD)
LANGUAGES = (
    "hu",
    "en",
    "de",
    "it",
    "ro",
    "sk",
    "hr",
    "fr",
    "es",
    "cz",
    "pl",
    "bg",
    "nl",
    "ru",
    "si",
)

_PREFIX = re.compile(r"^[A-Za-z0-9]{1,10}$")


class SzamlazzSettings(HttpSettings):
    """Where the Agent is, who we are, and which number sequences hold our documents."""

    base_url: str = Field(
        default=PRODUCTION_URL,
        description="the Agent's URL (every action is a POST to it); tests point it at the "
        "emulator",
    )
    agent_key: SecretStr | None = Field(
        default=None,
        description="Számla Agent key (szamlaagentkulcs), generated under Settings > Számla "
        "Agent in the web app; instead of username/password",
    )
    username: str | None = Field(default=None, description="login name (felhasznalo)")
    password: SecretStr | None = Field(default=None, description="password (jelszo)")
    prefix: str = Field(
        description="the invoice number prefix registered in the account (szamlaszamElotag): "
        "documents are numbered <prefix>-<year>-<n>, proformas D-<prefix>-<year>-<n>",
    )
    e_invoice: bool = Field(
        default=False,
        description="issue e-invoices (eszamla): their numbers start with E-",
    )
    first_year: int = Field(
        default_factory=lambda: date.today().year,
        ge=2000,
        description="the first year whose documents a full read walks (the Agent cannot list "
        "documents: the connector reads them by number)",
    )
    gap: int = Field(
        default=3,
        ge=1,
        le=50,
        description="unknown numbers in a row that end a sequence (deleted proformas leave "
        "gaps in theirs)",
    )
    language: str = Field(default="hu", description="invoice language (szamlaNyelve)")
    payment_method: str = Field(
        default="Átutalás",
        description="payment method printed on the documents (fizmod, free text)",
    )
    page_size: int = Field(default=25, ge=1, le=200, description="documents per page of a read")
    buyer_required: bool = Field(
        default=True,
        description="refuse to issue a document whose buyer has no name (canonical documents "
        "carry only the customer's id: see the README, 'Buyers')",
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://www.szamlazz.hu/szamla/")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.strip()
        if not _PREFIX.match(value):
            raise ValueError(
                "must be the account's registered prefix: 1-10 letters or digits (e.g. SBT)"
            )
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @model_validator(mode="after")
    def _one_kind_of_credentials(self) -> SzamlazzSettings:
        login = self.username is not None or self.password is not None
        if self.agent_key is not None and login:
            raise ValueError("give either agent_key or username + password, not both")
        if self.agent_key is None and (self.username is None or self.password is None):
            raise ValueError(
                "credentials are missing: set agent_key (the Számla Agent key), or "
                "username and password"
            )
        return self


def settings_of(source: Client | ConnectorSettings) -> SzamlazzSettings:
    """The connection's settings, typed: a hook's ``settings``, or a client's."""
    return SzamlazzSettings.of(source)
