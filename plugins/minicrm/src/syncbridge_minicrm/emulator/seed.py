"""Seeded Hungarian data: what a small MiniCRM system holds.

``records`` businesses (valid adószám and EU VAT numbers, a registered office address, every
other one a separate mailing address), ``records`` persons working for them, a Sales card per
business whose status cycles Customer, Customer, Lead, Lost, and an invoice for every
business. The same ``--seed`` gives the same system everywhere.
"""

from __future__ import annotations

from decimal import Decimal

from syncbridge.emulator import Address, FakeData, Store
from syncbridge_minicrm.emulator import tenant
from syncbridge_minicrm.emulator.documents import localized

#: the Sales statuses seeded cards cycle through
_CYCLE = (2501, 2501, 2500, 2502)
#: Hungarian VAT code digit and county code of seeded tax numbers (Budapest)
_TAIL = "-2-41"


def seed(store: Store, fake: FakeData, records: int) -> None:
    """Fill ``store`` with a system of ``records`` records per main entity."""
    contacts = store.table("contact")
    businesses: list[int] = []
    for index in range(records):
        company = fake.company("HU")
        row = contacts.insert(
            {
                "Type": "Business",
                "Name": company.name,
                "Email": company.email,
                "Phone": company.phone,
                "VatNumber": company.vat_number + _TAIL,
                "EUVatNumber": "HU" + company.vat_number,
                "RegistrationNumber": f"01-09-{100000 + index:06d}",
                "Description": "",
            }
        )
        businesses.append(row["id"])
        _address(store, row["id"], "Székhely", company.address.street, company.address)
        if index % 2:
            mailing = fake.address("HU")
            _address(store, row["id"], "Levelezési cím", mailing.street, mailing)
        store.table("project").insert(
            {
                "CategoryId": tenant.SALES,
                "ContactId": row["id"],
                "StatusId": _CYCLE[index % len(_CYCLE)],
                "UserId": 501,
                "Name": f"{company.name} - értékesítés",
                "Deleted": 0,
            }
        )
    for index in range(records):
        person = fake.person("HU")
        contacts.insert(
            {
                "Type": "Person",
                "FirstName": person.first_name,
                "LastName": person.last_name,
                "Email": person.email,
                "Phone": person.phone,
                "Position": fake.pick(("Ügyvezető", "Pénzügyi vezető", "Beszerző")),
                "BusinessId": businesses[index % len(businesses)] if businesses else None,
            }
        )
    for index, business in enumerate(businesses):
        product = fake.product("HU")
        quantity = Decimal(1 + index % 3)
        net = (product.price * quantity).quantize(Decimal("0.01"))
        vat = (net * product.vat_rate / 100).quantize(Decimal("0.01"))
        issued = f"2024-{1 + index % 12:02d}-{1 + index % 28:02d}"
        project = store.table("project").insert(
            {
                "CategoryId": 40,
                "ContactId": business,
                "StatusId": 4000,
                "UserId": 502,
                "Name": f"Számla {index + 1}",
                "Deleted": 0,
            }
        )
        store.table("invoice").insert(
            {
                "ProjectId": project["id"],
                "CustomerId": business,
                "StornedId": None,
                "Number": f"SZLA-2024-{index + 1:05d}",
                "Type": "Invoice",
                "Media": "PKI",
                "Customer": {},
                "Subject": f"Szolgáltatás {index + 1}",
                "PaymentMethod": "WiredTransfer",
                "Issued": issued,
                "Performance": issued,
                "Prompt": issued,
                "Paid": "0000-00-00",
                "CurrencyCode": "HUF",
                "AmountNet": f"{net:.2f}",
                "AmountVat": f"{vat:.2f}",
                "Amount": f"{net + vat:.2f}",
                "Status": "Kiállítva",
                "StatusGroup": "Open",
                "DocumentUrl": "",
                "Items": [
                    {
                        "Id": 1,
                        "SKU": product.code,
                        "Name": product.name,
                        "Description": "",
                        "PriceNet": localized(product.price),
                        "Quantity": localized(quantity),
                        "Unit": "db",
                        "VAT": f"{product.vat_rate:.0f}%",
                        "PriceNetTotal": localized(net),
                        "PriceTotal": localized(net + vat),
                    }
                ],
            }
        )


def _address(store: Store, contact_id: int, kind: str, street: str, where: Address) -> None:
    store.table("address").insert(
        {
            "ContactId": contact_id,
            "Type": kind,
            "Name": kind,
            "CountryId": where.country,
            "PostalCode": where.postcode,
            "City": where.city,
            "County": where.region,
            "Address": street,
            "Default": 1 if kind == "Székhely" else 0,
        }
    )
