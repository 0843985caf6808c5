"""Smart invoices: ``crm.item.*`` with ``entityTypeId=31``, their product rows
(``crm.item.productrow.list|set``, owner type ``SI``) and their kanban stages
(``crm.status.list``, ``crm.category.list``).

The universal item methods speak camelCase with typed values and wrap results
(``{"item": ...}``, ``{"items": [...]}``, ``{"productRows": [...]}``). Only entity type 31 is
served: 5 (old invoices) is refused as the portal refuses it, other types as not emulated.
Without ``isManualOpportunity = Y`` the invoice's ``opportunity`` is the sum of its rows, kept
up to date whenever the rows are replaced.

A row's ``price`` is the price per unit "including discounts and taxes" whatever
``taxIncluded`` says (``crm.item.productrow.add``; ``taxIncluded`` only records how it was
entered), and the portal computes the other prices from it and ``taxRate``: ``priceExclusive``
(after the discount, before tax), ``priceNetto`` (before both), ``priceBrutto`` (with tax,
before the discount), and the discount in the form not given (``discountSum`` of a percentage,
``discountRate`` of an amount), to 8 decimals. A row read back shows them so: ``price`` 80000,
``discountRate`` 20, ``taxRate`` 20 -> ``priceExclusive`` 66666.66666667, ``priceNetto``
83333.33333333, ``priceBrutto`` 100000, ``discountSum`` 16666.66666667
(``crm-item-productrow-add.md``). ``opportunity`` is then the sum of ``price x quantity`` and
``taxValue`` the tax in it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from syncbridge.emulator import Record, Store
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

INVOICE = 31
OWNER = "SI"

FIELDS: dict[str, Kind] = {
    "id": "int",
    "xmlId": "text",
    "title": "text",
    "accountNumber": "text",
    "stageId": "text",
    "previousStageId": "text",
    "categoryId": "int",
    "begindate": "date",
    "closedate": "date",
    "companyId": "int",
    "contactId": "int",
    "contactIds": "list",
    "mycompanyId": "int",
    "opportunity": "number",
    "isManualOpportunity": "text",
    "taxValue": "number",
    "currencyId": "text",
    "sourceId": "text",
    "comments": "text",
    "assignedById": "int",
    "opened": "text",
    "createdBy": "int",
    "updatedBy": "int",
    "createdTime": "datetime",
    "updatedTime": "datetime",
    "movedTime": "datetime",
}
_READ_ONLY = {
    "id",
    "previousStageId",
    "createdBy",
    "updatedBy",
    "createdTime",
    "updatedTime",
    "movedTime",
    "taxValue",
}

ROW_FIELDS: dict[str, Kind] = {
    "id": "int",
    "ownerId": "int",
    "ownerType": "text",
    "productId": "int",
    "productName": "text",
    "price": "number",
    "quantity": "number",
    "discountTypeId": "int",
    "discountRate": "number",
    "discountSum": "number",
    "priceExclusive": "number",
    "priceNetto": "number",
    "priceBrutto": "number",
    "taxRate": "number",
    "taxIncluded": "text",
    "measureCode": "int",
    "measureName": "text",
    "sort": "int",
}

#: the stages of a category: (code, name, sort, semantics, colour)
STAGES = (
    ("N", "Neu", 10, "process", "#22B9FF"),
    ("S", "Gesendet", 20, "process", "#FFC34D"),
    ("P", "Bezahlt", 30, "success", "#7BD500"),
    ("D", "Nicht bezahlt", 40, "failure", "#FF5752"),
)


def _number(name: str, value: Any, default: Decimal | None = None) -> Decimal | None:
    if value is None or value == "":
        return default
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        raise MethodError("INVALID_ARG_VALUE", f"{name}: {value!r} is not a number") from None


def _int(name: str, value: Any) -> int:
    if value is None or value == "" or value is False:
        return 0
    try:
        return int(str(value))
    except ValueError:
        raise MethodError("INVALID_ARG_VALUE", f"{name}: {value!r} is not an integer") from None


def _date(name: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise MethodError("INVALID_ARG_VALUE", f"{name}: {value!r} is not a date") from None


_PLACES = Decimal("0.00000001")
_HUNDRED = Decimal(100)


def _prices(
    price: Decimal, tax_rate: Decimal | None, discount_type: int, rate: Decimal, amount: Decimal
) -> dict[str, Decimal]:
    """What the portal computes of a row from its ``price`` (with discount and tax)."""
    exclusive = price / (1 + tax_rate / _HUNDRED) if tax_rate else price
    if discount_type == 2:  # a percentage of the net price
        netto = exclusive / (1 - rate / _HUNDRED) if rate < _HUNDRED else exclusive
        amount = netto - exclusive
    else:  # an amount off the net price
        netto = exclusive + amount
        rate = amount * _HUNDRED / netto if netto else Decimal(0)
    brutto = netto * (1 + tax_rate / _HUNDRED) if tax_rate else netto
    return {
        "discountRate": rate.quantize(_PLACES),
        "discountSum": amount.quantize(_PLACES),
        "priceExclusive": exclusive.quantize(_PLACES),
        "priceNetto": netto.quantize(_PLACES),
        "priceBrutto": brutto.quantize(_PLACES),
    }


class SmartInvoices:
    """The handlers of smart invoices, their rows, stages and categories."""

    def __init__(
        self,
        store: Store,
        render_time: Callable[[datetime], str],
        timezone: tzinfo,
        *,
        product_exists: Callable[[int], Record | None],
        currency_exists: Callable[[str], bool],
        base_currency: Callable[[], str],
        today: Callable[[], date],
    ) -> None:
        self.items = store.table("invoices", id_field="id")
        self.rows = store.table("product_rows", id_field="id")
        self.statuses = store.table("statuses", id_field="ID")
        self.categories: dict[int, str] = {}
        self.when = render_time
        self.timezone = timezone
        self.product = product_exists
        self.currency_exists = currency_exists
        self.base_currency = base_currency
        self.today = today

    def methods(self) -> dict[str, Handler]:
        item: dict[str, Callable[[Mapping[str, Any]], Reply]] = {
            "list": self.list_item,
            "get": self.get_item,
            "add": self.add_item,
            "update": self.update_item,
            "delete": self.delete_item,
        }
        found: dict[str, Handler] = {
            f"crm.item.{action}": functools.partial(self._typed, handler)
            for action, handler in item.items()
        }
        found["crm.item.productrow.list"] = self.list_rows
        found["crm.item.productrow.set"] = self.set_rows
        found["crm.status.list"] = self.list_statuses
        found["crm.category.list"] = self.list_categories
        return found

    # -- stages ---------------------------------------------------------------------------
    def add_category(self, category: int, name: str) -> None:
        self.categories[category] = name
        for code, title, sort, semantics, colour in STAGES:
            self.statuses.insert(
                {
                    "ENTITY_ID": f"SMART_INVOICE_STAGE_{category}",
                    "STATUS_ID": f"DT{INVOICE}_{category}:{code}",
                    "NAME": title,
                    "NAME_INIT": title,
                    "SORT": str(sort),
                    "SYSTEM": "Y" if code in ("N", "P", "D") else "N",
                    "CATEGORY_ID": str(category),
                    "COLOR": colour,
                    "SEMANTICS": {"success": "S", "failure": "F"}.get(semantics),
                    "EXTRA": {"SEMANTICS": semantics, "COLOR": colour},
                }
            )

    def stages_of(self, category: int) -> list[str]:
        entity = f"SMART_INVOICE_STAGE_{category}"
        rows = [row for row in self.statuses.list() if row["ENTITY_ID"] == entity]
        return [row["STATUS_ID"] for row in sorted(rows, key=lambda row: int(row["SORT"]))]

    def list_statuses(self, params: dict[str, Any]) -> Reply:
        kinds: dict[str, Kind] = {
            "ID": "int",
            "ENTITY_ID": "text",
            "STATUS_ID": "text",
            "NAME": "text",
            "SORT": "int",
            "SYSTEM": "text",
            "CATEGORY_ID": "int",
            "SEMANTICS": "text",
        }
        rows = [
            {
                **{k: v for k, v in row.items() if k not in ("created_at", "updated_at")},
                "ID": str(row["ID"]),
            }
            for row in self.statuses.list()
        ]
        rows = [row for row in rows if matches(row, as_map(params.get("filter")), kinds)]
        rows = ordered(rows, as_map(params.get("order")) or {"SORT": "ASC"}, kinds, "ID")
        return Reply(rows, len(rows))

    def list_categories(self, params: dict[str, Any]) -> Reply:
        self._entity_type(params)
        categories = [
            {
                "id": category,
                "name": name,
                "sort": 100 * index,
                "entityTypeId": INVOICE,
                "isDefault": "Y" if index == 1 else "N",
            }
            for index, (category, name) in enumerate(sorted(self.categories.items()), start=1)
        ]
        return Reply({"categories": categories}, len(categories))

    # -- items ----------------------------------------------------------------------------
    def _entity_type(self, params: Mapping[str, Any]) -> None:
        raw = params.get("entitytypeid")
        if raw in (None, ""):
            raise MethodError("", "Required parameter 'entityTypeId' is missing")
        kind = _int("entityTypeId", raw)
        if kind == 5:
            raise MethodError("ENTITY_TYPE_NOT_SUPPORTED", "Entity type `Invoice` is not supported")
        if kind != INVOICE:
            raise MethodError(
                "ENTITY_TYPE_NOT_SUPPORTED",
                f"Entity type {kind} is not served by this emulator (only smart invoices, 31)",
            )

    def _typed(
        self, handler: Callable[[Mapping[str, Any]], Reply], params: dict[str, Any]
    ) -> Reply:
        self._entity_type(params)
        return handler(params)

    def render(self, row: Record) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, kind in FIELDS.items():
            value = row.get(name)
            if kind == "date" and isinstance(value, date):
                midnight = datetime(value.year, value.month, value.day, tzinfo=self.timezone)
                value = midnight.isoformat()
            elif kind == "datetime" and isinstance(value, datetime):
                value = self.when(value)
            elif kind == "int" and value is None and name != "id":
                value = 0  # "no link" is 0 in the item methods
            out[name] = value
        out["createdTime"] = self.when(row["created_at"])
        out["updatedTime"] = self.when(row["updated_at"])
        return out

    def find(self, raw_id: Any) -> Record:
        row = self.items.get(_int("id", raw_id))
        if row is None:
            raise MethodError("NOT_FOUND", "Element not found")
        return row

    def list_item(self, params: Mapping[str, Any]) -> Reply:
        rows = [self.render(row) for row in self.items.list()]
        rows = [row for row in rows if matches(row, as_map(params.get("filter")), FIELDS)]
        rows = ordered(rows, as_map(params.get("order")), FIELDS, "id")
        page = window(rows, params.get("start"))
        select = [str(name) for name in as_list(params.get("select"))]
        items = [selected(row, select, FIELDS) for row in page.items]
        return Reply({"items": items}, page.total, page.next)

    def get_item(self, params: Mapping[str, Any]) -> Reply:
        return Reply({"item": self.render(self.find(params.get("id")))})

    def _values(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Writable fields converted to their kinds; unknown and read-only fields dropped."""
        values: dict[str, Any] = {}
        for name, value in fields.items():
            kind = FIELDS.get(name)
            if kind is None or name in _READ_ONLY:
                continue
            if kind == "int":
                values[name] = _int(name, value)
            elif kind == "number":
                values[name] = _number(name, value, Decimal(0))
            elif kind == "date":
                values[name] = _date(name, value)
            elif kind == "list":
                values[name] = [_int(name, item) for item in as_list(value)]
            else:
                values[name] = None if value is None or str(value) == "" else str(value)
        return values

    def _check(self, values: dict[str, Any]) -> None:
        category = values.get("categoryId")
        if category not in self.categories:
            raise MethodError("NOT_FOUND", f"Category {category} not found")
        if values.get("stageId") not in self.stages_of(category):
            raise MethodError("NOT_FOUND", f"Stage {values.get('stageId')} not found")
        if not self.currency_exists(str(values.get("currencyId"))):
            raise MethodError("", f"Currency {values.get('currencyId')} not found")
        if values.get("contactId") and not values.get("contactIds"):
            values["contactIds"] = [values["contactId"]]

    def add_item(self, params: Mapping[str, Any]) -> Reply:
        fields = params.get("fields")
        values = self._values(fields if isinstance(fields, Mapping) else {})
        if not values.get("categoryId"):
            values["categoryId"] = min(self.categories, default=0)  # the default category
        stages = self.stages_of(values["categoryId"])
        if not values.get("stageId"):
            values["stageId"] = stages[0] if stages else None
        values["currencyId"] = values.get("currencyId") or self.base_currency()
        values["begindate"] = values.get("begindate") or self.today()
        values.setdefault("isManualOpportunity", "N")
        values.setdefault("opportunity", Decimal(0))
        values.setdefault("taxValue", Decimal(0))
        self._check(values)
        row = self.items.insert(values)
        # the numerator and the default title need the id, as on the portal
        extra = {"movedTime": row["created_at"]}
        if not row.get("title"):
            extra["title"] = f"Rechnung #{row['id']}"
        if not row.get("accountNumber"):
            extra["accountNumber"] = str(row["id"])
        row = self.items.update(row["id"], extra) or row
        return Reply({"item": self.render(row)})

    def update_item(self, params: Mapping[str, Any]) -> Reply:
        row = self.find(params.get("id"))
        fields = params.get("fields")
        values = self._values(fields if isinstance(fields, Mapping) else {})
        merged = {**row, **values}
        self._check(merged)
        if merged.get("stageId") != row.get("stageId"):
            values["previousStageId"] = row.get("stageId")
            values["movedTime"] = datetime.now(self.timezone)
        updated = self.items.update(row["id"], values) or row
        if merged.get("isManualOpportunity") != "Y":
            updated = self._recount(updated["id"])
        return Reply({"item": self.render(updated)})

    def delete_item(self, params: Mapping[str, Any]) -> Reply:
        row = self.find(params.get("id"))
        self.items.delete(row["id"])
        for product_row in self._rows_of(row["id"]):
            self.rows.delete(product_row["id"])
        return Reply(None)

    # -- product rows ---------------------------------------------------------------------
    def _rows_of(self, owner: int) -> list[Record]:
        rows = self.rows.list(lambda r: r["ownerType"] == OWNER and r["ownerId"] == owner)
        return sorted(rows, key=lambda r: (r["sort"], r["id"]))

    def _owner(self, params: Mapping[str, Any]) -> Record:
        owner_type = str(params.get("ownertype") or "")
        if owner_type != OWNER:
            raise MethodError(
                "INVALID_ARG_VALUE",
                f"ownerType {owner_type!r} is not served by this emulator (only SI)",
            )
        owner = self.items.get(_int("ownerId", params.get("ownerid")))
        if owner is None:
            raise MethodError("NOT_FOUND", "Owner not found")
        return owner

    def _row(self, owner: int, raw: Any, position: int) -> dict[str, Any]:
        if not isinstance(raw, Mapping):
            raise MethodError("INVALID_ARG_VALUE", f"productRows[{position}] is not a row")
        product_id = _int("productId", raw.get("productId"))
        product = self.product(product_id) if product_id else None
        if product_id and product is None:
            raise MethodError("NOT_FOUND", f"Product {product_id} not found")
        name = raw.get("productName") or (product or {}).get("NAME")
        if not name:
            raise MethodError("", f"productRows[{position}]: a row needs a product or a name")
        discount_type = _int("discountTypeId", raw.get("discountTypeId")) or 2
        if discount_type not in (1, 2):
            raise MethodError("INVALID_ARG_VALUE", "discountTypeId must be 1 or 2")
        price = _number("price", raw.get("price"), Decimal(0))
        tax_rate = _number("taxRate", raw.get("taxRate"))
        assert price is not None
        prices = _prices(
            price,
            tax_rate,
            discount_type,
            _number("discountRate", raw.get("discountRate"), Decimal(0)) or Decimal(0),
            _number("discountSum", raw.get("discountSum"), Decimal(0)) or Decimal(0),
        )
        return {
            "ownerId": owner,
            "ownerType": OWNER,
            "productId": product_id,
            "productName": str(name),
            "price": price,
            "quantity": _number("quantity", raw.get("quantity"), Decimal(1)),
            "discountTypeId": discount_type,
            **prices,
            "taxRate": tax_rate,
            "taxIncluded": "Y" if str(raw.get("taxIncluded") or "N").upper() == "Y" else "N",
            "measureCode": _int("measureCode", raw.get("measureCode")) or 796,
            "measureName": str(raw.get("measureName") or "Stück"),
            "sort": _int("sort", raw.get("sort")) or (position + 1) * 10,
        }

    def _render_row(self, row: Record) -> dict[str, Any]:
        return {name: row.get(name) for name in ROW_FIELDS}

    def set_rows(self, params: dict[str, Any]) -> Reply:
        owner = self._owner(params)
        rows = [
            self._row(owner["id"], raw, position)
            for position, raw in enumerate(as_list(params.get("productrows")))
        ]
        for old in self._rows_of(owner["id"]):
            self.rows.delete(old["id"])
        for row in rows:
            self.rows.insert(row)
        self._recount(owner["id"])
        return Reply({"productRows": [self._render_row(r) for r in self._rows_of(owner["id"])]})

    def list_rows(self, params: dict[str, Any]) -> Reply:
        conditions = as_map(params.get("filter"))
        plain = {key.lstrip("="): value for key, value in conditions.items()}
        if "ownerType" not in plain or "ownerId" not in plain:
            raise MethodError("", "The filter must name ownerType and ownerId")
        owner = self._owner({"ownertype": plain["ownerType"], "ownerid": plain["ownerId"]})
        rows = [self._render_row(row) for row in self._rows_of(owner["id"])]
        page = window(rows, params.get("start"))
        return Reply({"productRows": page.items}, page.total, page.next)

    def _recount(self, invoice: int) -> Record:
        """``opportunity`` and ``taxValue`` from the rows (unless set by hand)."""
        row = self.items.get(invoice)
        assert row is not None
        if row.get("isManualOpportunity") == "Y":
            return row
        total, tax = Decimal(0), Decimal(0)
        for product_row in self._rows_of(invoice):
            # price is with tax, taxIncluded Y or N alike (see the module's docstring)
            total += product_row["price"] * product_row["quantity"]
            tax += (product_row["price"] - product_row["priceExclusive"]) * product_row[
                "quantity"
            ]
        cents = Decimal("0.01")
        return (
            self.items.update(
                invoice, {"opportunity": total.quantize(cents), "taxValue": tax.quantize(cents)}
            )
            or row
        )
