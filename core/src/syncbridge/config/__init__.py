"""Configuration: ``syncbridge.toml`` read, substituted and validated."""

from syncbridge.config.loader import DEFAULT_PATH, load, parse
from syncbridge.config.schema import (
    DEFAULT_MATCH,
    Config,
    ConnectionConfig,
    DeriveRule,
    Direction,
    EntityRule,
    Side,
    StateConfig,
    SyncConfig,
)

__all__ = [
    "DEFAULT_MATCH",
    "DEFAULT_PATH",
    "Config",
    "ConnectionConfig",
    "DeriveRule",
    "Direction",
    "EntityRule",
    "Side",
    "StateConfig",
    "SyncConfig",
    "load",
    "parse",
]
