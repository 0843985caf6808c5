"""Value conversions between CRM in Cloud JSON and canonical fields, shared by the mappings.

The API's conventions in one place: ``emails``/``phones`` as arrays of ``{"value"}``, id
references where 0 and null both mean none, dates as ``2024-03-01T00:00:00``, and VAT numbers
in national form beside the country (``state``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from syncbridge.mapping import text
from syncbridge.records import NativeRecord

#: the country a VAT number without prefix or ``state`` is taken to belong to (assumption A4)
HOME_COUNTRY = "IT"


def first_value(values: Any) -> str | None:
    """The first non-blank ``value`` of an ``emails``/``phones`` array."""
    if not isinstance(values, list):
        return None
    for entry in values:
        found = text(entry.get("value") if isinstance(entry, dict) else entry)
        if found is not None:
            return found
    return None


def values_of(value: str | None) -> list[dict[str, Any]]:
    """One canonical value as an ``emails``/``phones`` array."""
    return [{"value": value}] if value else []


def ref_in(value: Any) -> str | None:
    """A native id reference: 0 and null both mean "none" (the API's ints default to 0)."""
    if value in (None, 0, "0", ""):
        return None
    return str(value)


def ref_out(value: str | None) -> int | None:
    """A canonical reference (already this system's id) as the API's integer."""
    return None if value is None else int(value)


def country(value: Any) -> str | None:
    """``state``: an ISO 3166 code (assumption A3); the canonical model validates it."""
    code = text(value)
    return code.upper() if code else None


def vat_in(value: Any, country_code: str | None) -> str | None:
    """``vatId`` for the canonical model, which prefixes it with ``country_code``.

    Without a prefix or a country, the number is taken as Italian.
    """
    number = text(value)
    if number is None:
        return None
    if not number[:2].isalpha() and country_code is None:
        return HOME_COUNTRY + number
    return number


def vat_out(value: str | None, country_code: str | None) -> str | None:
    """A normalised VAT number in the CRM's national form when it is of the record's country."""
    if value is None:
        return None
    prefix = value[:2]
    if country_code and (prefix == country_code or (prefix, country_code) == ("EL", "GR")):
        return value[2:]
    return value


def day_in(value: Any) -> Any:
    """``2024-03-01`` or ``2024-03-01T00:00:00`` (.NET's rendering of a date) as a date."""
    if isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        return value[:10]
    return value


def day_out(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def modified(native: NativeRecord) -> Any:
    """``lastModifiedDate``, which becomes the canonical ``updated_at``."""
    return native.get("lastModifiedDate") or None
