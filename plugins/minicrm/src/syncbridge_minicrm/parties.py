"""Business and Person contacts <-> canonical companies and contacts, with their addresses.

A MiniCRM contact's addresses are records of their own (``/Api/R3/Address``), typed
``Székhely`` (registered office: the canonical main address), ``Számlázási cím`` (billing:
the main address when there is no office) and ``Levelezési cím`` (mailing: the canonical
``mailing_*`` fields). They travel beside the contact as its context::

    {"addresses": {"main": {...}, "billing": {...}, "mailing": {...}}, "status": "Customer"}

the same in both directions: ``fetch`` puts what it read there, ``map(out)`` what ``upsert``
writes. ``status`` is the label of the contact's card in the customer module, when the
connection filters on it (read only: a status belongs to a card, not to the contact).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from syncbridge import NativeRecord, RecordError
from syncbridge.mapping import text
from syncbridge.models import Company, Contact
from syncbridge_minicrm import taxnumbers
from syncbridge_minicrm.api import BUDAPEST, STAMP

#: canonical role -> the ``Address.Type`` MiniCRM gives it
ROLES = {"main": "Székhely", "billing": "Számlázási cím", "mailing": "Levelezési cím"}
ROLE_OF = {kind: role for role, kind in ROLES.items()}
ADDRESSES, STATUS = "addresses", "status"

#: the canonical fields kept in a contact's addresses
ADDRESS_FIELDS = frozenset(
    {
        "country",
        "address",
        "postal_code",
        "city",
        "province",
        "mailing_address",
        "mailing_postal_code",
        "mailing_city",
        "mailing_country",
    }
)
COMPANY_FIELDS = frozenset(
    {
        # MiniCRM's own id, offered to systems that keep it on their records (read only)
        "external_id",
        "name",
        "email",
        "phone",
        "vat_number",
        "tax_code",
        "notes",
        "status",
        "country",
        "address",
        "postal_code",
        "city",
        "province",
        "mailing_address",
        "mailing_postal_code",
        "mailing_city",
        "mailing_country",
    }
)
CONTACT_FIELDS = (COMPANY_FIELDS - {"name", "status", "vat_number", "tax_code"}) | {
    "first_name",
    "last_name",
    "job_title",
    "company_id",
}


def updated_at(raw: Any) -> datetime | None:
    """``UpdatedAt`` (Budapest wall time) as an aware instant."""
    if not raw:
        return None
    return datetime.strptime(str(raw), STAMP).replace(tzinfo=BUDAPEST)


def _place(address: dict[str, Any] | None, prefix: str) -> dict[str, Any]:
    if not address:
        return {}
    country = text(address.get("CountryId"))
    return {
        f"{prefix}address": text(address.get("Address")),
        f"{prefix}postal_code": text(address.get("PostalCode")),
        f"{prefix}city": text(address.get("City")),
        f"{prefix}country": country.upper() if country else None,
        **({"province": text(address.get("County"))} if not prefix else {}),
    }


def _addresses_in(context: dict[str, Any]) -> dict[str, Any]:
    addresses = context.get(ADDRESSES) or {}
    main = addresses.get("main") or addresses.get("billing")
    return {**_place(main, ""), **_place(addresses.get("mailing"), "mailing_")}


def _base_in(native: NativeRecord, context: dict[str, Any]) -> dict[str, Any]:
    if "error" in context:
        raise RecordError(str(context["error"]))
    return {
        "id": str(native["Id"]),
        # what a system storing the MiniCRM id on its own records matches on and keeps
        # (seed 001: the invoicing app's first matching key); never written back
        "external_id": str(native["Id"]),
        "updated_at": updated_at(native.get("UpdatedAt")),
        "email": text(native.get("Email")),
        "phone": text(native.get("Phone")),
        "notes": text(native.get("Description")),
        **_addresses_in(context),
    }


def _tax_in(tax: str | None, country: str | None) -> str | None:
    """An adószám is checked; another country's tax number is left to the canonical model."""
    if tax is None:
        return None
    return taxnumbers.adoszam(tax) if country in (None, "HU") else tax


def company_in(native: NativeRecord, context: dict[str, Any]) -> Company:
    values = _base_in(native, context)
    tax = text(native.get("VatNumber"))
    vat = text(native.get("EUVatNumber"))
    if not values.get("country") and (tax or (vat and vat[:2].isdigit())):
        values["country"] = "HU"  # a number without a prefix is Hungarian: the address is too
    return Company(
        **values,
        name=text(native.get("Name")) or "",
        tax_code=_tax_in(tax, values.get("country")),
        vat_number=taxnumbers.eu_vat_number(vat) if vat else None,
        status=text(context.get(STATUS)),
    )


def contact_in(native: NativeRecord, context: dict[str, Any]) -> Contact:
    business = native.get("BusinessId")
    return Contact(
        **_base_in(native, context),
        first_name=text(native.get("FirstName")),
        last_name=text(native.get("LastName")),
        job_title=text(native.get("Position")),
        company_id=str(business) if business not in (None, "", 0) else None,
    )


def _address_out(record: Company | Contact, prefix: str, kind: str) -> dict[str, Any] | None:
    values = {
        "Address": getattr(record, f"{prefix}address"),
        "PostalCode": getattr(record, f"{prefix}postal_code"),
        "City": getattr(record, f"{prefix}city"),
        "CountryId": getattr(record, f"{prefix}country"),
    }
    if not prefix:
        values["County"] = record.province
    if all(value is None for value in values.values()):
        return None
    return {"Type": kind, "Name": kind, **{k: v or "" for k, v in values.items()}}


def context_out(record: Company | Contact, context: dict[str, Any]) -> None:
    """What ``upsert`` writes beside the contact: its addresses (and the status it had)."""
    addresses = {}
    main = _address_out(record, "", ROLES["main"])
    if main is not None:
        addresses["main"] = main
    mailing = _address_out(record, "mailing_", ROLES["mailing"])
    if mailing is not None:
        addresses["mailing"] = mailing
    context[ADDRESSES] = addresses
    if isinstance(record, Company) and record.status is not None:
        context[STATUS] = record.status


def _tax_out(record: Company) -> str:
    if not record.tax_code:
        return ""
    if record.country in (None, "HU"):
        return taxnumbers.adoszam(record.tax_code, "tax_code")
    return record.tax_code


def company_out(record: Company, context: dict[str, Any]) -> NativeRecord:
    context_out(record, context)
    return {
        "Type": "Business",
        "Name": record.name,
        "Email": record.email or "",
        "Phone": record.phone or "",
        "Description": record.notes or "",
        "VatNumber": _tax_out(record),
        "EUVatNumber": (
            taxnumbers.eu_vat_number(record.vat_number, "vat_number") if record.vat_number else ""
        ),
    }


def contact_out(record: Contact, context: dict[str, Any]) -> NativeRecord:
    context_out(record, context)
    native: NativeRecord = {
        "Type": "Person",
        "FirstName": record.first_name or "",
        "LastName": record.last_name or "",
        "Email": record.email or "",
        "Phone": record.phone or "",
        "Description": record.notes or "",
        "Position": record.job_title or "",
    }
    if record.company_id is not None:
        if not record.company_id.isdigit():
            raise RecordError(
                f"company_id: {record.company_id!r} is no MiniCRM contact id; link the person's "
                "company first"
            )
        native["BusinessId"] = int(record.company_id)
    return native
