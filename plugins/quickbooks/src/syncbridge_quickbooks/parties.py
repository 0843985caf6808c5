"""Customers <-> companies and contacts.

QuickBooks has one list of customers; syncbridge has companies and contacts. The split:

* a customer with a ``CompanyName`` is a **company**;
* a customer without one but with a person's name (``GivenName``/``FamilyName``) is a
  **contact** (a person);
* a customer with neither is named only by its ``DisplayName`` (a job or project such as
  "Website relaunch", or a trading name) and is a **company**, since it is no person.

Sub-customers (``ParentRef``; ``Job=true``) are never flattened silently:

* a person filed under a company becomes a contact whose ``company_id`` is that company (the
  usual way QuickBooks users keep "the people at a customer");
* a person filed under a person stays a contact without ``company_id`` (the canonical model
  has no person-to-person link);
* a job or project under a customer is a company named by its ``FullyQualifiedName``
  ("Müller GmbH:Website relaunch"), so it stays distinguishable from its parent and the
  hierarchy stays visible. Written back, a name with a colon sets only the last part as the
  ``DisplayName`` (colons are QuickBooks' hierarchy separator).

Whether a ``ParentRef`` is a company is not in the record itself: ``fetch`` looks the parent
up and gives it as the record's context, ``parent`` (see :mod:`syncbridge_quickbooks.native`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from syncbridge.mapping import text
from syncbridge.models import Company, Contact
from syncbridge_quickbooks.native import (
    compact,
    country_code,
    make_ref,
    nested,
    ref,
    updated_at,
)

Kind = Literal["company", "contact"]

ADDRESS_FIELDS = ("address", "postal_code", "city", "province", "country")
#: what QuickBooks shows instead of a tax id it will not reveal in full
_MASKED = re.compile(r"^[X*•]{3,}")


def customer_kind(record: Mapping[str, Any]) -> Kind:
    """Company or contact: a person's name and no company name make a contact."""
    company = text(record.get("CompanyName"))
    person = text(record.get("GivenName")) or text(record.get("FamilyName"))
    return "contact" if person and not company else "company"


def address_in(value: Any) -> dict[str, Any]:
    """``BillAddr`` -> the canonical address fields (street lines joined by newlines)."""
    if not isinstance(value, Mapping):
        return {}
    lines = [text(value.get(f"Line{i}")) for i in range(1, 6)]
    return {
        "address": "\n".join(line for line in lines if line) or None,
        "postal_code": text(value.get("PostalCode")),
        "city": text(value.get("City")),
        "province": text(value.get("CountrySubDivisionCode")),
        "country": country_code(value.get("Country") or value.get("CountryCode")),
    }


def address_out(record: Company | Contact) -> dict[str, Any] | None:
    """The canonical address as ``BillAddr`` (up to five street lines)."""
    lines = [line.strip() for line in (record.address or "").splitlines() if line.strip()]
    if len(lines) > 5:
        lines = [*lines[:4], ", ".join(lines[4:])]
    address = compact(
        {
            **{f"Line{i}": line for i, line in enumerate(lines, start=1)},
            "City": record.city,
            "PostalCode": record.postal_code,
            "CountrySubDivisionCode": record.province,
            "Country": record.country,
        }
    )
    return address or None


def _tax_id(record: Mapping[str, Any]) -> str | None:
    value = text(record.get("PrimaryTaxIdentifier"))
    return None if value is None or _MASKED.match(value) else value


def company_name(record: Mapping[str, Any]) -> str:
    """``CompanyName``; for a job without one its full name ("Parent:Job"); else DisplayName."""
    name = text(record.get("CompanyName"))
    if name:
        return name
    if ref(record.get("ParentRef")):
        return text(record.get("FullyQualifiedName")) or text(record.get("DisplayName")) or ""
    return text(record.get("DisplayName")) or ""


def company_in(record: Mapping[str, Any], context: Mapping[str, Any]) -> Company:
    return Company(
        id=text(record.get("Id")),
        updated_at=updated_at(record),
        name=company_name(record),
        email=nested(record, "PrimaryEmailAddr", "Address"),
        phone=nested(record, "PrimaryPhone", "FreeFormNumber"),
        website=nested(record, "WebAddr", "URI"),
        notes=text(record.get("Notes")),
        currency=ref(record.get("CurrencyRef")),
        vat_number=_tax_id(record),
        **address_in(record.get("BillAddr")),
    )


def company_out(company: Company, context: dict[str, Any]) -> dict[str, Any]:
    name = company.name.strip()
    job = ":" in name
    return compact(
        {
            "DisplayName": name.rsplit(":", 1)[1].strip() if job else name,
            "CompanyName": None if job else name,
            "PrimaryEmailAddr": {"Address": company.email} if company.email else None,
            "PrimaryPhone": {"FreeFormNumber": company.phone} if company.phone else None,
            "WebAddr": {"URI": company.website} if company.website else None,
            "BillAddr": address_out(company),
            "PrimaryTaxIdentifier": company.vat_number,
            "Notes": company.notes,
            "CurrencyRef": make_ref(company.currency),
        }
    )


def contact_in(record: Mapping[str, Any], context: Mapping[str, Any]) -> Contact:
    parent = ref(record.get("ParentRef"))
    under_company = parent is not None and context.get("parent") == "company"
    first, last = text(record.get("GivenName")), text(record.get("FamilyName"))
    if first is None and last is None:  # not a person by the split, but mapped on request
        last = text(record.get("DisplayName"))
    return Contact(
        id=text(record.get("Id")),
        updated_at=updated_at(record),
        first_name=first,
        last_name=last,
        company_id=parent if under_company else None,
        email=nested(record, "PrimaryEmailAddr", "Address"),
        phone=nested(record, "PrimaryPhone", "FreeFormNumber"),
        mobile=nested(record, "Mobile", "FreeFormNumber"),
        notes=text(record.get("Notes")),
        **address_in(record.get("BillAddr")),
    )


def contact_out(contact: Contact, context: dict[str, Any]) -> dict[str, Any]:
    native = compact(
        {
            "GivenName": contact.first_name,
            "FamilyName": contact.last_name,
            "DisplayName": contact.name,
            "PrimaryEmailAddr": {"Address": contact.email} if contact.email else None,
            "PrimaryPhone": {"FreeFormNumber": contact.phone} if contact.phone else None,
            "Mobile": {"FreeFormNumber": contact.mobile} if contact.mobile else None,
            "BillAddr": address_out(contact),
            "Notes": contact.notes,
        }
    )
    if contact.company_id is not None:
        native["ParentRef"] = {"value": contact.company_id}
        native["Job"] = True
        context["parent"] = "company"
    return native


#: canonical field -> the Customer properties a sparse update of it sends
COMPANY_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("CompanyName", "DisplayName"),
    "email": ("PrimaryEmailAddr",),
    "phone": ("PrimaryPhone",),
    "website": ("WebAddr",),
    "vat_number": ("PrimaryTaxIdentifier",),
    "notes": ("Notes",),
    "currency": ("CurrencyRef",),
    **dict.fromkeys(ADDRESS_FIELDS, ("BillAddr",)),
}
CONTACT_FIELDS: dict[str, tuple[str, ...]] = {
    "first_name": ("GivenName", "FamilyName", "DisplayName"),
    "last_name": ("GivenName", "FamilyName", "DisplayName"),
    "company_id": ("ParentRef", "Job"),
    "email": ("PrimaryEmailAddr",),
    "phone": ("PrimaryPhone",),
    "mobile": ("Mobile",),
    "notes": ("Notes",),
    **dict.fromkeys(ADDRESS_FIELDS, ("BillAddr",)),
}
