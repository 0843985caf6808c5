"""Base classes for a connector's settings model.

A connector's settings are validated from ``[connections.<name>.settings]`` with its own
pydantic model. Secrets are ``SecretStr`` so that they print as ``**********`` wherever a
settings object ends up (logs, reports, exceptions).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ConnectorSettings(BaseModel):
    """Settings every connector accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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
