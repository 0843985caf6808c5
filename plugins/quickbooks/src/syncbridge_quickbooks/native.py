"""Small readers and writers of QuickBooks' JSON shapes, shared by the mapping modules.

It also says what a record's *context* holds (``Page.context``, ``UpsertItem.context``,
``UpsertResult.context``): the facts ``map`` needs that a single QuickBooks object does not
carry. A native record itself holds only what QuickBooks holds, so nothing has to be
stripped before a write (the emulator, like the real service, refuses unknown properties).

``customer``
    ``"company"`` or ``"contact"``: what a document's or payment's ``CustomerRef`` points
    at. ``fetch`` looks it up; ``map`` out notes it from ``company_id``/``contact_id``.
``parent``
    the same for a contact's ``ParentRef`` (``"company"``: the contact's ``company_id``).
``tax_rates``
    ``{tax code id: percent}`` of the codes a document's lines name (``fetch``).
``rate``
    a tax code's percentage, the sum of its sales rates (``fetch`` of ``vat_rate``).
``vat_percents``
    the VAT percentage of each line, by position in ``Line`` (``map`` out): ``upsert``
    writes each sales line with the tax code of its percentage, ``map`` in reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import pycountry

from syncbridge.mapping import text

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
