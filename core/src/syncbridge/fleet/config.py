"""``fleet.toml``: where a fleet keeps its state, its queue and its tenants.

One file for the whole deployment, read by every worker, the scheduler and the webhook
receiver. Tenants are not in it: each is an ordinary ``syncbridge.toml`` in the tenants'
directory (see :mod:`syncbridge.fleet.tenants`)::

    [state]
    url = "postgresql+psycopg://syncbridge@db.internal/syncbridge"

    [broker]
    url = "redis://queue.internal:6379/0"

    [tenants]
    dir = "tenants"              # tenants/<id>.toml, one per tenant
    secrets_dir = "/run/secrets" # /run/secrets/<id>/<VAR>: ${VAR} of tenant <id>

    [webhooks]
    public_url = "https://hooks.example.com"
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from syncbridge.config.loader import _substitute, format_errors
from syncbridge.errors import ConfigError

DEFAULT_PATH = "fleet.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FleetState(_Strict):
    """The PostgreSQL database holding every tenant's state, a schema each."""

    url: str = Field(description="SQLAlchemy URL of the PostgreSQL state store")
    credentials: Literal["encrypted", "plain"] = Field(
        default="encrypted",
        description="how stored OAuth tokens are kept (as [state] credentials of a "
        "syncbridge.toml): encrypted with $SYNCBRIDGE_CREDENTIALS_KEY, or plain",
    )

    @field_validator("url")
    @classmethod
    def _postgres(cls, value: str) -> str:
        if not value.startswith("postgresql"):
            raise ValueError(
                "a fleet keeps its tenants in PostgreSQL, a schema each: "
                "postgresql+psycopg://user@host/db"
            )
        return value


class FleetBroker(_Strict):
    """Celery's broker: where due runs wait for a worker."""

    url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="broker URL: redis://host:6379/0 (or amqp:// for RabbitMQ)",
    )


class FleetBudgets(_Strict):
    """Rate budgets: each account's requests counted across all workers, in Redis."""

    url: str | None = Field(
        default=None,
        description="Redis URL the budgets are counted in (default: the broker's, when "
        "it is Redis)",
    )
    bulk_share: float = Field(
        default=0.75,
        gt=0,
        le=1,
        description="share of each rate limit a first sync may use; the rest of every "
        "window is kept for the polls of the same account",
    )


class FleetTenants(_Strict):
    """Where the tenants' configs and secrets are."""

    dir: Path = Field(
        default=Path("tenants"),
        description="directory of tenant configs, <tenant id>.toml each (an ordinary "
        "syncbridge.toml without [state]); relative to fleet.toml",
    )
    secrets_dir: Path | None = Field(
        default=None,
        description="directory of per-tenant secrets: the file <secrets_dir>/<tenant>/<VAR> "
        "is ${VAR} in that tenant's config (mounted secrets: Kubernetes, Docker, Vault "
        "agent); the environment is read after it",
    )


class FleetScheduler(_Strict):
    """How the scheduler paces itself."""

    tick_seconds: float = Field(
        default=1.0, gt=0, description="how often due runs are looked for"
    )
    reload_seconds: float = Field(
        default=30.0, gt=0, description="how often the tenants' directory is read again"
    )
    keep_turns_days: float = Field(
        default=7.0,
        gt=0,
        description="how long the record of each dispatched turn is kept (<name>_fleet.turn)",
    )
    requeue_after_seconds: float = Field(
        default=300.0,
        gt=0,
        description="a run queued this long ago and not running (its lease free) is queued "
        "again: its worker died, or the message was lost",
    )


class FleetWorker(_Strict):
    """What each worker process keeps."""

    open_tenants: int = Field(
        default=16,
        ge=1,
        description="tenants' workspaces a worker process keeps open between runs (their "
        "HTTP clients, tokens and a state-store connection each); a run of another tenant "
        "opens its workspace anew",
    )


class FleetWebhooks(_Strict):
    """The webhook receiver (``syncbridge webhooks serve``)."""

    public_url: str | None = Field(
        default=None,
        description="the receiver's address as the systems reach it; subscriptions point "
        "at <public_url>/hooks/<tenant>/<connection>",
    )
    replay_window_seconds: float = Field(
        default=600.0,
        gt=0,
        description="a notification sent longer ago than this is refused as a replay; one "
        "seen within it is a duplicate and ignored",
    )


class FleetConfig(_Strict):
    """The fleet: state store, broker, budgets, tenants, scheduler, workers and webhooks."""

    name: str = Field(
        default="syncbridge",
        pattern=r"^[a-z][a-z0-9_]{0,14}$",
        description="the fleet's name: its schedule is the schema <name>_fleet, its "
        "tenants' the schemas <name>_tenant_<id>, its queues <name>-poll and <name>-bulk, "
        "its keys in Redis under <name>; fleets with different names share a database and "
        "a broker without meeting",
    )
    state: FleetState
    broker: FleetBroker = FleetBroker()
    budgets: FleetBudgets = FleetBudgets()
    tenants: FleetTenants = FleetTenants()
    scheduler: FleetScheduler = FleetScheduler()
    worker: FleetWorker = FleetWorker()
    webhooks: FleetWebhooks = FleetWebhooks()

    @property
    def schedule_schema(self) -> str:
        """The schema of the fleet's schedule."""
        return f"{self.name}_fleet"

    def tenant_schema(self, tenant: str) -> str:
        """The schema of ``tenant``'s state."""
        return f"{self.name}_tenant_{tenant}"

    def queue(self, priority: str) -> str:
        """The queue of runs of ``priority`` (``poll`` or ``bulk``)."""
        return f"{self.name}-{'bulk' if priority == 'bulk' else 'poll'}"

    @property
    def budget_url(self) -> str | None:
        """Where budgets are counted: ``[budgets] url``, else a Redis broker's."""
        if self.budgets.url:
            return self.budgets.url
        broker = self.broker.url
        return broker if broker.startswith(("redis://", "rediss://")) else None


def parse_fleet(text: str, *, source: str, base: Path) -> FleetConfig:
    """Validate fleet configuration text; relative directories are relative to ``base``."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source} is not valid TOML: {error}") from None
    raw = _substitute(raw, "", dict(os.environ))
    try:
        config = FleetConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{source}: " + format_errors(error, FleetConfig)) from None
    if not config.tenants.dir.is_absolute():
        config.tenants.dir = (base / config.tenants.dir).resolve()
    secrets = config.tenants.secrets_dir
    if secrets is not None and not secrets.is_absolute():
        config.tenants.secrets_dir = (base / secrets).resolve()
    return config


def load_fleet(path: str | Path | None = None) -> FleetConfig:
    """Read ``fleet.toml`` (``path``, else ``$SYNCBRIDGE_FLEET``, else ./fleet.toml)."""
    file = Path(path or os.environ.get("SYNCBRIDGE_FLEET") or DEFAULT_PATH)
    if not file.is_file():
        raise ConfigError(
            f"no fleet config at {file}; pass --fleet PATH (or set SYNCBRIDGE_FLEET): "
            "see docs/guides/running-at-scale.md"
        )
    return parse_fleet(
        file.read_text(encoding="utf-8"), source=str(file), base=file.parent.resolve()
    )
