"""The old-style CRM methods: ``crm.contact``, ``crm.company``, ``crm.product``, ``crm.vat``,
``crm.currency`` and ``crm.measure``, ``.list|get|add|update|delete``.

They share one shape (UPPER_CASE fields, every value a string, ``"ID": "75"``), so one class
serves them all from a description per entity. What each refuses (a contact without any name,
a company without a title, ...) is that description's ``validate``.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from syncbridge.emulator import Record, Store, Table
from syncbridge_bitrix24.emulator.calls import Handler, MethodError, Reply
from syncbridge_bitrix24.emulator.listing import (
    Kind,
    as_list,
    as_map,
    matches,
    ordered,
    selected,
    window,
)

#: the multi-fields of contacts and companies (never part of ``select *``)
MULTI = ("PHONE", "EMAIL", "WEB", "IM")

_ADDRESS: dict[str, Kind] = {
    "ADDRESS": "text",
    "ADDRESS_2": "text",
    "ADDRESS_CITY": "text",
    "ADDRESS_POSTAL_CODE": "text",
    "ADDRESS_REGION": "text",
    "ADDRESS_PROVINCE": "text",
    "ADDRESS_COUNTRY": "text",
    "ADDRESS_COUNTRY_CODE": "text",
}
_OWNERSHIP: dict[str, Kind] = {
    "OPENED": "text",
    "ASSIGNED_BY_ID": "int",
    "CREATED_BY_ID": "int",
    "MODIFY_BY_ID": "int",
    "DATE_CREATE": "datetime",
    "DATE_MODIFY": "datetime",
    "LEAD_ID": "int",
    "ORIGINATOR_ID": "text",
    "ORIGIN_ID": "text",
    "HAS_PHONE": "text",
    "HAS_EMAIL": "text",
}

Validator = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True)
class OldEntity:
    """One old-style entity: its table, standard fields, and what the portal refuses."""

    prefix: str
    table: str
    fields: dict[str, Kind]
    id_field: str = "ID"
    multi: tuple[str, ...] = ()
    created: str | None = None
    modified: str | None = None
    read_only: frozenset[str] = frozenset(
        {"CREATED_BY_ID", "MODIFY_BY_ID", "HAS_PHONE", "HAS_EMAIL"}
    )
    writable: bool = True
    validate: Validator = field(default=lambda _record: None)

    @property
    def kinds(self) -> dict[str, Kind]:
        return {**self.fields, **{name: "multi" for name in self.multi}}


def _required(*names: str, message: str) -> Validator:
    def check(record: Mapping[str, Any]) -> None:
        if not any(str(record.get(name) or "").strip() for name in names):
            raise MethodError("", message)

    return check


def _number(name: str, low: Decimal | None = None, high: Decimal | None = None) -> Validator:
    def check(record: Mapping[str, Any]) -> None:
        value = record.get(name)
        if value in (None, ""):
            return
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise MethodError("", f'The field "{name}" must be a number.') from None
        if (low is not None and number < low) or (high is not None and number > high):
            raise MethodError("", f'The field "{name}" is out of range.')

    return check


def _all(*checks: Validator) -> Validator:
    def check(record: Mapping[str, Any]) -> None:
        for one in checks:
            one(record)

    return check


CONTACT = OldEntity(
    prefix="crm.contact",
    table="contacts",
    fields={
        "ID": "int",
        "HONORIFIC": "text",
        "NAME": "text",
        "SECOND_NAME": "text",
        "LAST_NAME": "text",
        "BIRTHDATE": "date",
        "TYPE_ID": "text",
        "SOURCE_ID": "text",
        "POST": "text",
        "COMMENTS": "text",
        "EXPORT": "text",
        "COMPANY_ID": "int",
        **_ADDRESS,
        **_OWNERSHIP,
    },
    multi=MULTI,
    created="DATE_CREATE",
    modified="DATE_MODIFY",
    validate=_required(
        "NAME",
        "LAST_NAME",
        "SECOND_NAME",
        message='One of the fields "First name", "Second name" or "Last name" must be filled in.',
    ),
)

COMPANY = OldEntity(
    prefix="crm.company",
    table="companies",
    fields={
        "ID": "int",
        "TITLE": "text",
        "COMPANY_TYPE": "text",
        "INDUSTRY": "text",
        "EMPLOYEES": "text",
        "CURRENCY_ID": "text",
        "REVENUE": "number",
        "BANKING_DETAILS": "text",
        "COMMENTS": "text",
        "IS_MY_COMPANY": "text",
        **_ADDRESS,
        **_OWNERSHIP,
    },
    multi=MULTI,
    created="DATE_CREATE",
    modified="DATE_MODIFY",
    validate=_all(
        _required("TITLE", message='The "Company name" field is required.'), _number("REVENUE")
    ),
)

PRODUCT = OldEntity(
    prefix="crm.product",
    table="products",
    fields={
        "ID": "int",
        "NAME": "text",
        "ACTIVE": "text",
        "PRICE": "number",
        "CURRENCY_ID": "text",
        "VAT_ID": "int",
        "VAT_INCLUDED": "text",
        "MEASURE": "int",
        "SECTION_ID": "int",
        "CATALOG_ID": "int",
        "DESCRIPTION": "text",
        "DESCRIPTION_TYPE": "text",
        "XML_ID": "text",
        "SORT": "int",
        "TIMESTAMP_X": "datetime",
        "DATE_CREATE": "datetime",
        "MODIFIED_BY": "int",
        "CREATED_BY": "int",
    },
    created="DATE_CREATE",
    modified="TIMESTAMP_X",
    read_only=frozenset({"MODIFIED_BY", "CREATED_BY"}),
    validate=_all(_required("NAME", message='The "Name" field is required.'), _number("PRICE")),
)

VAT = OldEntity(
    prefix="crm.vat",
    table="vat_rates",
    fields={
        "ID": "int",
        "TIMESTAMP_X": "datetime",
        "ACTIVE": "text",
        "C_SORT": "int",
        "NAME": "text",
        "RATE": "number",
    },
    modified="TIMESTAMP_X",
    validate=_all(
        _required("NAME", message='The "Name" field is required.'),
        _number("RATE", Decimal(0), Decimal(100)),
    ),
)

CURRENCY = OldEntity(
    prefix="crm.currency",
    table="currencies",
    id_field="CURRENCY",
    fields={
        "CURRENCY": "text",
        "AMOUNT_CNT": "int",
        "AMOUNT": "number",
        "SORT": "int",
        "BASE": "text",
        "FULL_NAME": "text",
        "LID": "text",
        "FORMAT_STRING": "text",
        "DECIMALS": "int",
        "DATE_UPDATE": "datetime",
    },
    modified="DATE_UPDATE",
    read_only=frozenset({"BASE"}),
    validate=_all(
        _number("AMOUNT_CNT", Decimal(1)),
        _number("AMOUNT", Decimal("0.000001")),
        _required("AMOUNT", message='The "Exchange rate" field is required.'),
        _required("AMOUNT_CNT", message='The "Nominal" field is required.'),
    ),
)

MEASURE = OldEntity(
    prefix="crm.measure",
    table="measures",
    fields={
        "ID": "int",
        "CODE": "int",
        "MEASURE_TITLE": "text",
        "SYMBOL_RUS": "text",
        "SYMBOL_INTL": "text",
        "SYMBOL_LETTER_INTL": "text",
        "IS_DEFAULT": "text",
    },
    writable=False,
)

ENTITIES = (CONTACT, COMPANY, PRODUCT, VAT, CURRENCY, MEASURE)

_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


def scalar(value: Any) -> str | None:
    """A value as an old-style method stores it: text, ``Y``/``N`` for booleans."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | dict):
        raise MethodError("", "a list was given where a single value is expected")
    text = str(value)
    return text if text.strip() else None


class OldStyle:
    """The handlers of the old-style methods over the emulator's store."""

    def __init__(self, store: Store, render_time: Callable[[datetime], str]) -> None:
        self.store = store
        self.when = render_time
        self._multi_ids = itertools.count(1)

    def table(self, entity: OldEntity) -> Table:
        return self.store.table(entity.table, id_field="_id" if entity is CURRENCY else "ID")

    def methods(self) -> dict[str, Handler]:
        """``<prefix>.<action>`` -> handler, for every entity and what it allows."""
        found: dict[str, Handler] = {}
        for entity in ENTITIES:
            actions: dict[str, Callable[[OldEntity, Mapping[str, Any]], Reply]] = {
                "list": self.list_records,
                "get": self.get_record,
            }
            if entity.writable:
                actions.update(add=self.add_record, update=self.update_record)
                if entity is not CURRENCY:
                    actions["delete"] = self.delete_record
            for action, handler in actions.items():
                found[f"{entity.prefix}.{action}"] = functools.partial(handler, entity)
        return found

    # -- reading --------------------------------------------------------------------------
    def render(self, entity: OldEntity, row: Record) -> dict[str, Any]:
        """A stored row as the method returns it (every standard field, multi-fields too)."""
        out: dict[str, Any] = {name: row.get(name) for name in entity.fields}
        if entity is not CURRENCY:
            out["ID"] = str(row["ID"])
        if entity.created:
            out[entity.created] = self.when(row["created_at"])
        if entity.modified:
            out[entity.modified] = self.when(row["updated_at"])
        for name in entity.multi:
            out[name] = [dict(item) for item in row.get(name) or []]
        if entity.multi:
            out["HAS_PHONE"] = "Y" if out.get("PHONE") else "N"
            out["HAS_EMAIL"] = "Y" if out.get("EMAIL") else "N"
        return out

    def find(self, entity: OldEntity, raw_id: Any) -> Record:
        if entity is CURRENCY:
            code = str(raw_id or "").strip().upper()
            for row in self.table(entity).list():
                if row["CURRENCY"] == code:
                    return row
            raise MethodError("", "Currency is not found.")
        try:
            found = self.table(entity).get(int(str(raw_id)))
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise MethodError("", "Not found")
        return found

    def list_records(self, entity: OldEntity, params: Mapping[str, Any]) -> Reply:
        rows = [self.render(entity, row) for row in self.table(entity).list()]
        kinds = entity.kinds
        rows = [row for row in rows if matches(row, as_map(params.get("filter")), kinds)]
        rows = ordered(rows, as_map(params.get("order")), kinds, entity.id_field)
        page = window(rows, params.get("start"))
        select = [str(name) for name in as_list(params.get("select"))]
        items = [selected(row, select, entity.fields) for row in page.items]
        return Reply(items, page.total, page.next)

    def get_record(self, entity: OldEntity, params: Mapping[str, Any]) -> Reply:
        return Reply(self.render(entity, self.find(entity, params.get("id"))))

    # -- writing --------------------------------------------------------------------------
    def _fields(self, params: Mapping[str, Any]) -> dict[str, Any]:
        fields = params.get("fields")
        if not isinstance(fields, Mapping) or not fields:
            raise MethodError("", "Parameter 'fields' must be array.")
        return {str(name).upper(): value for name, value in fields.items()}

    def _clean(
        self, entity: OldEntity, fields: Mapping[str, Any], current: Record | None
    ) -> dict[str, Any]:
        """The writable fields of ``fields`` as stored; unknown and read-only ones dropped."""
        values: dict[str, Any] = {}
        for name, value in fields.items():
            if name in entity.multi:
                values[name] = self._multi(name, value, (current or {}).get(name) or [])
            elif (
                name in entity.fields
                and name not in entity.read_only
                and name not in {"ID", entity.created, entity.modified}
            ):
                values[name] = scalar(value)
        return values

    def _multi(self, name: str, value: Any, current: list[Any]) -> list[dict[str, Any]]:
        """Apply multi-field entries: with ID overwrite (or DELETE=Y), without ID append."""
        entries = [dict(item) for item in current]
        for raw in as_list(value):
            if not isinstance(raw, Mapping):
                continue
            given = {str(k).upper(): v for k, v in raw.items()}
            if given.get("ID"):
                for entry in entries:
                    if str(entry["ID"]) == str(given["ID"]):
                        if str(given.get("DELETE") or "").upper() == "Y":
                            entries.remove(entry)
                        else:
                            entry["VALUE"] = scalar(given.get("VALUE", entry["VALUE"]))
                            entry["VALUE_TYPE"] = (
                                scalar(given.get("VALUE_TYPE")) or entry["VALUE_TYPE"]
                            )
                        break
                continue
            if scalar(given.get("VALUE")):
                entries.append(
                    {
                        "ID": str(next(self._multi_ids)),
                        "VALUE_TYPE": scalar(given.get("VALUE_TYPE")) or "WORK",
                        "VALUE": scalar(given.get("VALUE")),
                        "TYPE_ID": name,
                    }
                )
        return entries

    def add_record(self, entity: OldEntity, params: Mapping[str, Any]) -> Reply:
        values = self._clean(entity, self._fields(params), None)
        entity.validate(values)
        if entity is CURRENCY:
            code = str(values.get("CURRENCY") or "").upper()
            if not _CURRENCY_CODE.match(code):
                raise MethodError("", "The currency code must be three Latin letters.")
            if any(row["CURRENCY"] == code for row in self.table(entity).list()):
                raise MethodError("", f"Currency {code} already exists.")
            self.table(entity).insert({**values, "CURRENCY": code, "BASE": "N"})
            return Reply(code)
        return Reply(self.table(entity).insert(values)["ID"])

    def update_record(self, entity: OldEntity, params: Mapping[str, Any]) -> Reply:
        row = self.find(entity, params.get("id"))
        values = self._clean(entity, self._fields(params), row)
        if entity is CURRENCY:
            values.pop("CURRENCY", None)  # the code is the id: it never changes
        entity.validate({**row, **values})
        self.table(entity).update(row["_id"] if entity is CURRENCY else row["ID"], values)
        return Reply(True)

    def delete_record(self, entity: OldEntity, params: Mapping[str, Any]) -> Reply:
        row = self.find(entity, params.get("id"))
        self.table(entity).delete(row["ID"])
        return Reply(True)

    def seed(self, entity: OldEntity, values: Mapping[str, Any], **fixed: Any) -> Record:
        """Insert seeded data as the portal would hold it (multi-fields get their ids)."""
        clean = {k: v for k, v in values.items() if k not in entity.multi}
        for name in entity.multi:
            if values.get(name):
                clean[name] = self._multi(name, values[name], [])
        return self.table(entity).insert({**clean, **fixed})
