"""Native <-> canonical: {{ cookiecutter.system_title }} JSON objects and syncbridge's models.

A native record is the API's JSON object exactly as it arrives (``fetch`` passes it on
untouched), so the engine can store it with a failure and a person can see what the system
really sent. Mapping in goes through the canonical model's validation: a bad value raises
pydantic's ``ValidationError`` naming the field, and the engine reports that one record and
goes on. Mapping out writes only fields the API accepts on a create or update (never ``id``
or the timestamps, which are the API's own).

The ``*_FIELDS`` sets are the canonical fields each entity maps: the connector declares them
(``EntityInfo.fields``), so the engine never blanks a field on the other side because this
system has no place for it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from syncbridge import CanonicalRecord, ConnectorError, NativeRecord
from syncbridge.models import Company, Product

COMPANY_FIELDS = frozenset(
    {
        "name",
        "vat_number",
        "email",
        "phone",
        "address",
        "postal_code",
        "city",
        "province",
        "country",
        "currency",
    }
)
PRODUCT_FIELDS = frozenset({"name", "code", "description", "price", "currency", "unit"})


def _native_id(native: NativeRecord) -> str:
    value = native.get("id")
    if value is None:
        # ValueError, not KeyError: the engine reports ValueErrors per record and goes on
        raise ValueError("the record has no id")
    return str(value)


def _money(value: Decimal | None) -> str | None:
    """Money as the API writes it: a decimal string, so no float ever rounds it."""
    return None if value is None else format(value, "f")


def company_in(native: NativeRecord) -> Company:
    address: dict[str, Any] = native.get("address") or {}
    return Company.model_validate(
        {
            "id": _native_id(native),
            "updated_at": native.get("updated_at"),
            "name": native.get("name"),
            "vat_number": native.get("vat_number"),
            "email": native.get("email"),
            "phone": native.get("phone"),
            "address": address.get("street"),
            "postal_code": address.get("postcode"),
            "city": address.get("city"),
            "province": address.get("region"),
            "country": address.get("country"),
            "currency": native.get("currency"),
        }
    )


def company_out(record: Company) -> NativeRecord:
    return {
        "name": record.name,
        "vat_number": record.vat_number,
        "email": record.email,
        "phone": record.phone,
        "address": {
            "street": record.address,
            "postcode": record.postal_code,
            "city": record.city,
            "region": record.province,
            "country": record.country,
        },
        "currency": record.currency,
    }


def product_in(native: NativeRecord) -> Product:
    return Product.model_validate(
        {
            "id": _native_id(native),
            "updated_at": native.get("updated_at"),
            "name": native.get("name"),
            "code": native.get("sku"),
            "description": native.get("description"),
            # a decimal string: the model turns it into a Decimal without a float in between
            "price": native.get("price"),
            "currency": native.get("currency"),
            "unit": native.get("unit"),
        }
    )


def product_out(record: Product) -> NativeRecord:
    return {
        "name": record.name,
        "sku": record.code,
        "description": record.description,
        "price": _money(record.price),
        "currency": record.currency,
        "unit": record.unit,
    }


_IN: dict[str, Callable[[NativeRecord], CanonicalRecord]] = {
    "company": company_in,
    "product": product_in,
}


def to_canonical(entity: str, native: NativeRecord) -> CanonicalRecord:
    """``map(entity, native, "in")``."""
    if entity not in _IN:
        raise ConnectorError(f"{{ cookiecutter.connector_name }} cannot map {entity!r}")
    return _IN[entity](native)


def to_native(entity: str, record: CanonicalRecord) -> NativeRecord:
    """``map(entity, record, "out")``."""
    if entity == "company" and isinstance(record, Company):
        return company_out(record)
    if entity == "product" and isinstance(record, Product):
        return product_out(record)
    kind = type(record).__name__
    raise ConnectorError(f"{{ cookiecutter.connector_name }} cannot map a {kind} out as {entity!r}")
