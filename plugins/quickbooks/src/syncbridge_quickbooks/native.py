"""Small readers and writers of QuickBooks' JSON shapes, shared by the mapping modules.

It also defines the connector's one addition to a native record: ``_sb``, a dict of facts the
``map`` hook needs but a single QuickBooks object does not carry (whether a ``CustomerRef``
points at a company or a person, a tax code's rate). ``fetch`` and ``upsert`` fill it from
what they looked up; ``upsert`` removes it before anything is sent, so QuickBooks never sees
it (the emulator, like the real service, refuses unknown properties).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import pycountry

from syncbridge.mapping import text

#: the key of the connector's annotations in a native record
NOTES = "_sb"

#: country names QuickBooks users type that pycountry does not know as such
_COUNTRY_ALIASES = {
    "USA": "US",
    "U.S.A.": "US",
    "U.S.": "US",
    "UNITED STATES OF AMERICA": "US",
    "UK": "GB",
    "ENGLAND": "GB",
    "DEUTSCHLAND": "DE",
    "ÖSTERREICH": "AT",
    "SCHWEIZ": "CH",
    "ITALIA": "IT",
    "DANMARK": "DK",
    "MAGYARORSZÁG": "HU",
    "ESPAÑA": "ES",
}


def notes(record: Mapping[str, Any]) -> dict[str, Any]:
    """The connector's annotations of a native record (empty when it has none)."""
    found = record.get(NOTES)
    return dict(found) if isinstance(found, Mapping) else {}


def split(record: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(what QuickBooks may see, the annotations)``."""
    return {k: v for k, v in record.items() if k != NOTES}, notes(record)


def ref(value: Any) -> str | None:
    """The id in a ``{"value": "12", "name": ...}`` reference."""
    if isinstance(value, Mapping):
        return text(value.get("value"))
    return None


def make_ref(id: str | None) -> dict[str, str] | None:
    return None if id is None else {"value": id}


def nested(record: Mapping[str, Any], key: str, field: str) -> str | None:
    """``record[key][field]`` as text: ``PrimaryEmailAddr.Address``, ``Mobile.FreeFormNumber``."""
    inner = record.get(key)
    return text(inner.get(field)) if isinstance(inner, Mapping) else None


def decimal(value: Any) -> Decimal | None:
    """A JSON number as Decimal (the API client already parsed non-integers as Decimal)."""
    if value is None or isinstance(value, bool):
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def instant(value: Any) -> datetime | None:
    """``MetaData.LastUpdatedTime`` and friends: ISO 8601 with the company's offset."""
    value = text(value)
    return None if value is None else datetime.fromisoformat(value)


def updated_at(record: Mapping[str, Any]) -> datetime | None:
    meta = record.get("MetaData")
    return instant(meta.get("LastUpdatedTime")) if isinstance(meta, Mapping) else None


def country_code(value: Any) -> str | None:
    """ISO 3166 alpha-2 for what QuickBooks holds (free text: "USA", "Germany", "DE").

    None when it cannot be told: the canonical models accept ISO codes only, and a guess
    would be worse than a blank.
    """
    name = text(value)
    if name is None:
        return None
    upper = name.upper()
    if upper in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[upper]
    countries = pycountry.countries
    found = (
        countries.get(alpha_2=upper)
        or countries.get(alpha_3=upper)
        or countries.get(name=name)
        or countries.get(official_name=name)
        or countries.get(common_name=name)
    )
    if found is not None:
        return str(found.alpha_2)
    return None


def compact(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` without the keys whose value is None (QuickBooks reads absent as unset)."""
    return {k: v for k, v in record.items() if v is not None}
