"""Native <-> canonical: Számlázz.hu documents as canonical invoices and quotes.

The native record of a document, in both directions, is in the vocabulary of the create
request (``xmlszamla``): ``fejlec`` (header), ``vevo`` (buyer), ``tetelek`` (items, amounts
as decimal strings), plus what only an issued document has: ``szamlaszam`` (its number, the
native id), ``tipus`` (``SZ`` invoice, ``SS`` storno invoice, ``D`` proforma),
``sztornozott``, ``hivatkozottSzamlaszam`` (the invoice a storno reverses) and
``kifizetesek`` (credit entries). :mod:`.reads` turns a query answer into this form.

* A **proforma** (díjbekérő) is a canonical ``quote``: a request for payment that is not a
  tax invoice; ``valid_until`` is its payment deadline. An invoice is a canonical
  ``invoice``; a storno invoice is one with ``credit_note`` set.
* Both are ``locked``: the Agent never edits an issued document (README assumption 11).
* The customer exists only inside the document: ``company_id`` is the buyer's identifier
  (``vevo/azonosito``), or, for a document issued without one, ``szamlazz:<partner id>``.
  The buyer's name and address are not in the canonical model (README, "Buyers").
* Amounts are computed here as the Agent wants them, per item: net = quantity x unit price,
  VAT = net x rate rounded to the cent, gross = net + VAT.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from syncbridge import RecordError, SkipRecord, item_fields
from syncbridge.models import CanonicalRecord, DocumentLine, DocumentStatus, Invoice, Quote
from syncbridge.models.payments import Payment
from syncbridge.models.reference import VatRate
from syncbridge_szamlazz import vat

CENT = Decimal("0.01")
LINE_FIELDS = item_fields(
    "lines", "description", "quantity", "unit_price", "code", "unit", "vat_rate_id", "vat_percent"
)
FIELDS: dict[str, frozenset[str]] = {
    # the number is Számlázz.hu's (never sent: the Agent assigns it), read so that a document
    # goes on to another system under the number printed on it
    "invoice": frozenset(
        {"number", "date", "currency", "company_id", "status", "notes", "due_date", "credit_note"}
    )
    | LINE_FIELDS,
    "quote": frozenset({"number", "date", "currency", "company_id", "notes", "valid_until"})
    | LINE_FIELDS,
    "vat_rate": frozenset({"rate", "description", "exemption_code"}),
    "payment": frozenset({"amount", "date", "currency", "invoice_id", "company_id", "reference"}),
}
#: statuses an invoice can be issued in (a draft is not issued; a cancelled one is reversed)
_ISSUABLE = {DocumentStatus.ISSUED, DocumentStatus.SENT, DocumentStatus.OVERDUE}
_PAID = {DocumentStatus.PAID}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def text(value: Decimal) -> str:
    """A decimal as the XML carries it: plain notation, no exponent."""
    return format(value, "f")


def _decimal(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value).strip())
    except ArithmeticError:
        raise RecordError(f"{field}: {value!r} is not a number") from None


def _day(value: Any) -> date | None:
    raw = str(value or "").strip()
    return date.fromisoformat(raw) if raw else None


def _currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    return "HUF" if code in ("", "FT") else code


# -- in -----------------------------------------------------------------------------------------
def _line(item: dict[str, Any]) -> DocumentLine:
    key = str(item.get("afakulcs") or "").strip()
    return DocumentLine(
        description=str(item["megnevezes"]),
        quantity=_decimal(item["mennyiseg"], "tetelek.mennyiseg"),
        unit_price=_decimal(item["nettoEgysegar"], "tetelek.nettoEgysegar"),
        code=str(item.get("azonosito") or "") or None,
        unit=str(item.get("mennyisegiEgyseg") or "") or None,
        # a 0% code names its treatment; a rate is said by vat_percent alone
        vat_rate_id=key if key in vat.CODES else None,
        vat_percent=vat.percent_of(key) if key else None,
    )


def _status(native: dict[str, Any], gross: Decimal) -> DocumentStatus:
    if str(native.get("sztornozott", "")).lower() == "true":
        return DocumentStatus.CANCELLED
    head = native.get("fejlec") or {}
    if str(head.get("fizetve", "")).lower() == "true":
        return DocumentStatus.PAID
    paid = sum(
        (_decimal(p.get("osszeg", 0), "kifizetesek.osszeg") for p in native.get("kifizetesek", [])),
        Decimal(0),
    )
    if gross > 0 and paid >= gross:
        return DocumentStatus.PAID
    return DocumentStatus.PARTIALLY_PAID if paid > 0 else DocumentStatus.ISSUED


def map_in(entity: str, native: dict[str, Any]) -> CanonicalRecord:
    """A native document (or VAT key) as its canonical record."""
    if entity == "vat_rate":
        key = str(native["afakulcs"])
        return VatRate(
            id=key,
            rate=vat.percent_of(key),
            name=key,
            description=str(native.get("leiras") or "") or None,
            exemption_code=key if key in vat.CODES else None,
        )
    if entity == "payment":
        day = _day(native.get("datum"))
        if day is None:
            raise RecordError("kifizetes.datum: the credit entry has no date")
        return Payment(
            id=str(native["id"]),
            amount=_decimal(native.get("osszeg"), "kifizetes.osszeg"),
            date=day,
            currency=_currency(native.get("penznem")),
            invoice_id=str(native.get("szamlaszam") or "") or None,
            company_id=str(native.get("vevoAzonosito") or "") or None,
            reference=str(native.get("megjegyzes") or native.get("leiras") or "") or None,
        )
    head = native.get("fejlec") or {}
    buyer = native.get("vevo") or {}
    number = str(native.get("szamlaszam") or "") or None
    issued = _day(head.get("keltDatum"))
    if issued is None:
        raise RecordError("fejlec.keltDatum: the document has no issue date")
    company = str(buyer.get("azonosito") or "").strip()
    if not company and buyer.get("id"):
        company = f"szamlazz:{buyer['id']}"
    lines = [_line(item) for item in native.get("tetelek", [])]
    common: dict[str, Any] = {
        "id": number,
        "number": number,
        "date": issued,
        "currency": _currency(head.get("penznem")),
        "company_id": company or None,
        "lines": lines,
        "notes": str(head.get("megjegyzes") or "") or None,
        "locked": number is not None,
    }
    if not common["company_id"]:
        raise RecordError(
            "vevo.azonosito: the buyer has no identifier; issue documents with the customer's "
            "id as the buyer identifier (azonosito)"
        )
    due = _day(head.get("fizetesiHataridoDatum"))
    if entity == "quote" or str(native.get("tipus")) == "D":
        return Quote(**common, status=DocumentStatus.SENT, valid_until=due)
    gross = sum(
        (
            _decimal(i.get("bruttoErtek", 0), "tetelek.bruttoErtek")
            for i in native.get("tetelek", [])
        ),
        Decimal(0),
    )
    return Invoice(
        **common,
        status=_status(native, gross),
        due_date=due,
        credit_note=str(native.get("tipus")) == "SS",
        total=gross,
    )


# -- out ----------------------------------------------------------------------------------------
def _item(line: DocumentLine, index: int) -> dict[str, str]:
    if line.discount_percent:
        raise RecordError(
            f"lines[{index}].discount_percent: Számlázz.hu items have no discount; put the "
            "discounted unit price on the line, or the discount on a line of its own"
        )
    try:
        key = vat.key_for(line.vat_percent, line.vat_rate_id)
    except ValueError as error:
        raise RecordError(str(error).replace("lines.", f"lines[{index}].", 1)) from None
    net = money(line.quantity * line.unit_price)
    tax = money(net * vat.percent_of(key) / 100)
    item = {
        "megnevezes": line.description,
        "azonosito": line.code or "",
        "mennyiseg": text(line.quantity),
        "mennyisegiEgyseg": line.unit or "",
        "nettoEgysegar": text(line.unit_price),
        "afakulcs": key,
        "nettoErtek": text(net),
        "afaErtek": text(tax),
        "bruttoErtek": text(net + tax),
    }
    return {name: value for name, value in item.items() if value != ""}


def map_out(entity: str, record: CanonicalRecord) -> dict[str, Any]:
    """A canonical invoice or quote as the document to issue."""
    if isinstance(record, Payment):
        if not record.invoice_id:
            raise RecordError("invoice_id: a credit entry is added to an invoice; name it")
        return {
            "szamlaszam": record.invoice_id,
            "datum": record.date.isoformat(),
            "osszeg": text(record.amount),
            "megjegyzes": record.reference or "",
            "penznem": record.currency,
        }
    if isinstance(record, VatRate):
        key = record.exemption_code or format(record.rate.normalize(), "f")
        return {"afakulcs": key, "leiras": record.description or ""}
    if not isinstance(record, Invoice | Quote):
        raise RecordError(f"{entity}: Számlázz.hu only issues invoices and proformas")
    if isinstance(record, Invoice):
        if record.credit_note:
            raise SkipRecord(
                "a credit note is issued in Számlázz.hu by reversing (storno) its invoice"
            )
        if record.status not in _ISSUABLE | _PAID:
            raise SkipRecord(
                f"status {record.status.value}: only issued invoices go to Számlázz.hu "
                "(a draft is not issued there; a cancelled one is a storno)"
            )
        due = record.due_date
    else:
        due = record.valid_until
    if not record.lines:
        raise RecordError("lines: a document needs at least one line")
    head: dict[str, Any] = {
        "keltDatum": record.date.isoformat(),
        "teljesitesDatum": record.date.isoformat(),
        "fizetesiHataridoDatum": (due or record.date).isoformat(),
        "penznem": record.currency,
        "megjegyzes": record.notes or "",
    }
    if isinstance(record, Invoice) and record.status in _PAID:
        head["fizetve"] = "true"
    return {
        "tipus": "D" if isinstance(record, Quote) else "SZ",
        "fejlec": head,
        "vevo": {"azonosito": record.company_id or ""},
        "tetelek": [_item(line, index) for index, line in enumerate(record.lines)],
    }
