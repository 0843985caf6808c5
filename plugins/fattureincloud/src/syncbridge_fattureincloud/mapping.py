"""Fatture in Cloud records <-> canonical records: clients, products and reference data.

Documents (quotes, orders, invoices) are in :mod:`syncbridge_fattureincloud.documents`.

Two rules of the CRM in Cloud integration live here, as map-in refusals the engine reports
per record with the reason (and never half-writes):

- a product without a code is not synced: ``NotSyncable: no product code``;
- a client whose record holds no saved data is not synced. "No saved data" is defined from
  the spec: ``name`` is the only field a client must have, so a client whose name is empty
  (records the API lists with ``name: null``, left by imports and older versions) holds no
  saved data: ``NotSyncable: no saved data ...``.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pycountry

from syncbridge.errors import SkipRecord
from syncbridge.mapping import text
from syncbridge.models import (
    CanonicalRecord,
    Company,
    Currency,
    PaymentMethod,
    Product,
    Unit,
    VatRate,
)
from syncbridge.records import NativeRecord

#: Fatture in Cloud timestamps are Italian local time without a zone
ROME = ZoneInfo("Europe/Rome")
_MONEY = Decimal("0.000001")
_PERCENT = Decimal("0.0001")

#: string fields an update may clear (sent as "", since the spec has no null for them)
CLEARABLE: dict[str, frozenset[str]] = {
    "company": frozenset(
        {
            "address_street",
            "address_postal_code",
            "address_city",
            "address_province",
            "email",
            "phone",
            "vat_number",
            "tax_code",
            "notes",
            "country",
            "country_iso",
        }
    ),
    "product": frozenset({"code", "notes", "category", "measure"}),
}


class NotSyncable(SkipRecord):
    """A record the integration deliberately leaves out; the message is the reason.

    A :class:`syncbridge.errors.SkipRecord`: the engine reports the record as skipped with
    the reason and does not retry it until it changes.
    """


def parse_time(value: Any) -> datetime | None:
    """``"2024-01-02 10:00:00"`` (Italian time) as an aware datetime."""
    if not value or not isinstance(value, str):
        return None
    parsed = datetime.fromisoformat(value)  # takes the API's space-separated form too
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=ROME)


def money(value: Any) -> Decimal | None:
    """A JSON number as Decimal, without float noise (the API sends floats)."""
    if value is None or value == "":
        return None
    return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(_MONEY)


def percent(value: Any) -> Decimal | None:
    number = money(value)
    return None if number is None else number.quantize(_PERCENT)


def number_out(value: Decimal | None) -> float | None:
    """Money for the API: a JSON number (the API has no decimal strings)."""
    return None if value is None else float(value)


def ref(value: Any) -> str | None:
    """A native integer id as a canonical reference (``"12"``), None when absent."""
    return None if value is None or value == "" else str(value)


def native_id(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a Fatture in Cloud id (an integer)") from None


# -- countries: the API speaks Italian country names ("Italia"), plus country_iso ------------


@cache
def _italian_names() -> dict[str, str]:
    italian = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["it"])
    return {country.alpha_2: italian.gettext(country.name) for country in pycountry.countries}


@cache
def _codes_by_name() -> dict[str, str]:
    return {name.casefold(): code for code, name in _italian_names().items()}


def country_in(native: NativeRecord) -> str | None:
    """ISO code from ``country_iso``, else from the Italian name; Italy when neither is set
    (the API's default country is "Italia")."""
    iso = text(native.get("country_iso"))
    if iso:
        return iso.upper()
    name = text(native.get("country"))
    if name is None:
        return "IT"
    return _codes_by_name().get(name.casefold())


def country_out(code: str | None) -> str | None:
    return None if code is None else _italian_names().get(code, code)


def vat_out(vat: str | None, country: str | None) -> str | None:
    """Italian VAT numbers are kept without the ``IT`` prefix, as Fatture in Cloud shows them."""
    if vat and vat.startswith("IT") and (country or "IT") == "IT":
        return vat[2:]
    return vat


# -- clients ----------------------------------------------------------------------------------


def company_in(native: NativeRecord) -> Company:
    name = text(native.get("name"))
    if name is None:
        raise NotSyncable(
            "no saved data: the client record has no name, the one field Fatture in Cloud "
            "requires; complete it in Fatture in Cloud to sync it"
        )
    return Company(
        id=ref(native.get("id")),
        updated_at=parse_time(native.get("updated_at")),
        name=name,
        country=country_in(native),
        address=native.get("address_street"),
        postal_code=native.get("address_postal_code"),
        city=native.get("address_city"),
        province=native.get("address_province"),
        email=native.get("email"),
        phone=native.get("phone"),
        vat_number=native.get("vat_number"),
        tax_code=native.get("tax_code"),
        notes=native.get("notes"),
    )


def company_out(record: Company) -> NativeRecord:
    return {
        "name": record.name,
        "vat_number": vat_out(record.vat_number, record.country),
        "tax_code": record.tax_code,
        "address_street": record.address,
        "address_postal_code": record.postal_code,
        "address_city": record.city,
        "address_province": record.province,
        "country": country_out(record.country),
        "country_iso": record.country,
        "email": record.email,
        "phone": record.phone,
        "notes": record.notes,
    }


COMPANY_FIELDS = frozenset(
    {
        "name",
        "country",
        "address",
        "postal_code",
        "city",
        "province",
        "email",
        "phone",
        "vat_number",
        "tax_code",
        "notes",
    }
)

# -- products ---------------------------------------------------------------------------------

#: canonical field -> the native keys ``*_out`` writes it to, per entity: an update sends only
#: the keys of its changed fields (Fatture in Cloud's PUT modifies the fields it is given), so
#: a field someone edits in Fatture in Cloud while a run writes another is not written back
#: with the value the run read
NATIVE_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "company": {
        "name": ("name",),
        "vat_number": ("vat_number",),
        "tax_code": ("tax_code",),
        "address": ("address_street",),
        "postal_code": ("address_postal_code",),
        "city": ("address_city",),
        "province": ("address_province",),
        "country": ("country", "country_iso", "vat_number"),
        "email": ("email",),
        "phone": ("phone",),
        "notes": ("notes",),
    },
    "product": {
        "name": ("name",),
        "code": ("code",),
        "description": ("notes",),
        "category": ("category",),
        "price": ("net_price",),
        "cost": ("net_cost",),
        "unit": ("measure",),
        "unit_id": ("measure",),
        "vat_rate_id": ("default_vat",),
    },
}


def product_in(native: NativeRecord) -> Product:
    code = text(native.get("code"))
    if code is None:
        raise NotSyncable("no product code")
    vat = native.get("default_vat") or {}
    measure = text(native.get("measure"))
    return Product(
        id=ref(native.get("id")),
        updated_at=parse_time(native.get("updated_at")),
        name=native.get("name"),
        code=code,
        description=native.get("notes"),
        category=native.get("category"),
        price=money(native.get("net_price")),
        cost=money(native.get("net_cost")),
        vat_rate_id=ref(vat.get("id")) if isinstance(vat, dict) else None,
        unit_id=measure,
        unit=measure,
    )


def product_out(record: Product) -> NativeRecord:
    if not record.code:
        raise NotSyncable("no product code")
    vat_id = native_id(record.vat_rate_id)
    return {
        "name": record.name,
        "code": record.code,
        "notes": record.description,
        "category": record.category,
        "net_price": number_out(record.price),
        "net_cost": number_out(record.cost),
        "measure": record.unit_id or record.unit,
        "default_vat": None if vat_id is None else {"id": vat_id},
    }


PRODUCT_FIELDS = frozenset(
    {"name", "code", "description", "category", "price", "cost", "vat_rate_id", "unit_id", "unit"}
)

# -- reference data (read-only through syncbridge) --------------------------------------------


def vat_rate_in(native: NativeRecord) -> VatRate:
    value = percent(native.get("value"))
    nature = text(native.get("ei_type"))
    return VatRate(
        id=ref(native.get("id")),
        rate=value if value is not None else Decimal(0),
        description=native.get("notes"),
        exemption_code=nature if value == 0 else None,
    )


def vat_rate_out(record: VatRate) -> NativeRecord:
    return {
        "value": number_out(record.rate),
        "notes": record.description,
        "ei_type": record.exemption_code,
    }


def currency_in(native: NativeRecord) -> Currency:
    rate = money(native.get("exchange_rate"))
    return Currency(
        id=text(native.get("id")),
        code=str(native.get("id")),
        symbol=native.get("symbol"),
        exchange_rate=rate if rate is not None and rate > 0 else None,
    )


def currency_out(record: Currency) -> NativeRecord:
    return {
        "id": record.code,
        "symbol": record.symbol,
        "exchange_rate": None if record.exchange_rate is None else f"{record.exchange_rate:.5f}",
    }


def payment_method_in(native: NativeRecord) -> PaymentMethod:
    """The method's IBAN is its own, else its default payment account's (where accounts fit
    the canonical model: the account a method pays into)."""
    account = native.get("default_payment_account") or {}
    iban = native.get("bank_iban") or (account.get("iban") if isinstance(account, dict) else None)
    return PaymentMethod(
        id=ref(native.get("id")), name=native.get("name"), type=native.get("type"), iban=iban
    )


def payment_method_out(record: PaymentMethod) -> NativeRecord:
    return {"name": record.name, "type": record.type or "standard", "bank_iban": record.iban}


def unit_in(native: NativeRecord) -> Unit:
    """Units are plain strings in the API; :func:`connector.fetch` wraps each as a record."""
    return Unit(id=str(native["id"]), name=str(native["name"]))


def unit_out(record: Unit) -> NativeRecord:
    return {"id": record.name, "name": record.name}


MAP_IN: dict[str, Callable[[NativeRecord], CanonicalRecord]] = {
    "company": company_in,
    "product": product_in,
    "vat_rate": vat_rate_in,
    "currency": currency_in,
    "payment_method": payment_method_in,
    "unit": unit_in,
}
MAP_OUT: dict[str, Callable[[Any], NativeRecord]] = {
    "company": company_out,
    "product": product_out,
    "vat_rate": vat_rate_out,
    "currency": currency_out,
    "payment_method": payment_method_out,
    "unit": unit_out,
}
