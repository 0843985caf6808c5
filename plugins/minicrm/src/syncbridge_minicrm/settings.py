"""The settings of a ``minicrm`` connection (``[connections.<name>.settings]``).

MiniCRM signs API requests with HTTP Basic: the user name is the system id (the number in the
web app's URL, ``r3.minicrm.hu/<SystemId>/``), the password the API key an admin generates in
*Settings -> System*. The web app shows both as one API URL, ``https://<SystemId>:<APIKey>@
r3.minicrm.hu/``; ``api_url`` takes that URL as it is shown, or ``system_id`` + ``api_key``
are given apart. Secrets are ``SecretStr``: they print as ``**********``.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from syncbridge import Client, ConnectorSettings, HttpSettings

#: the Hungarian instance; ``r3.minicrm.io`` and ``r3.minicrm.ro`` serve the same API
PRODUCTION_URL = "https://r3.minicrm.hu"


def _split_api_url(url: str) -> tuple[str, str, str]:
    """``https://<SystemId>:<APIKey>@host/`` -> (base URL, system id, API key)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "api_url must be the API URL MiniCRM shows, https://<SystemId>:<APIKey>@r3.minicrm.hu/"
        )
    if not parts.username or not parts.password:
        raise ValueError(
            "api_url holds no system id and API key: copy the whole API URL from MiniCRM "
            "(Settings -> System), https://<SystemId>:<APIKey>@r3.minicrm.hu/"
        )
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{host}", parts.username, parts.password


class MiniCrmSettings(HttpSettings):
    """Where the API is, which system, and what this connection may do there."""

    base_url: str = Field(
        default=PRODUCTION_URL,
        description="the API host (r3.minicrm.hu, r3.minicrm.io, r3.minicrm.ro, or a test "
        "system); tests point it at the emulator",
    )
    system_id: int = Field(
        gt=0,
        description="the MiniCRM system id (Basic auth user name; the number in the web app URL)",
    )
    api_key: SecretStr = Field(
        description="the system's API key (Settings -> System; shown once when generated)"
    )
    company_number: int = Field(
        default=0,
        ge=0,
        description="the company number: the number after the hyphen in the web app's address "
        "after logging in (0 for a system's first company); kept for links into the web app, "
        "the API does not take it",
    )
    allowed_ips: tuple[str, ...] = Field(
        default=(),
        description="the client IP addresses the MiniCRM system allows API requests from "
        "(its 'API allowed IP addresses' setting), as configured there; empty: any address. "
        "Only used to explain a refusal",
    )
    demo_account: bool = Field(
        default=False,
        description="the system is a MiniCRM demo account, which can only be read: every "
        "write is refused before anything is sent",
    )
    customer_category: int | None = Field(
        default=None,
        description="CategoryId of the cards (projects) whose status marks a customer "
        "(e.g. the Sales module); needed by `statuses`",
    )
    statuses: tuple[str, ...] = Field(
        default=(),
        description="read only the companies and persons whose card in customer_category has "
        "one of these statuses (labels as shown in MiniCRM, e.g. 'Customer', or StatusIds); "
        "pushed down to the API as Project?CategoryId=&StatusId=. Empty: every contact",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_api_url(cls, data: Any) -> Any:
        """``api_url`` stands for base_url + system_id + api_key, as MiniCRM shows them."""
        if not isinstance(data, dict) or "api_url" not in data:
            return data
        data = dict(data)
        raw = data.pop("api_url")
        raw = raw.get_secret_value() if isinstance(raw, SecretStr) else str(raw)
        base, system_id, api_key = _split_api_url(raw)
        for key, value in (("base_url", base), ("system_id", system_id), ("api_key", api_key)):
            if key in data and str(data[key]) != value:
                raise ValueError(f"api_url and {key} disagree: give one or the other")
            data[key] = value
        return data

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://r3.minicrm.hu")
        return value

    @field_validator("allowed_ips")
    @classmethod
    def _ips(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            try:
                ipaddress.ip_address(address.strip())
            except ValueError:
                raise ValueError(
                    f"{address!r} is not an IP address: list addresses such as 203.0.113.7"
                ) from None
        return tuple(address.strip() for address in value)

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(status.strip() for status in value if status.strip())
        if len(cleaned) != len(value):
            raise ValueError("a status is empty: name statuses as MiniCRM shows them")
        return cleaned

    @model_validator(mode="after")
    def _statuses_need_category(self) -> MiniCrmSettings:
        if self.statuses and self.customer_category is None:
            raise ValueError(
                "statuses need customer_category: the CategoryId of the cards whose status "
                "they name (GET /Api/R3/Category lists them)"
            )
        return self

    @property
    def account(self) -> str:
        """The system as a person names it in messages."""
        return f"MiniCRM system {self.system_id}"


def settings_of(source: Client | ConnectorSettings) -> MiniCrmSettings:
    """The connection's settings, typed: a hook's ``settings``, or a client's."""
    return MiniCrmSettings.of(source)
