"""The emulator's model of CRM in Cloud records: fields, validation, rendering.

Each entity has a :class:`Schema`: its writable fields and their kinds. A write is checked the
way the API plausibly checks it (README, assumption A8): required fields, JSON types,
references that must exist, unique catalog codes, quote statuses, and custom fields (``FF_``)
that must be defined on the tenant. Unknown ordinary properties are dropped silently, as
ASP.NET model binding does, so a connector that misspells a field sees its value vanish
rather than stored. ``CreateOrUpdate`` replaces the whole record (assumption A7).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from syncbridge.emulator import BadRequest, Store

TEXT, INT, NUMBER, FLAG, VALUES, DATE, ROWS = (
    "text",
    "int",
    "number",
    "flag",
    "values",
    "date",
    "rows",
)
QUOTE_STATUSES = ("draft", "sent", "accepted", "rejected")

_PARTY = {
    "address": TEXT,
    "city": TEXT,
    "zipCode": TEXT,
    "province": TEXT,
    "state": TEXT,
    "vatId": TEXT,
    "taxIdentificationNumber": TEXT,
    "emails": VALUES,
    "phones": VALUES,
    "webSite": TEXT,
}
_ROW = {
    "catalogId": INT,
    "code": TEXT,
    "description": TEXT,
    "quantity": NUMBER,
    "unitPrice": NUMBER,
    "discount": NUMBER,
    "taxCode": TEXT,
}


@dataclass(frozen=True)
class Schema:
    """One entity: its API name, store table, writable fields and reference fields."""

    name: str
    table: str
    fields: Mapping[str, str]
    #: field -> table the id must exist in
    references: Mapping[str, str] = field(default_factory=dict)
    searchable: bool = True

    @property
    def properties(self) -> frozenset[str]:
        """Everything a ``$filter``/``$orderBy`` may name (custom fields come on top)."""
        return frozenset({"id", "createdDate", "lastModifiedDate", *self.fields})


SCHEMAS: dict[str, Schema] = {
    "company": Schema(
        "Company",
        "company",
        {"companyName": TEXT, "code": TEXT, "description": TEXT, **_PARTY},
    ),
    "contact": Schema(
        "Contact",
        "contact",
        {"name": TEXT, "surname": TEXT, "companyId": INT, **_PARTY},
        references={"companyId": "company"},
    ),
    "catalog": Schema(
        "Catalog",
        "catalog",
        {
            "active": FLAG,
            "code": TEXT,
            "codeEAN": TEXT,
            "productName": TEXT,
            "description": TEXT,
            "price": NUMBER,
            "taxCode": TEXT,
            "category": INT,
        },
        references={"category": "catalogcategories"},
    ),
    "quote": Schema(
        "Quote",
        "quote",
        {
            "companyId": INT,
            "contactId": INT,
            "number": TEXT,
            "date": DATE,
            "expirationDate": DATE,
            "title": TEXT,
            "description": TEXT,
            "status": TEXT,
            "currency": TEXT,
            "rows": ROWS,
        },
        references={"companyId": "company", "contactId": "contact"},
    ),
    "catalogcategories": Schema(
        "CatalogCategories",
        "catalogcategories",
        {"description": TEXT, "parentId": INT},
        references={"parentId": "catalogcategories"},
        searchable=False,
    ),
    "taxvalue": Schema(
        "TaxValue",
        "taxvalue",
        {"taxCode": TEXT, "taxValue": NUMBER, "taxDescription": TEXT, "active": FLAG},
        searchable=False,
    ),
}


def _invalid(path: str, kind: str, value: Any) -> BadRequest:
    names = {
        TEXT: "System.String",
        INT: "System.Int32",
        NUMBER: "System.Decimal",
        FLAG: "System.Int32",
        VALUES: 'a list of {"value": ...} objects',
        DATE: "System.DateTime",
        ROWS: "a list of row objects",
    }
    return BadRequest(
        f"Error converting value {value!r} to type '{names[kind]}'. Path '{path}'.", field=path
    )


def _value(path: str, kind: str, value: Any) -> Any:
    """``value`` checked against ``kind`` and stored form; BadRequest if it does not fit."""
    if value is None:
        return None
    if kind == TEXT:
        if not isinstance(value, str):
            raise _invalid(path, kind, value)
        return value
    if kind in (INT, FLAG):
        if isinstance(value, bool) and kind == FLAG:
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(path, kind, value)
        if kind == FLAG and value not in (0, 1):
            raise _invalid(path, kind, value)
        return value
    if kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(path, kind, value)
        return value
    if kind == DATE:
        try:
            return date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            raise _invalid(path, kind, value) from None
    if kind == VALUES:
        if not isinstance(value, list):
            raise _invalid(path, kind, value)
        entries = []
        for index, entry in enumerate(value):
            if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
                raise _invalid(f"{path}[{index}]", kind, entry)
            entries.append({"value": entry["value"]})
        return entries
    if not isinstance(value, list):
        raise _invalid(path, kind, value)
    rows = []
    for index, row in enumerate(value):
        if not isinstance(row, dict):
            raise _invalid(f"{path}[{index}]", kind, row)
        rows.append(
            {key: _value(f"{path}[{index}].{key}", k, row.get(key)) for key, k in _ROW.items()}
        )
    return rows


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _exists(store: Store, table: str, value: Any) -> bool:
    return value in (None, 0) or store.table(table).get(value) is not None


class Validator:
    """Checks writes against the tenant: its stored records and its custom fields."""

    def __init__(self, store: Store, custom_fields: Collection[str]) -> None:
        self.store = store
        self.custom_fields = {name.casefold(): name for name in custom_fields}

    def clean(self, schema: Schema, body: Mapping[str, Any], record_id: int) -> dict[str, Any]:
        """The record to store for ``body`` (a full replacement), or BadRequest."""
        record: dict[str, Any] = {}
        for name, kind in schema.fields.items():
            record[name] = _value(name, kind, body.get(name))
        for name, value in body.items():
            if not name.casefold().startswith("ff_"):
                continue
            defined = self.custom_fields.get(name.casefold())
            if defined is None or not schema.searchable:
                raise BadRequest(
                    f"The custom field '{name}' does not exist on {schema.name}.", field=name
                )
            record[defined] = _value(name, TEXT, value)
        for name, table in schema.references.items():
            if not _exists(self.store, table, record.get(name)):
                raise BadRequest(
                    f"{name}: there is no {SCHEMAS[table].name} with id {record[name]}.",
                    field=name,
                )
        check = getattr(self, f"_check_{schema.table}", None)
        if check is not None:
            check(record, record_id)
        return record

    def _check_company(self, record: dict[str, Any], record_id: int) -> None:
        if _blank(record["companyName"]):
            raise BadRequest("The companyName field is required.", field="companyName")

    def _check_contact(self, record: dict[str, Any], record_id: int) -> None:
        if _blank(record["name"]) and _blank(record["surname"]):
            raise BadRequest("A contact needs a name or a surname.", field="surname")

    def _check_catalog(self, record: dict[str, Any], record_id: int) -> None:
        if _blank(record["productName"]):
            raise BadRequest("The productName field is required.", field="productName")
        if record["active"] is None:
            record["active"] = 1
        code = record["code"]
        if not _blank(code):
            for other in self.store.table("catalog").list(lambda row: row.get("code") == code):
                if other["id"] != record_id:
                    raise BadRequest(
                        f"The code '{code}' is already used by catalog item {other['id']}.",
                        field="code",
                    )
        self._tax_code("taxCode", record["taxCode"])

    def _check_quote(self, record: dict[str, Any], record_id: int) -> None:
        if record["date"] is None:
            raise BadRequest("The date field is required.", field="date")
        if not record["companyId"] and not record["contactId"]:
            raise BadRequest("A quote needs a companyId or a contactId.", field="companyId")
        status = record["status"] or "draft"
        if status not in QUOTE_STATUSES:
            raise BadRequest(
                f"'{status}' is not a quote status ({', '.join(QUOTE_STATUSES)}).", field="status"
            )
        record["status"] = status
        currency = record["currency"] or "EUR"
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            raise BadRequest(f"'{currency}' is not an ISO 4217 currency code.", field="currency")
        record["currency"] = currency
        for index, row in enumerate(record["rows"] or []):
            path = f"rows[{index}]"
            if not _exists(self.store, "catalog", row["catalogId"]):
                raise BadRequest(
                    f"{path}.catalogId: there is no Catalog with id {row['catalogId']}.",
                    field=f"{path}.catalogId",
                )
            self._tax_code(f"{path}.taxCode", row["taxCode"])
            if row["quantity"] is None:
                row["quantity"] = 1
            row["discount"] = row["discount"] or 0
        record["rows"] = record["rows"] or []

    def _check_catalogcategories(self, record: dict[str, Any], record_id: int) -> None:
        if _blank(record["description"]):
            raise BadRequest("The description field is required.", field="description")

    def _check_taxvalue(self, record: dict[str, Any], record_id: int) -> None:
        if _blank(record["taxCode"]):
            raise BadRequest("The taxCode field is required.", field="taxCode")
        value = record["taxValue"]
        if value is None or not 0 <= value <= 100:
            raise BadRequest("taxValue must be a percentage from 0 to 100.", field="taxValue")
        if record["active"] is None:
            record["active"] = 1

    def _tax_code(self, path: str, code: str | None) -> None:
        if code is None:
            return
        if not self.store.table("taxvalue").list(lambda row: row.get("taxCode") == code):
            raise BadRequest(f"{path}: the tax code '{code}' does not exist.", field=path)


def timestamp(value: datetime) -> str:
    """The API's date-time notation: UTC, milliseconds, ``Z`` (assumption A6)."""
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def view(schema: Schema, row: Mapping[str, Any], custom_fields: Collection[str]) -> dict[str, Any]:
    """A stored row with the API's property names; timestamps still datetimes (for $filter)."""
    out: dict[str, Any] = {"id": row["id"]}
    for name in schema.fields:
        out[name] = row.get(name)
    if schema.searchable:
        for name in custom_fields:
            out[name] = row.get(name)
        out["createdDate"] = row["created_at"]
        out["lastModifiedDate"] = row["updated_at"]
    return out


def render(record: Mapping[str, Any]) -> dict[str, Any]:
    """A :func:`view` as JSON-ready output: datetimes in the API's notation, dates as .NET does."""
    out: dict[str, Any] = {}
    for name, value in record.items():
        if isinstance(value, datetime):
            out[name] = timestamp(value)
        elif name in ("date", "expirationDate") and isinstance(value, str):
            out[name] = f"{value}T00:00:00"
        else:
            out[name] = value
    return out
