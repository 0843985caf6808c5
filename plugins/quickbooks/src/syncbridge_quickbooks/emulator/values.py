"""Values shared by the emulated books and their rules: time, money, references.

The emulated company keeps its books in US dollars in the Pacific time zone; its timestamps
are shown to the second with the company's offset, as QuickBooks shows them, and its amounts
are ``Decimal`` rounded half up to cents, as QuickBooks rounds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from syncbridge_quickbooks.emulator import faults

#: the company's time zone (Pacific standard time, as a fixed offset: no daylight saving)
TZ = timezone(timedelta(hours=-8))
HOME_CURRENCY = "USD"
#: exchange rates to the home currency, used for ``ExchangeRate`` and ``HomeTotalAmt``
EXCHANGE_RATES = {"USD": Decimal(1), "EUR": Decimal("1.0850"), "GBP": Decimal("1.2700")}
CENT = Decimal("0.01")


def stamp(moment: datetime) -> str:
    """An instant as QuickBooks writes it: whole seconds in the company's offset."""
    return moment.astimezone(TZ).isoformat(timespec="seconds")


def money(value: Any) -> Decimal:
    """Two decimals, rounded half up, as QuickBooks rounds amounts."""
    return number(value).quantize(CENT, ROUND_HALF_UP)


def number(value: Any, element: str = "amount") -> Decimal:
    if isinstance(value, bool) or value is None:
        raise faults.invalid_value(element, f"{element} must be a number, not {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise faults.invalid_value(element, f"{element} must be a number, not {value!r}") from None


def as_date(value: Any, element: str) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise faults.invalid_value(
            element, f"{element} must be a date as YYYY-MM-DD, not {value!r}"
        ) from None


def ref(value: Any) -> str | None:
    """The id of a ``{"value": ...}`` reference (or of a bare string), or None."""
    if isinstance(value, Mapping):
        value = value.get("value")
    return None if value in (None, "") else str(value)


def int_id(id: Any) -> int | None:
    try:
        return int(str(id))
    except ValueError:
        return None
