"""Issued documents in the emulator: what the API stores, computes and refuses.

A document is stored with the snapshot of its client (``entity``), its lines with their VAT
types filled in, its totals (computed, never taken from the request, as the spec marks them
read-only) and its payments, which must add up to the gross total unless the request asks
``options.fix_payments``. An e-invoice sent to the tax authority is ``locked``: the API then
refuses to modify or delete it, as Fatture in Cloud does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from syncbridge.emulator import Table
from syncbridge_fattureincloud.emulator.query import render_time
from syncbridge_fattureincloud.emulator.schema import Invalid

#: keys of the ``basic`` fieldset of a document list (lines and payments need ``detailed``)
BASIC = (
    "id",
    "entity",
    "type",
    "number",
    "numeration",
    "date",
    "year",
    "currency",
    "language",
    "subject",
    "visible_subject",
    "amount_net",
    "amount_vat",
    "amount_gross",
    "next_due_date",
    "e_invoice",
    "ei_status",
    "locked",
    "url",
    "created_at",
    "updated_at",
)
EURO = {"id": "EUR", "exchange_rate": "1.00000", "symbol": "€"}
ITALIAN = {"code": "it", "name": "Italiano"}
#: client fields copied into a document's ``entity`` snapshot
ENTITY_FIELDS = (
    "id",
    "code",
    "name",
    "type",
    "first_name",
    "last_name",
    "vat_number",
    "tax_code",
    "address_street",
    "address_postal_code",
    "address_city",
    "address_province",
    "country",
    "country_iso",
    "email",
    "certified_email",
    "phone",
    "ei_code",
)
_CENT = Decimal("0.01")


def money(value: Decimal) -> float:
    """Two decimals, half up, as the API renders amounts (JSON numbers)."""
    return float(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def render_document(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document as the API shows it; objects the spec has no ``null`` for are left out."""
    out: dict[str, Any] = {
        **row,
        "created_at": render_time(row.get("created_at")),
        "updated_at": render_time(row.get("updated_at")),
    }
    # objects without null in the spec, and enums whose values do not list null
    for key in ("entity", "payment_method", "currency", "language", "ei_status"):
        if out.get(key) is None:
            out.pop(key, None)
    return out


def _entity(clients: Table, given: Mapping[str, Any]) -> dict[str, Any]:
    """The document's client snapshot: the registry's record when it names an id."""
    if given.get("id") is None:
        # a client typed into the document and not saved in the registry (anagrafica)
        return {**given, "id": None}
    stored = clients.get(int(given["id"]))
    if stored is None:
        raise Invalid({"data.entity.id": [f"Il cliente {given['id']} non esiste."]})
    snapshot = {key: stored.get(key) for key in ENTITY_FIELDS}
    if snapshot["type"] is None:  # an enum without null in the spec: left out when unknown
        del snapshot["type"]
    return {**snapshot, **{k: v for k, v in given.items() if v is not None}}


def _vat(vat_types: Table, given: Any, default_id: int, where: str) -> dict[str, Any]:
    """The full VAT type of a line: by id, else by value, else the company's default."""
    given = given if isinstance(given, dict) else {}
    vat_id = given.get("id")
    if vat_id is None and given.get("value") is not None:
        match = next(
            (
                v
                for v in vat_types.list()
                if v.get("value") == given["value"] and not v.get("is_disabled")
            ),
            None,
        )
        if match is None:
            raise Invalid({f"{where}.vat.value": [f"Nessuna aliquota IVA del {given['value']}%."]})
        vat_id = match["id"]
    if vat_id is None:
        vat_id = default_id
    stored = vat_types.get(int(vat_id))
    if stored is None:
        raise Invalid({f"{where}.vat.id": [f"L'aliquota IVA {vat_id} non esiste."]})
    return {k: v for k, v in stored.items() if k not in ("created_at", "updated_at")}


def build(
    data: Mapping[str, Any],
    options: Mapping[str, Any],
    *,
    current: Mapping[str, Any] | None,
    tables: Mapping[str, Table],
    today: date,
) -> dict[str, Any]:
    """The document to store from a validated request (``current``: the one being modified).

    Raises :class:`Invalid` (422) for what the API refuses beyond the schema: a document
    without its client, unknown references, payments that do not match the total.
    """
    merged: dict[str, Any] = {**(current or {}), **data}
    if not isinstance(merged.get("entity"), dict):
        raise Invalid({"data.entity": ["Il campo data.entity è obbligatorio."]})
    doc_type = merged.get("type") or "invoice"
    when = date.fromisoformat(merged.get("date") or today.isoformat())
    payment_method = merged.get("payment_method")
    if (
        isinstance(payment_method, dict)
        and payment_method.get("id") is not None
        and tables["payment_methods"].get(int(payment_method["id"])) is None
    ):
        raise Invalid({"data.payment_method.id": [f"Il metodo {payment_method['id']} non esiste."]})
    vat_types = tables["vat_types"]
    default_vat = next((v["id"] for v in vat_types.list() if v.get("default")), 0)
    items: list[dict[str, Any]] = []
    net = vat = Decimal(0)
    next_item = 1 + max(
        (int(i.get("id") or 0) for i in (current or {}).get("items_list") or []), default=0
    )
    for index, given in enumerate(merged.get("items_list") or []):
        item = dict(given)
        if (
            item.get("product_id") is not None
            and tables["products"].get(int(item["product_id"])) is None
        ):
            raise Invalid(
                {
                    f"data.items_list.{index}.product_id": [
                        f"Il prodotto {item['product_id']} non esiste."
                    ]
                }
            )
        item["vat"] = _vat(vat_types, item.get("vat"), default_vat, f"data.items_list.{index}")
        if item.get("id") is None:
            item["id"] = next_item
            next_item += 1
        qty = _dec(item.get("qty") if item.get("qty") is not None else 1)
        item["qty"] = float(qty)
        line = qty * _dec(item.get("net_price")) * (1 - _dec(item.get("discount")) / 100)
        line = line.quantize(_CENT, rounding=ROUND_HALF_UP)
        item["gross_price"] = money(
            _dec(item.get("net_price")) * (1 + _dec(item["vat"]["value"]) / 100)
        )
        net += line
        vat += (line * _dec(item["vat"]["value"]) / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
        items.append(item)
    gross = net + vat
    payments = _payments(merged.get("payments_list") or [], gross, options, current)
    open_dues = [p["due_date"] for p in payments if p["status"] != "paid" and p.get("due_date")]
    return {
        **merged,
        "type": doc_type,
        "date": when.isoformat(),
        "year": when.year,
        "numeration": merged.get("numeration") or "",
        "currency": {**EURO, **(merged.get("currency") or {})},
        "language": merged.get("language") or ITALIAN,
        "entity": _entity(tables["clients"], merged["entity"]),
        "items_list": items,
        "payments_list": payments,
        "amount_net": money(net),
        "amount_vat": money(vat),
        "amount_gross": money(gross),
        "next_due_date": min(open_dues) if open_dues else None,
        "e_invoice": bool(merged.get("e_invoice", False)),
        "ei_status": (current or {}).get("ei_status"),
        "locked": bool((current or {}).get("locked", False)),
        "show_totals": merged.get("show_totals") or "all",
    }


def _payments(
    given: list[dict[str, Any]],
    gross: Decimal,
    options: Mapping[str, Any],
    current: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    payments = []
    next_id = 1 + max(
        (int(p.get("id") or 0) for p in (current or {}).get("payments_list") or []), default=0
    )
    for index, raw in enumerate(given):
        payment = {"status": "not_paid", "payment_terms": {"days": 0, "type": "standard"}, **raw}
        if payment["status"] == "paid" and not payment.get("payment_account"):
            where = f"data.payments_list.{index}.payment_account"
            raise Invalid({where: [f"Il campo {where} è obbligatorio per un pagamento saldato."]})
        if payment.get("id") is None:
            payment["id"] = next_id
            next_id += 1
        payments.append(payment)
    if not payments:
        return payments
    if options.get("fix_payments"):
        others = sum((_dec(p.get("amount")) for p in payments[:-1]), Decimal(0))
        payments[-1]["amount"] = money(gross - others)
    total = sum((_dec(p.get("amount")) for p in payments), Decimal(0))
    if abs(total - gross) >= _CENT:
        raise Invalid(
            {},
            "Il totale dei pagamenti non corrisponde al totale da pagare.",
            extra={"totals": {"amount_gross": money(gross), "payments_sum": money(total)}},
        )
    for payment in payments:
        payment["amount"] = money(_dec(payment.get("amount")))
    return payments


class Numbering:
    """The numbers in use per sequence (type, year, numeration), kept as documents are written,
    so numbering a new document never scans the whole table."""

    def __init__(self) -> None:
        self._used: dict[tuple[str, int, str], set[int]] = {}

    @staticmethod
    def _key(doc: Mapping[str, Any]) -> tuple[str, int, str]:
        return (str(doc.get("type")), int(doc.get("year") or 0), str(doc.get("numeration") or ""))

    def taken(self, doc: Mapping[str, Any]) -> bool:
        return doc.get("number") in self._used.get(self._key(doc), set())

    def next(self, doc: Mapping[str, Any]) -> int:
        return max(self._used.get(self._key(doc), {0}), default=0) + 1

    def add(self, doc: Mapping[str, Any]) -> None:
        if doc.get("number") is not None:
            self._used.setdefault(self._key(doc), set()).add(int(doc["number"]))

    def remove(self, doc: Mapping[str, Any]) -> None:
        self._used.get(self._key(doc), set()).discard(doc.get("number"))  # type: ignore[arg-type]
