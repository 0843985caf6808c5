"""The records of the emulated CRM: ids, rendering, validation, inventory totals.

Records are kept as the API renders them: every value a string (vtiger answers ``"0"``, never
``0``), reference fields as composite ids ``<prefix>x<crmid>``, money with eight decimals and
quantities with three (the database's ``decimal(25,8)`` and ``decimal(25,3)``), times as
``YYYY-MM-DD HH:MM:SS`` in UTC. Crmids are global across modules (``vtiger_crmentity``), so
``11x5`` and ``12x5`` never both exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from syncbridge_simplycrm.emulator.modules import BY_PREFIX, MODULES, Module

_ID = re.compile(r"^(\d+)x(\d+)$")
MONEY = Decimal("0.00000001")
QUANTITY = Decimal("0.001")
_MONEY_TYPES = {"currency"}
_NUMBER_TYPES = {"double"}


class ApiError(Exception):
    """An error the API answers in its envelope: ``{success: false, error: {code, message}}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


DENIED = "Permission to perform the operation is denied"


def denied() -> ApiError:
    return ApiError("ACCESS_DENIED", DENIED)


@dataclass(frozen=True)
class WsId:
    prefix: int
    crmid: int

    def __str__(self) -> str:
        return f"{self.prefix}x{self.crmid}"

    @classmethod
    def parse(cls, text: Any) -> WsId:
        found = _ID.match(str(text or "").strip())
        if found is None:
            raise ApiError("INVALID_ID_ATTRIBUTE", "Id specified is incorrect")
        return cls(int(found.group(1)), int(found.group(2)))

    @property
    def module(self) -> Module:
        module = BY_PREFIX.get(self.prefix)
        if module is None:
            raise denied()
        return module


def stamp(moment: datetime) -> str:
    """An instant as vtiger writes it: UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def decimal(value: Any, places: Decimal = MONEY) -> str:
    """A number as the database renders it; empty for no value, the text kept if no number."""
    if value is None or str(value).strip() == "":
        return ""
    try:
        return format(Decimal(str(value).strip()).quantize(places), "f")
    except InvalidOperation:
        return str(value)


def number(value: Any) -> Decimal:
    try:
        return Decimal(str(value).strip() or "0")
    except InvalidOperation:
        return Decimal(0)


def normalise(module: Module, element: dict[str, Any]) -> dict[str, str]:
    """``element``'s known fields as the database stores them (unknown keys are dropped, as
    vtiger drops them)."""
    stored: dict[str, str] = {}
    for name, value in element.items():
        field = module.field(name)
        if field is None or not field.editable:
            continue
        if field.type in _MONEY_TYPES:
            stored[name] = decimal(value)
        elif field.type in _NUMBER_TYPES:
            stored[name] = decimal(value, QUANTITY)
        elif field.type == "boolean":
            stored[name] = "1" if str(value).lower() in ("1", "true", "on", "yes") else "0"
        else:
            stored[name] = "" if value is None else str(value)
    return stored


def line_total(line: dict[str, str]) -> tuple[Decimal, Decimal]:
    """A line's net amount (after its discount) and its tax."""
    gross = number(line.get("quantity")) * number(line.get("listprice"))
    if str(line.get("discount_percent", "")).strip():
        net = gross - gross * number(line["discount_percent"]) / 100
    else:
        net = gross - number(line.get("discount_amount"))
    tax = net * number(line.get("tax1")) / 100
    return net, tax


def totals(record: dict[str, str], lines: list[dict[str, str]]) -> dict[str, str]:
    """The inventory totals vtiger computes on save (individual tax mode: tax per line)."""
    net = sum((line_total(line)[0] for line in lines), Decimal(0))
    tax = sum((line_total(line)[1] for line in lines), Decimal(0))
    if str(record.get("hdnDiscountPercent", "")).strip():
        discount = net * number(record["hdnDiscountPercent"]) / 100
    else:
        discount = number(record.get("hdnDiscountAmount"))
    shipping = number(record.get("hdnS_H_Amount"))
    grand = net + tax - discount + shipping
    received = number(record.get("received"))
    return {
        "hdnSubTotal": decimal(net + tax),
        "pre_tax_total": decimal(net - discount + shipping),
        "hdnGrandTotal": decimal(grand),
        "received": decimal(received),
        "balance": decimal(grand - received),
    }


def module_named(name: Any) -> Module:
    module = MODULES.get(str(name or ""))
    if module is None:
        raise denied()
    return module
