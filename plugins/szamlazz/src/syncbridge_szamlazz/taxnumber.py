"""Hungarian tax numbers (adószám): validated and written as the Agent prints them.

A Hungarian tax number is ``12345678-1-23``: the 8-digit *törzsszám* (with a check digit,
``stdnum.hu.anum`` validates it), the VAT status digit and the county code. Buyers are sent
with the full form; an EU VAT number (``HU12345678``) goes in ``adoszamEU`` instead.
"""

from __future__ import annotations

import re

from stdnum.exceptions import ValidationError
from stdnum.hu import anum

_FULL = re.compile(r"^(\d{8})-?(\d)-?(\d{2})$")


def normalise(value: str) -> str:
    """``value`` as ``12345678-1-23``; ValueError naming the field and the fix otherwise."""
    compact = re.sub(r"[\s.]", "", value)
    match = _FULL.match(compact)
    if match is None:
        raise ValueError(
            f"adoszam: {value!r} is not a Hungarian tax number; write it as 12345678-1-23 "
            "(an EU VAT number such as HU12345678 belongs in the EU tax number)"
        )
    core, status, county = match.groups()
    try:
        anum.validate(core)
    except ValidationError as error:
        raise ValueError(
            f"adoszam: {value!r} has an invalid törzsszám {core} ({error}); check the number"
        ) from None
    return f"{core}-{status}-{county}"


def normalise_eu(value: str) -> str:
    """A Hungarian EU VAT number as ``HU12345678``; ValueError otherwise."""
    try:
        return "HU" + anum.validate(value)
    except ValidationError as error:
        raise ValueError(
            f"adoszamEU: {value!r} is not a valid Hungarian EU VAT number ({error}); "
            "write it as HU12345678"
        ) from None
