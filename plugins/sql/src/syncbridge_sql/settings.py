"""The settings of a ``sql`` connection (``[connections.<name>.settings]``).

The URL usually carries a password, so it is a :class:`~pydantic.SecretStr`: ``repr()`` and
``str()`` show it with the password masked (``postgresql://erp:***@db/erp``), a JSON dump
shows ``**********``, and validation errors never echo the input. Everything the connector
prints goes through :func:`safe_url`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from syncbridge.models import META_FIELDS, MODELS
from syncbridge.settings import ConnectorSettings
from syncbridge_sql.presets import Preset, preset_for


def safe_url(url: str | URL) -> str:
    """``url`` as text with its password replaced by ``***``; unparseable URLs are hidden."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except (ArgumentError, ValueError):
        return "<unparseable database URL>"
    return parsed.render_as_string(hide_password=True)


class SqlSettings(ConnectorSettings):
    """Where the database is and how its tables map onto the canonical entities."""

    # the URL is a secret: never echo it back in a validation error
    model_config = ConfigDict(hide_input_in_errors=True)

    url: SecretStr = Field(
        description="SQLAlchemy URL, e.g. sqlite:///erp.db or "
        "postgresql+psycopg://user:${DB_PASSWORD}@host/db"
    )
    preset: str | None = Field(
        default=None,
        description="a known application's tables and columns (e.g. szamlazz-konnyen, see "
        "the presets below); tables and columns given here override it, field by field",
    )
    tables: dict[str, str] = Field(
        default_factory=dict, description="entity -> table name (default: the entity name)"
    )
    columns: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="entity -> {canonical field -> column}; when given for an entity, only "
        "these fields are read and written (id and updated_at may be mapped too)",
    )
    db_schema: str | None = Field(
        default=None, description="database schema holding the tables (default: the URL's)"
    )
    create_tables: bool = Field(
        default=True, description="create missing tables in the default layout on first use"
    )
    key_column: str | None = Field(
        default="sync_key",
        description="column holding the engine's idempotency key of each create; "
        "None when the schema has no room for it (creates are then not idempotent)",
    )
    batch_size: int = Field(default=500, ge=1, description="rows written per transaction")
    page_size: int = Field(default=1000, ge=1, description="rows per page when reading")
    lookback_seconds: float = Field(
        default=0.0,
        ge=0,
        description="re-read this much before the cursor on incremental reads; set it when "
        "other programs write the timestamp column coarsely (whole seconds) or in long "
        "transactions",
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone (e.g. Europe/Rome) of timestamps stored without one: "
        "naive columns (PostgreSQL timestamp, MySQL DATETIME) and SQLite text without an "
        "offset. Set it to the zone of the programs writing them, e.g. the session time zone "
        "under which a MariaDB NOW() runs",
    )

    #: the entities a connection may map, by name: the canonical ones. A connector built on
    #: this one that maps entities of its own (OfiCRM's sectors) extends it
    entity_models: ClassVar[Mapping[str, type[BaseModel]]] = MODELS

    @classmethod
    def preset_named(cls, name: str) -> Preset:
        """The preset ``name`` means here (a connector built on this one has its own)."""
        return preset_for(name)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        """A preset's tables and columns under the ones given: those win, field by field."""
        if not isinstance(data, dict):
            return data
        default = cls.model_fields["preset"].default
        if default and "preset" not in data:
            data = {**data, "preset": default}
        if not data.get("preset"):
            return data
        preset = cls.preset_named(str(data["preset"]))
        tables = {**preset.tables, **(data.get("tables") or {})}
        given = data.get("columns") or {}
        columns = {
            entity: {**preset.columns.get(entity, {}), **given.get(entity, {})}
            for entity in {*preset.columns, *given}
        }
        merged = {**data, "tables": tables, "columns": columns}
        if "key_column" not in data:
            merged["key_column"] = preset.key_column
        return merged

    @field_validator("url")
    @classmethod
    def _parseable(cls, value: SecretStr) -> SecretStr:
        try:
            make_url(value.get_secret_value())
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise ValueError(
                "is not an SQLAlchemy URL (dialect+driver://user:password@host/database, "
                "or sqlite:///path/to/file.db)"
            ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone_name(cls, value: str) -> str:
        """Fail at load time, not at the first naive timestamp, and say what is expected."""
        name = value.strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone name; use the zone of the programs "
                'writing timestamps without an offset, e.g. "UTC" or "Europe/Rome"'
            ) from None
        return name

    @field_validator("key_column")
    @classmethod
    def _key_column(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @model_validator(mode="after")
    def _known_names(self) -> SqlSettings:
        """Misspelt entities or fields would silently map nothing: reject them here."""
        models = type(self).entity_models
        for where, entities in (("tables", self.tables), ("columns", self.columns)):
            for entity in entities:
                if entity not in models:
                    raise ValueError(
                        f"{where}: unknown entity {entity!r}; entities are: {', '.join(models)}"
                    )
        for entity, mapping in self.columns.items():
            fields = set(models[entity].model_fields)
            for field in mapping:
                if field not in fields:
                    known = ", ".join(sorted(fields - META_FIELDS))
                    raise ValueError(
                        f"columns.{entity}: {field!r} is not a {entity} field; "
                        f"fields are id, updated_at, {known}"
                    )
        return self

    @property
    def zone(self) -> ZoneInfo:
        """:attr:`timezone` as a tzinfo: how naive timestamps are read and written
        (``ZoneInfo`` caches its instances, so this costs a dict lookup)."""
        return ZoneInfo(self.timezone)

    @property
    def safe_url(self) -> str:
        """The URL with its password masked: what every message and report shows."""
        return safe_url(self.url.get_secret_value())

    @property
    def password(self) -> str | None:
        """The URL's password, for scrubbing driver messages (never for display)."""
        return make_url(self.url.get_secret_value()).password

    def table_name(self, entity: str) -> str:
        return self.tables.get(entity, entity)

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        # show which database it is, minus the password, rather than a bare "**********"
        for name, value in super().__repr_args__():
            yield (name, self.safe_url) if name == "url" else (name, value)
