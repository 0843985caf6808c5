"""Field types shared by the canonical models: money, countries, currencies, percentages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated

import pycountry
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, StringConstraints
from pydantic_core import PydanticCustomError


@lru_cache(maxsize=1024)
def _country(value: str) -> str:
    code = value.strip().upper()
    if code == "UK":
        code = "GB"
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. IT, HU, DK)")
    return code


@lru_cache(maxsize=1024)
def _currency(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. EUR, HUF, DKK)")
    return code


def _no_float(value: object) -> object:
    """Money never passes through float: a float here means precision may already be lost."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _aware(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC, so that every comparison is between aware values."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _blank_to_none(value: str) -> str | None:
    """Blank text is no value. Runs on strings only, once pydantic's core has stripped
    them: a None field costs no Python call, and about half of a record's text fields are
    None (a full read validates every one of them)."""
    return value or None


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_EMAIL = re.compile(
    rf"^(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{2,63}})$"
)
_SPECIAL_USE = tuple(f".{name}" for name in SPECIAL_USE_DOMAIN_NAMES)


@lru_cache(maxsize=65_536)
def _email(value: str) -> str | None:
    """email-validator's check and normal form, cached: a run meets each address 2-3 times
    (read, write, read back) and the check (IDNA on the domain) is the costly part. A blank
    address (stripped by pydantic's core before this) is no address.

    Plain ASCII addresses on an ordinary domain take a fast path with the same result
    (local part kept, domain lower-cased); anything else goes to email-validator.
    """
    if not value:
        return None
    plain = _PLAIN_EMAIL.match(value)
    if plain is not None and len(value) <= 254 and len(plain["local"]) <= 64:
        domain = plain["domain"].lower()
        if "xn--" not in domain and not f".{domain}".endswith(_SPECIAL_USE):
            return f"{plain['local']}@{domain}"
    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as error:
        raise PydanticCustomError(
            "value_error", "value is not a valid email address: {reason}", {"reason": str(error)}
        ) from None


CountryCode = Annotated[str, AfterValidator(_country)]
Email = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_email)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]
#: money and quantities as Decimal, serialised as strings so JSON never rounds them
Money = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(max_digits=18, decimal_places=6),
    PlainSerializer(lambda v: format(v.normalize(), "f"), return_type=str, when_used="json"),
]
Percent = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(ge=0, le=100, decimal_places=4),
    PlainSerializer(lambda v: format(v.normalize(), "f"), return_type=str, when_used="json"),
]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
Text = (
    Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_blank_to_none)]
    | None
)
Date = date
