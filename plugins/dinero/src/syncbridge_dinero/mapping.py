"""Dinero records <-> canonical records.

One Dinero contact list serves two canonical entities: a contact with ``IsPerson`` false is
a ``company``, one with ``IsPerson`` true a ``contact`` (a person; its ``Name`` split into
first and last name at the last space). Dinero keeps no link from a person to a company, so
a canonical contact's ``company_id`` is never written or read (README A2).

Invoices: a line's VAT follows the account it is posted to (``AccountNumber``); which rate
each account carries comes with the record's context (``{"vat": {"1000": "25", ...}}``, read
from the organisation's accounts and VAT types), and whether the customer is a company or a
person with ``{"party": "company" | "contact"}``. Going out, a line with 25% VAT (or none
stated: the Danish standard rate) is posted to the ``sales_account`` setting and a 0% line
to ``vat_free_sales_account``; any other rate cannot be booked in Denmark and fails the
record naming the field. A booked invoice is ``locked`` (Dinero refuses to change it).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from syncbridge import RecordError, item_fields, parse_instant
from syncbridge.models import CanonicalRecord
from syncbridge.models.catalog import Product
from syncbridge.models.documents import DocumentStatus, Invoice
from syncbridge.models.parties import Company, Contact
from syncbridge.models.payments import Payment
from syncbridge_dinero.settings import DineroSettings

Native = dict[str, Any]

#: Dinero's ``Unit`` values (spec), and the usual ways people write them
UNITS = (
    "hours", "parts", "km", "day", "week", "month", "kilogram", "cubicMetre", "set", "litre",
    "box", "case", "carton", "metre", "package", "shipment", "squareMetre", "session", "tonne",
)
_UNIT_ALIASES = {
    "pcs": "parts", "pc": "parts", "piece": "parts", "pieces": "parts", "stk": "parts",
    "stk.": "parts", "h": "hours", "hour": "hours", "hrs": "hours", "timer": "hours",
    "kg": "kilogram", "l": "litre", "m": "metre", "m2": "squareMetre", "m3": "cubicMetre",
    "days": "day", "dage": "day", "t": "tonne",
}
_BY_LOWER = {unit.lower(): unit for unit in UNITS}

FIELDS: dict[str, frozenset[str]] = {
    "company": frozenset({"name", "country", "address", "postal_code", "city", "email", "phone",
                          "vat_number", "website", "currency"}),
    "contact": frozenset({"first_name", "last_name", "country", "address", "postal_code",
                          "city", "email", "phone"}),
    "product": frozenset({"name", "code", "price", "unit", "description"}),
    "invoice": frozenset(
        {"number", "date", "currency", "company_id", "contact_id", "status", "subject", "notes",
         "due_date", "total", "balance", "locked"}
    ) | item_fields("lines", "description", "quantity", "unit_price", "discount_percent",
                    "product_id", "vat_percent", "unit"),
    "payment": frozenset({"amount", "date", "currency", "invoice_id", "company_id",
                          "reference"}),
}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _updated(native: Native) -> datetime | None:
    """``UpdatedAt`` (UTC, written without a zone) as an aware instant."""
    value = native.get("UpdatedAt")
    return parse_instant(value) if value else None


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


# -- units ----------------------------------------------------------------------------------------
def unit_out(unit: str | None, field: str) -> str:
    """A canonical unit as a Dinero ``Unit`` (``parts`` when none is given)."""
    if unit is None:
        return "parts"
    key = unit.strip().lower()
    found = _BY_LOWER.get(key) or _UNIT_ALIASES.get(key)
    if found is None:
        raise RecordError(
            f"{field}: {unit!r} is not a Dinero unit; use one of {', '.join(UNITS)}"
        )
    return found


# -- parties --------------------------------------------------------------------------------------
def _vat_in(native: Native) -> str | None:
    vat = _text(native.get("VatNumber"))
    country = _text(native.get("CountryKey"))
    if vat and country and not vat[:2].isalpha():
        return country.upper() + vat  # Dinero keeps a Danish CVR without its prefix
    return vat


def _vat_out(vat: str | None, country: str | None) -> str | None:
    if vat and country and vat.upper().startswith(country.upper()):
        return vat[len(country):]
    return vat


def _party_in(native: Native) -> dict[str, Any]:
    return {
        "id": str(native["ContactGuid"]),
        "updated_at": _updated(native),
        "country": _text(native.get("CountryKey")),
        "address": _text(native.get("Street")),
        "postal_code": _text(native.get("ZipCode")),
        "city": _text(native.get("City")),
        "email": _text(native.get("Email")),
        "phone": _text(native.get("Phone")),
    }


def _party_out(record: Company | Contact, name: str, is_person: bool) -> Native:
    if record.country is None:
        raise RecordError("country: Dinero needs every contact's country (CountryKey); set it")
    return {
        "Name": name,
        "Street": record.address,
        "ZipCode": record.postal_code,
        "City": record.city,
        "CountryKey": record.country,
        "Email": record.email,
        "Phone": record.phone,
        "IsPerson": is_person,
        "IsMember": False,
        "UseCvr": False,
    }


def company_in(native: Native) -> Company:
    if native.get("IsPerson") is True:
        raise RecordError("IsPerson: this Dinero contact is a person, read it as a contact")
    return Company(
        **_party_in(native),
        name=str(native.get("Name") or ""),
        vat_number=_vat_in(native),
        website=_text(native.get("Webpage")),
        currency=_text(native.get("PreferredInvoiceCurrencyKey")),
    )


def company_out(record: Company) -> Native:
    return {
        **_party_out(record, record.name, False),
        "VatNumber": _vat_out(record.vat_number, record.country),
        "Webpage": record.website,
        "PreferredInvoiceCurrencyKey": record.currency,
    }


def contact_in(native: Native) -> Contact:
    if native.get("IsPerson") is False:
        raise RecordError("IsPerson: this Dinero contact is a company, read it as a company")
    name = str(native.get("Name") or "").strip()
    first, _, last = name.rpartition(" ")
    return Contact(**_party_in(native), first_name=first or None, last_name=last or None)


def contact_out(record: Contact) -> Native:
    name = " ".join(part for part in (record.first_name, record.last_name) if part)
    return _party_out(record, name, True)


# -- products -------------------------------------------------------------------------------------
def product_in(native: Native) -> Product:
    return Product(
        id=str(native["ProductGuid"]),
        updated_at=_updated(native),
        name=str(native.get("Name") or native.get("ProductNumber") or ""),
        code=_text(native.get("ProductNumber")),
        price=_decimal(native.get("BaseAmountValue") or 0),
        unit=_text(native.get("Unit")),
        description=_text(native.get("Comment")),
    )


def product_out(record: Product, settings: DineroSettings) -> Native:
    if record.description is not None and len(record.description) > 128:
        raise RecordError("description: Dinero keeps at most 128 characters (Comment); "
                          "shorten it")
    return {
        "Name": record.name,
        "ProductNumber": record.code,
        "BaseAmountValue": record.price if record.price is not None else Decimal(0),
        "Quantity": Decimal(1),
        "AccountNumber": settings.sales_account,
        "Unit": unit_out(record.unit, "unit"),
        "Comment": record.description,
    }


# -- invoices -------------------------------------------------------------------------------------
_STATUS = {
    "Draft": DocumentStatus.DRAFT,
    "Booked": DocumentStatus.ISSUED,
    "Paid": DocumentStatus.PAID,
    "OverPaid": DocumentStatus.PAID,
    "Overdue": DocumentStatus.OVERDUE,
}


#: canonical statuses an invoice is not booked with
_NOT_BOOKED = frozenset({DocumentStatus.DRAFT, DocumentStatus.CANCELLED, DocumentStatus.REJECTED})


def vat_accounts(settings: DineroSettings) -> dict[str, str]:
    """The accounts lines are written to, with their VAT percentage (a map(out) context)."""
    return {str(settings.sales_account): "25", str(settings.vat_free_sales_account): "0"}


def invoice_in(native: Native, context: dict[str, Any]) -> Invoice:
    if "error" in context:
        raise RecordError(str(context["error"]))
    vat = context.get("vat") or {}
    lines = []
    for line in native.get("ProductLines") or []:
        if line.get("LineType") == "Text":
            continue
        percent = vat.get(str(line.get("AccountNumber")))
        lines.append(
            {
                "description": str(line.get("Description") or ""),
                "quantity": _decimal(line.get("Quantity") or 0),
                "unit_price": _decimal(line.get("BaseAmountValue") or 0),
                "discount_percent": _decimal(line.get("Discount") or 0),
                "product_id": _text(line.get("ProductGuid")),
                "vat_percent": Decimal(percent) if percent is not None else None,
                "unit": _text(line.get("Unit")),
            }
        )
    status_text = native.get("PaymentStatus") or native.get("Status")
    status = _STATUS.get(str(status_text)) if status_text else None
    if status is None:
        status = DocumentStatus.ISSUED if context.get("book") else DocumentStatus.DRAFT
    party = context.get("party", "company")
    contact = _text(native.get("ContactGuid"))
    day = date.fromisoformat(str(native["Date"])[:10])
    due = native.get("PaymentDate")
    days = native.get("PaymentConditionNumberOfDays")
    total = native.get("TotalInclVat")
    number = native.get("Number")
    # what is still owed: the payments' remainder of a booked invoice (its context), nothing
    # once paid, the whole total of a draft (no payment can be registered on one)
    remaining = context.get("remaining")
    balance: Decimal | None = None
    if remaining is not None:
        balance = _decimal(remaining)
    elif status is DocumentStatus.PAID:
        balance = Decimal(0)
    elif status is DocumentStatus.DRAFT and total is not None:
        balance = _decimal(total)
    return Invoice(
        id=_text(native.get("Guid")),
        updated_at=_updated(native),
        number=str(number) if number else None,
        date=day,
        due_date=date.fromisoformat(str(due)[:10]) if due else (
            date.fromordinal(day.toordinal() + int(days)) if days is not None else None
        ),
        currency=str(native.get("Currency") or "DKK"),
        company_id=contact if party == "company" else None,
        contact_id=contact if party == "contact" else None,
        status=status,
        subject=_text(native.get("Description")),
        notes=_text(native.get("Comment")),
        total=_decimal(total) if total is not None else None,
        balance=balance,
        locked=status is not DocumentStatus.DRAFT,
        lines=lines,
    )


def _account(percent: Decimal | None, settings: DineroSettings, index: int) -> int:
    if percent is None or percent == 25:
        return settings.sales_account
    if percent == 0:
        return settings.vat_free_sales_account
    raise RecordError(
        f"lines[{index}].vat_percent: {percent}% is not a Danish VAT rate; Dinero books 25% "
        "(sales_account) or 0% (vat_free_sales_account)"
    )


def invoice_out(record: Invoice, settings: DineroSettings, context: dict[str, Any]) -> Native:
    customer = record.company_id or record.contact_id
    context["party"] = "company" if record.company_id else "contact"
    context["vat"] = vat_accounts(settings)
    # an invoice past draft is booked; a cancelled (or rejected) one never is: it stays a
    # draft, which Dinero lets its users delete
    context["book"] = record.status not in _NOT_BOOKED
    if record.credit_note:
        raise RecordError("credit_note: Dinero keeps credit notes apart; not written as invoices")
    lines = [
        {
            "ProductGuid": line.product_id,
            "Description": line.description,
            "Quantity": line.quantity,
            "BaseAmountValue": line.unit_price,
            "Discount": line.discount_percent,
            "AccountNumber": _account(line.vat_percent, settings, index),
            "Unit": unit_out(line.unit, f"lines[{index}].unit"),
            "LineType": "Product",
        }
        for index, line in enumerate(record.lines)
    ]
    native: Native = {
        "ContactGuid": customer,
        "Date": record.date.isoformat(),
        "Currency": record.currency,
        "Description": record.subject,
        "Comment": record.notes,
        "ProductLines": lines,
    }
    if record.due_date is not None:
        days = (record.due_date - record.date).days
        if days < 0:
            raise RecordError("due_date: it is before the invoice date; correct one of them")
        native["PaymentConditionType"] = "Netto"
        native["PaymentConditionNumberOfDays"] = days
    return native


# -- payments -------------------------------------------------------------------------------------
def payment_in(native: Native, context: dict[str, Any]) -> Payment:
    if "error" in context:
        raise RecordError(str(context["error"]))
    party = context.get("party")
    return Payment(
        id=str(native["Guid"]),
        amount=_decimal(native["Amount"]),
        date=date.fromisoformat(str(native.get("PaymentDate"))[:10]),
        currency=str(native.get("Currency") or context.get("currency") or "DKK"),
        invoice_id=context.get("invoice"),
        company_id=context.get("contact") if party == "company" else None,
        reference=_text(native.get("ExternalReference")) or _text(native.get("Description")),
    )


# -- dispatch -------------------------------------------------------------------------------------
def map_in(entity: str, native: Native, context: dict[str, Any]) -> CanonicalRecord:
    if entity == "company":
        return company_in(native)
    if entity == "contact":
        return contact_in(native)
    if entity == "product":
        return product_in(native)
    if entity == "invoice":
        return invoice_in(native, context)
    if entity == "payment":
        return payment_in(native, context)
    raise RecordError(f"dinero has no entity {entity!r}")


def map_out(
    entity: str, record: CanonicalRecord, settings: DineroSettings, context: dict[str, Any]
) -> Native:
    if isinstance(record, Company):
        return company_out(record)
    if isinstance(record, Contact):
        return contact_out(record)
    if isinstance(record, Product):
        return product_out(record, settings)
    if isinstance(record, Invoice):
        return invoice_out(record, settings, context)
    raise RecordError(f"dinero does not write {entity!r} records")
