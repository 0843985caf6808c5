"""The settings of an ``oficrm`` connection: the sql connector's, with OfiCRM's preset.

Everything :class:`~syncbridge_sql.settings.SqlSettings` offers works the same (the URL is a
secret, ``tables``/``columns`` override the preset field by field, ``timezone``,
``lookback_seconds``, sizes). What changes:

- ``preset`` defaults to ``"oficrm"``;
- ``tables`` and ``columns`` name OfiCRM's three entities only (``company``, ``sector`` and
  ``sales_data``), with their fields checked;
- ``create_tables`` defaults to False: OfiCRM owns its database;
- ``default_country``: the country of customers whose country column is empty, for the
  tax-id check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, Field, field_validator

from syncbridge.models import MODELS
from syncbridge_oficrm.preset import preset_for
from syncbridge_sql.presets import Preset
from syncbridge_sql.settings import SqlSettings

#: the entities an oficrm connection maps: OfiCRM's customers, sectors and sales data
ENTITIES: dict[str, Any] = {name: MODELS[name] for name in ("sector", "company", "sales_data")}


class OficrmSettings(SqlSettings):
    """Where OfiCRM's database is, and how its tables differ from the preset, if at all."""

    preset: str | None = Field(
        default="oficrm",
        description="the schema preset (oficrm); tables and columns given here override it",
    )
    create_tables: bool = Field(
        default=False, description="never create OfiCRM's tables (they are OfiCRM's)"
    )
    default_country: str = Field(
        default="ES",
        description="ISO country of customers whose country column is empty: their tax id "
        "is checked as that country's (ES: NIF/NIE/CIF)",
    )

    entity_models: ClassVar[Mapping[str, type[BaseModel]]] = ENTITIES

    @classmethod
    def preset_named(cls, name: str) -> Preset:
        return preset_for(name)

    @field_validator("default_country")
    @classmethod
    def _country(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 2 or not code.isalpha():
            raise ValueError(f'{value!r} is not an ISO country code; use e.g. "ES"')
        return code

    def column_of(self, entity: str, field: str) -> str:
        """``table.column`` of a field, for messages that tell where to fix a value."""
        column = self.columns.get(entity, {}).get(field, field)
        return f"{self.table_name(entity)}.{column}"
