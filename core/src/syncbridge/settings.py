"""Base classes for a connector's settings model.

A connector's settings are validated from ``[connections.<name>.settings]`` with its own
pydantic model. Secrets are ``SecretStr`` so that they print as ``**********`` wherever a
settings object ends up (logs, reports, exceptions).
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from syncbridge.errors import ConnectorError


class ConnectorSettings(BaseModel):
    """Settings every connector accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def of(cls, source: Any) -> Self:
        """The connection's settings as this class: a hook's ``settings``, or a client's
        (``client.settings``). Hooks receive them typed as the base class; a connector
        calls ``MySettings.of(client)`` rather than casting."""
        settings = source if isinstance(source, ConnectorSettings) else source.settings
        if not isinstance(settings, cls):
            raise ConnectorError(
                f"this connection needs {cls.__name__}, got {type(settings).__name__}"
            )
        return settings


class HttpSettings(ConnectorSettings):
    """Settings of a connector that talks HTTP.

    ``base_url`` defaults, in each connector, to the system's production URL; tests and the
    demo point it at the connector's emulator on 127.0.0.1.
    """

    base_url: str
    timeout: float = Field(default=30.0, gt=0, description="seconds per request")
    max_retries: int = Field(default=5, ge=0, description="retries on 5xx/429/connect errors")
    rate_limit: bool = Field(
        default=True, description="apply the connector's published rate limits client-side"
    )
