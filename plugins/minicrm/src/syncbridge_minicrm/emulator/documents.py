"""``/Api/Invoice``, ``/Api/Order``, ``/Api/Offer``: documents on cards, outside the R3 limits.

A document is created for an existing contact (``CustomerId``) and lives on a card of the
document module (its ``ProjectId``). Amounts come back as text: header amounts as
``"2000.00"``, item amounts localized (``"1 000,00"``), as the live API writes them. Lists are
the R3 envelope, most recently modified first, ``[]`` when empty.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from syncbridge.emulator import Store, json_response
from syncbridge.emulator.store import UPDATED, Record
from syncbridge_minicrm.emulator import tenant
from syncbridge_minicrm.emulator.render import (
    BUDAPEST,
    ApiError,
    api_root,
    envelope,
    page_of,
    parse_since,
    stamp,
)

#: the kinds of document and the Type values each accepts (the first is the default)
KINDS: dict[str, tuple[str, ...]] = {
    "Invoice": ("Invoice", "Proforma"),
    "Order": ("Order",),
    "Offer": ("Offer",),
}
#: (Status, StatusGroup) of a new document of each Type
NEW_STATUS = {
    "Invoice": ("Kiállítva", "Open"),
    "Proforma": ("Díjbekérő", "Open"),
    "Order": ("Piszkozat", "Open"),
    "Offer": ("Ajánlat készítése", "Lead"),
}
PAID, STORNO = ("Kifizetve", "Success"), ("Sztornózva", "Failed")
NO_DATE = "0000-00-00"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_HEADER_FIELDS = frozenset(
    {
        "CustomerId",
        "ReferenceId",
        "Number",
        "Type",
        "Media",
        "Language",
        "Customer",
        "Vendor",
        "Subject",
        "PaymentMethod",
        "Issued",
        "Performance",
        "Prompt",
        "Paid",
        "CurrencyCode",
        "ConversionRate",
        "VATMode",
        "Accounting",
        "IsReverseCharge",
        "DocumentId",
        "DocumentUrl",
        "DocumentFileName",
        "Items",
        "Project",
        "InvoicePadCounter",
        "AmountNet",
        "AmountVat",
        "Amount",
    }
)
_ITEM_FIELDS = frozenset(
    {
        "SKU",
        "EAN",
        "Name",
        "Description",
        "PriceNet",
        "VAT",
        "Quantity",
        "Unit",
        "Id",
        "PriceNetTotal",
        "PriceTotal",
        "VATSubtype",
    }
)
CENT = Decimal("0.01")


def localized(amount: Decimal) -> str:
    """``1234.5`` -> ``"1 234,50"``: how item amounts come back."""
    whole, _, cents = f"{amount.quantize(CENT):.2f}".partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups: list[str] = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return f"{sign}{' '.join(groups) or '0'},{cents}"


def _number(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise ApiError(f'Kötelező mező: "{field}"')
    try:
        number = Decimal(str(value).replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ApiError(f"Érvénytelen érték a(z) {field} mezőben: '{value}'") from None
    if not number.is_finite():
        raise ApiError(f"Érvénytelen érték a(z) {field} mezőben: '{value}'")
    return number


def _vat(value: Any) -> Decimal:
    text = str(value if value is not None else "27%").strip().rstrip("%")
    rate = _number(text, "VAT")
    if rate < 0 or rate > 100:
        raise ApiError(f"Érvénytelen érték a(z) VAT mezőben: '{value}'")
    return rate


def _date(body: dict[str, Any], field: str, default: str) -> str:
    value = body.get(field, default)
    text = str(value)
    if text != NO_DATE and not _DATE.fullmatch(text):
        raise ApiError(f"Érvénytelen érték a(z) {field} mezőben: '{value}'")
    if text != NO_DATE:
        try:
            date.fromisoformat(text)
        except ValueError:
            raise ApiError(f"Érvénytelen érték a(z) {field} mezőben: '{value}'") from None
    return text


class Documents:
    """The document handlers, over the emulator's store (mixed into the emulator)."""

    store: Store

    def _items(self, raw: Any) -> tuple[list[dict[str, Any]], Decimal, Decimal]:
        if not isinstance(raw, list) or not raw:
            raise ApiError('Kötelező mező: "Items"')
        items, net_total, vat_total = [], Decimal(0), Decimal(0)
        for number, item in enumerate(raw, start=1):
            if not isinstance(item, dict):
                raise ApiError('Nem megfelelő paraméter: "Items"')
            for key in item:
                if key not in _ITEM_FIELDS:
                    raise ApiError(f"Ismeretlen mező: 'Items.{key}'")
            if not str(item.get("Name") or "").strip():
                raise ApiError('Kötelező mező: "Items.Name"')
            price = _number(item.get("PriceNet"), "Items.PriceNet")
            quantity = _number(item.get("Quantity", 1), "Items.Quantity")
            rate = _vat(item.get("VAT"))
            net = (price * quantity).quantize(CENT)
            vat = (net * rate / 100).quantize(CENT)
            net_total, vat_total = net_total + net, vat_total + vat
            items.append(
                {
                    "Id": number,
                    "SKU": item.get("SKU", ""),
                    "Name": item["Name"],
                    "Description": item.get("Description", ""),
                    "PriceNet": localized(price),
                    "Quantity": localized(quantity),
                    "Unit": item.get("Unit", "db"),
                    "VAT": f"{rate.normalize():f}%",
                    "PriceNetTotal": localized(net),
                    "PriceTotal": localized(net + vat),
                }
            )
        return items, net_total, vat_total

    def _customer(self, body: dict[str, Any]) -> Record:
        raw = body.get("CustomerId")
        contacts = self.store.table("contact")
        if raw not in (None, ""):
            if isinstance(raw, bool) or not str(raw).isdigit():
                raise ApiError(f"Érvénytelen érték a(z) CustomerId mezőben: '{raw}'")
            row = contacts.get(int(raw))
            if row is None:
                raise ApiError(f"Az ügyfél nem található. (CustomerId: {raw})")
            return row
        reference = body.get("ReferenceId")
        if reference not in (None, ""):
            found = contacts.list(lambda row: str(row.get("ReferenceId")) == str(reference))
            if not found:
                raise ApiError(f"Az ügyfél nem található. (ReferenceId: {reference})")
            return found[0]
        raise ApiError('Kötelező mező: "CustomerId" vagy "ReferenceId"')

    def _card(self, kind: str, customer: Record, subject: str) -> int:
        project = self.store.table("project").insert(
            {
                "CategoryId": 40,
                "ContactId": customer["id"],
                "StatusId": 4000,
                "UserId": tenant.API_USER,
                "Name": subject or kind,
                "Deleted": 0,
            }
        )
        return int(project["id"])

    def document_detail(self, request: Request, kind: str, row: Record) -> dict[str, Any]:
        detail = {key: value for key, value in row.items() if key not in ("id",)}
        detail.pop("created_at", None)
        detail.pop("updated_at", None)
        detail.update(
            {
                "Id": row["id"],
                "UpdatedAt": stamp(row[UPDATED]),
                "Url": f"{api_root(request)}/Api/{kind}/{row['id']}",
            }
        )
        return detail

    def document_row(self, request: Request, kind: str, row: Record) -> dict[str, Any]:
        keys = (
            "ProjectId",
            "StornedId",
            "Number",
            "Type",
            "Issued",
            "Performance",
            "Prompt",
            "Paid",
            "CurrencyCode",
            "AmountNet",
            "AmountVat",
            "Amount",
            "Status",
            "StatusGroup",
            "DocumentUrl",
        )
        return {"Id": row["id"], **{key: row.get(key) for key in keys}}

    async def document_create(self, request: Request, kind: str, raw: Any) -> Response:
        if not isinstance(raw, dict) or not raw:
            raise ApiError('Nem megfelelő paraméter: "Data (JSON)"')
        for key in raw:
            if key not in _HEADER_FIELDS:
                raise ApiError(f"Ismeretlen mező: '{key}'")
        customer = self._customer(raw)
        doc_type = raw.get("Type", KINDS[kind][0])
        if doc_type not in KINDS[kind]:
            raise ApiError(f"Érvénytelen érték a(z) Type mezőben: '{doc_type}'")
        currency = str(raw.get("CurrencyCode", "HUF"))
        if not _CURRENCY.fullmatch(currency):
            raise ApiError(f"Érvénytelen érték a(z) CurrencyCode mezőben: '{currency}'")
        items, net, vat = self._items(raw.get("Items"))
        today = self.store.clock.now().astimezone(BUDAPEST).date().isoformat()
        issued = _date(raw, "Issued", today)
        status, group = NEW_STATUS[doc_type]
        paid = _date(raw, "Paid", NO_DATE)
        if paid != NO_DATE and doc_type == "Invoice":
            status, group = PAID
        subject = str(raw.get("Subject") or "")
        table = self.store.table(kind.lower())
        record: dict[str, Any] = {
            "ProjectId": self._card(kind, customer, subject),
            "CustomerId": customer["id"],
            "StornedId": None,
            "Type": doc_type,
            "Media": raw.get("Media", "PKI"),
            "Customer": raw.get("Customer") or {"Name": customer.get("Name", "")},
            "Subject": subject,
            "PaymentMethod": raw.get("PaymentMethod", "WiredTransfer"),
            "Issued": issued,
            "Performance": _date(raw, "Performance", issued),
            "Prompt": _date(raw, "Prompt", issued),
            "Paid": paid,
            "CurrencyCode": currency,
            "AmountNet": f"{net:.2f}",
            "AmountVat": f"{vat:.2f}",
            "Amount": f"{net + vat:.2f}",
            "Status": status,
            "StatusGroup": group,
            "DocumentUrl": raw.get("DocumentUrl", ""),
            "Items": items,
        }
        row = table.insert({**record, "Number": raw.get("Number") or ""})
        if not row["Number"]:
            row = table.update(row["id"], {"Number": f"MCRM-{issued[:4]}-{row['id']:05d}"}) or row
        return json_response(self.document_detail(request, kind, row))

    def document_or_404(self, kind: str, raw_id: str) -> Record:
        row = self.store.table(kind.lower()).get(int(raw_id)) if raw_id.isdigit() else None
        if row is None:
            raise ApiError(f"A dokumentum nem található. (Id: {raw_id})", status=404)
        return row

    async def document_get(self, request: Request, kind: str, raw_id: str) -> Response:
        return json_response(
            self.document_detail(request, kind, self.document_or_404(kind, raw_id))
        )

    async def document_list(self, request: Request, kind: str) -> Response:
        for key in request.query_params:
            if key not in ("Page", "UpdatedSince", "StatusGroup"):
                raise ApiError(f"Ismeretlen mező: '{key}'")
        rows = self.store.table(kind.lower()).list()
        raw_since = request.query_params.get("UpdatedSince")
        if raw_since is not None:
            since = parse_since(raw_since)
            rows = [row for row in rows if row[UPDATED].replace(microsecond=0) >= since]
        group = request.query_params.get("StatusGroup")
        if group is not None:
            rows = [row for row in rows if row.get("StatusGroup") == group]
        rows = sorted(rows, key=lambda row: (row[UPDATED], row["id"]), reverse=True)
        return envelope((self.document_row(request, kind, row) for row in rows), page_of(request))

    async def document_action(
        self, request: Request, kind: str, raw_id: str, action: str
    ) -> Response:
        row = self.document_or_404(kind, raw_id)
        table = self.store.table(kind.lower())
        if action == "Paid":
            if row.get("StatusGroup") == "Failed":
                raise ApiError("Sztornózott dokumentum nem fizethető ki.", status=405)
            today = self.store.clock.now().astimezone(BUDAPEST).date().isoformat()
            table.update(row["id"], {"Paid": today, "Status": PAID[0], "StatusGroup": PAID[1]})
            return json_response({"Id": row["id"]})
        if row.get("StatusGroup") == "Failed" or row.get("StornedId"):
            raise ApiError("A dokumentum már sztornózva van.", status=405)
        table.update(row["id"], {"Status": STORNO[0], "StatusGroup": STORNO[1]})
        storno = {
            **{k: v for k, v in row.items() if k not in ("id", "created_at", "updated_at")},
            "StornedId": row["id"],
            "Number": f"{row['Number']}-S",
            "Status": STORNO[0],
            "StatusGroup": STORNO[1],
        }
        created = table.insert(storno)
        return json_response({"Id": created["id"]})
