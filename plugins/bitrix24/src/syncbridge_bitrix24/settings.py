"""The settings of a ``bitrix24`` connection (``[connections.<name>.settings]``).

Two ways in, exactly one per connection:

* an **inbound webhook**: ``webhook_url = "https://<portal>/rest/<user>/<code>/"``. The code in
  the path is the credential, so the whole URL is a :class:`~pydantic.SecretStr`: the core's
  request log masks it wherever it appears, and validation errors never echo it
  (``hide_input_in_errors``);
* an **OAuth application**: ``client_id`` / ``client_secret`` and the ``refresh_token`` (plus,
  optionally, a still valid ``access_token``) the portal gave the app when it was installed.
  Refreshed tokens are kept in the connection's credentials store, which wins over these
  settings until the settings carry a different refresh token (a re-installed app).

``base_url`` is the portal (``https://example.bitrix24.de``); with a webhook it is derived from
the webhook URL, and when given too it must name the same portal.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from syncbridge.http import Client
from syncbridge.models import DocumentStatus
from syncbridge.settings import ConnectorSettings, HttpSettings

#: where Bitrix24 apps refresh their tokens (``settings/oauth/index.md``)
OAUTH_SERVER = "https://oauth.bitrix.info"

#: the default kanban of smart invoices (category 1): new, sent, paid, not paid. Several
#: statuses share a stage; reading a stage back gives the first status listed for it, so the
#: order matters: ``sent`` before the other "open" statuses, ``cancelled`` before ``rejected``.
DEFAULT_STAGE_MAP: dict[DocumentStatus, str] = {
    DocumentStatus.DRAFT: "DT31_1:N",
    DocumentStatus.SENT: "DT31_1:S",
    DocumentStatus.ISSUED: "DT31_1:S",
    DocumentStatus.ACCEPTED: "DT31_1:S",
    DocumentStatus.PARTIALLY_PAID: "DT31_1:S",
    DocumentStatus.OVERDUE: "DT31_1:S",
    DocumentStatus.PAID: "DT31_1:P",
    DocumentStatus.CANCELLED: "DT31_1:D",
    DocumentStatus.REJECTED: "DT31_1:D",
}

_STAGE = re.compile(r"^DT31_(\d+):[A-Z0-9_]+$")
_WEBHOOK_PATH = re.compile(r"^/rest/(\d+)/([A-Za-z0-9_-]+)/?$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def stage_category(stage: str) -> int:
    """The smart-invoice category a stage id belongs to (``DT31_1:S`` -> 1)."""
    found = _STAGE.match(stage)
    if found is None:
        raise ValueError(f"{stage!r} is not a smart-invoice stage id (DT31_<category>:<code>)")
    return int(found.group(1))


def _origin(url: httpx.URL) -> str:
    """``scheme://host[:port]`` with the default port left out: one spelling per portal."""
    default = {"http": 80, "https": 443}.get(url.scheme)
    port = "" if url.port in (None, default) else f":{url.port}"
    return f"{url.scheme}://{url.host}{port}"


def _checked_origin(raw: str, what: str) -> httpx.URL:
    try:
        url = httpx.URL(raw.strip())
    except (httpx.InvalidURL, TypeError):
        raise ValueError(f"{what} is not a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{what} must be an https:// URL of the Bitrix24 portal")
    if url.scheme == "http" and url.host not in _LOOPBACK:
        # the portal refuses plain HTTP (INVALID_REQUEST), and the credential would travel
        # in clear text; only a local emulator is reached over http
        raise ValueError(f"{what} must use https:// (http:// is only for 127.0.0.1)")
    return url


class Bitrix24Settings(HttpSettings):
    """Where the portal is, how to authenticate, and how invoice stages map to statuses."""

    # the webhook URL is a credential: a validation error must never echo it back
    model_config = ConfigDict(hide_input_in_errors=True)

    base_url: str = Field(
        description="the portal, e.g. https://example.bitrix24.de (derived from webhook_url "
        "when left out)"
    )
    webhook_url: SecretStr | None = Field(
        default=None,
        description="inbound webhook, https://<portal>/rest/<user>/<code>/ (the code is a secret: "
        "reference it as ${BITRIX24_WEBHOOK})",
    )
    client_id: str | None = Field(default=None, description="OAuth application: client id")
    client_secret: SecretStr | None = Field(
        default=None, description="OAuth application: client secret"
    )
    refresh_token: SecretStr | None = Field(
        default=None, description="OAuth: the refresh token the portal gave the installed app"
    )
    access_token: SecretStr | None = Field(
        default=None, description="OAuth: a current access token (optional; refreshed as needed)"
    )
    oauth_url: str = Field(
        default=OAUTH_SERVER, description="OAuth server that refreshes tokens (/oauth/token/)"
    )
    stage_map: dict[DocumentStatus, str] = Field(
        default_factory=dict,
        description='invoice status -> smart-invoice stage id, e.g. {sent = "DT31_1:S", paid = '
        '"DT31_1:P"}; merged over the defaults (draft N, open statuses S, paid P, cancelled D '
        "of category 1)",
    )
    application_token: SecretStr | None = Field(
        default=None,
        description="the application token Bitrix24 gives your app (on installation) or "
        "outgoing webhook (its Application token field); every event must carry it in "
        "auth[application_token]; a secret: use ${BITRIX24_APPLICATION_TOKEN}",
    )
    originator_id: str = Field(
        default="syncbridge",
        min_length=1,
        description="ORIGINATOR_ID written on created contacts/companies beside the "
        "idempotency key in ORIGIN_ID",
    )

    @model_validator(mode="before")
    @classmethod
    def _portal_from_webhook(cls, data: Any) -> Any:
        """Fill ``base_url`` from the webhook URL, so a webhook alone is a complete config."""
        if not isinstance(data, dict) or data.get("base_url") or not data.get("webhook_url"):
            return data
        raw = data["webhook_url"]
        text = raw.get_secret_value() if isinstance(raw, SecretStr) else str(raw)
        try:
            url = _checked_origin(text, "webhook_url")
        except ValueError:
            return data  # the field validator reports it
        return {**data, "base_url": _origin(url)}

    @field_validator("base_url", "oauth_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _origin(_checked_origin(value, "the URL"))

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: SecretStr | None) -> SecretStr | None:
        """Normalise the webhook URL to exactly how requests spell it.

        The request log masks the secret by searching for it in each URL, so the stored form
        must be the one the requests are built from: lower-case host, no default port, one
        trailing slash.
        """
        if value is None:
            return None
        url = _checked_origin(value.get_secret_value(), "webhook_url")
        found = _WEBHOOK_PATH.match(url.path)
        if found is None or url.query:
            raise ValueError(
                "webhook_url must look like https://<portal>/rest/<user id>/<code>/ "
                "(copy it from Developer resources > Inbound webhook)"
            )
        return SecretStr(f"{_origin(url)}/rest/{found.group(1)}/{found.group(2)}/")

    @field_validator("stage_map")
    @classmethod
    def _stages(cls, value: dict[DocumentStatus, str]) -> dict[DocumentStatus, str]:
        for status, stage in value.items():
            try:
                stage_category(stage)
            except ValueError as error:
                raise ValueError(f"stage_map.{status.value}: {error}") from None
        return value

    @model_validator(mode="after")
    def _one_way_in(self) -> Bitrix24Settings:
        oauth = [self.client_id, self.client_secret, self.refresh_token, self.access_token]
        if self.webhook_url is not None:
            if any(part is not None for part in oauth):
                raise ValueError(
                    "give either webhook_url or the OAuth settings (client_id, client_secret, "
                    "refresh_token), not both"
                )
            if _origin(httpx.URL(self.webhook_url.get_secret_value())) != self.base_url:
                raise ValueError("base_url and webhook_url name different portals")
            return self
        missing = [
            name
            for name in ("client_id", "client_secret", "refresh_token")
            if getattr(self, name) is None
        ]
        if missing:
            raise ValueError(
                "set webhook_url (an inbound webhook), or an OAuth application with "
                f"client_id, client_secret and refresh_token (missing: {', '.join(missing)})"
            )
        return self

    # -- derived --------------------------------------------------------------------------
    @property
    def uses_webhook(self) -> bool:
        return self.webhook_url is not None

    @property
    def rest_url(self) -> str:
        """The prefix every method name is appended to (contains the secret with a webhook)."""
        if self.webhook_url is not None:
            return self.webhook_url.get_secret_value()
        return f"{self.base_url}/rest/"

    @property
    def domain(self) -> str:
        """The portal as events name it in ``auth[domain]``: host, and port when not the
        default (``example.bitrix24.de``; the emulator's ``127.0.0.1:8123``)."""
        return httpx.URL(self.base_url).netloc.decode("ascii").lower()

    @property
    def portal(self) -> str:
        """The portal's host name: what messages and ``check`` show instead of any URL."""
        return httpx.URL(self.base_url).host

    @property
    def stages(self) -> dict[DocumentStatus, str]:
        """The effective status -> stage map: the configured entries over the defaults."""
        return {**DEFAULT_STAGE_MAP, **self.stage_map}

    def status_of(self, stage: str) -> DocumentStatus | None:
        """The status a stage reads back as: configured entries first, then the defaults.

        A default whose status the configuration re-mapped is skipped, so that what is read
        back is always a status that would be written to the same stage.
        """
        defaults = [(s, m) for s, m in DEFAULT_STAGE_MAP.items() if s not in self.stage_map]
        for status, mapped in [*self.stage_map.items(), *defaults]:
            if mapped == stage:
                return status
        return None


def settings_of(source: Client | ConnectorSettings) -> Bitrix24Settings:
    """The connection's settings, typed: a hook's ``settings``, or a client's."""
    return Bitrix24Settings.of(source)
