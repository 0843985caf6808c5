"""Seeded Danish data: organisations with CVR numbers, their contacts, products, invoices.

Country fields hold names (``Denmark``), as the CRM's forms store them. The same ``--seed``
gives the same data.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from syncbridge_simplycrm.emulator.modules import ACCOUNTS, CONTACTS, INVOICE, PRODUCTS

if TYPE_CHECKING:
    from syncbridge_simplycrm.emulator.app import SimplyCrmEmulator

COUNTRY_NAMES = {"DK": "Denmark"}


def seed(emulator: SimplyCrmEmulator, count: int) -> None:
    """``count`` records of each module (invoices: ``count``, two lines each)."""
    fake = emulator.fake
    accounts, products = [], []
    # one organisation, its contact and a product at a time: the first of each has a fixed id
    # (11x2, 12x3, 14x4) whatever the count
    for _ in range(count):
        company = fake.company("DK")
        address = company.address
        account = emulator.add(ACCOUNTS, {
            "accountname": company.name,
            "email1": company.email,
            "phone": company.phone,
            "website": f"www.{company.email.partition('@')[2]}",
            "bill_street": address.street,
            "bill_code": address.postcode,
            "bill_city": address.city,
            "bill_state": address.region,
            "bill_country": COUNTRY_NAMES.get(address.country, address.country),
            "cf_853": company.vat_number,
        })
        accounts.append(account)
        person = fake.person("DK")
        emulator.add(CONTACTS, {
            "firstname": person.first_name,
            "lastname": person.last_name,
            "email": person.email,
            "phone": person.phone,
            "title": fake.pick(["Direktør", "Bogholder", "Indkøber", "Salgschef"]),
            "account_id": f"11x{account['crmid']}",
            "mailingcountry": "Denmark",
        })
        product = fake.product("DK")
        products.append(emulator.add(PRODUCTS, {
            "productname": product.name,
            "productcode": product.code,
            "unit_price": product.price,
            "usageunit": "pcs",
            "discontinued": "1",
            "currency_id": "21x1",
        }))
    for index in range(count):
        if not accounts or not products:
            break
        account = accounts[index % len(accounts)]
        lines = [
            {
                "productid": f"14x{products[(index + n) % len(products)]['crmid']}",
                "quantity": str(n + 1),
                "listprice": products[(index + n) % len(products)]["unit_price"],
                "tax1": "25.000",
                "comment": "",
            }
            for n in range(2)
        ]
        emulator.add(INVOICE, {
            "subject": f"Faktura {index + 1}",
            "account_id": f"11x{account['crmid']}",
            "invoicedate": f"2024-{index % 12 + 1:02d}-{index % 27 + 1:02d}",
            "duedate": f"2024-{index % 12 + 1:02d}-28",
            "invoicestatus": "Created",
            "currency_id": "21x1",
            "hdnTaxType": "individual",
            "bill_street": account["bill_street"] or "-",
            "ship_street": account["bill_street"] or "-",
            "received": str(Decimal(0)),
            "LineItems": lines,
        })
