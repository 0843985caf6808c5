"""Seeded data of a German portal that also sells to the US: what a fresh emulator holds.

Reference data is what a new Bitrix24 portal in Germany starts with (EUR as base currency,
German VAT rates, the usual units, the default smart-invoice kanban); contacts, companies,
products and invoices are ``records`` each, drawn from the emulator base's seeded fake data.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from syncbridge.emulator import FakeData
from syncbridge_bitrix24.emulator.oldstyle import (
    COMPANY,
    CONTACT,
    CURRENCY,
    MEASURE,
    PRODUCT,
    VAT,
)
from syncbridge_bitrix24.emulator.portal import Portal

#: (code, title, symbol): the PRODUCTS pool's units and the portal's usual ones
MEASURES = (
    (6, "Meter", "m"),
    (112, "Liter", "l"),
    (163, "Gramm", "g"),
    (166, "Kilogramm", "kg"),
    (356, "Stunde", "h"),
    (359, "Tag", "day"),
    (362, "Monat", "month"),
    (366, "Jahr", "year"),
    (778, "Packung", "pack"),
    (796, "Stück", "pcs"),
)
#: (code, rate to EUR per 1, name, format)
CURRENCIES = (
    ("EUR", "1", "Euro", "# €"),
    ("USD", "0.92", "US-Dollar", "$#"),
    ("GBP", "1.17", "Britisches Pfund", "£#"),
    ("CHF", "1.04", "Schweizer Franken", "# CHF"),
)
VAT_RATES = (("Ohne MwSt.", None), ("MwSt. 7%", "7.00"), ("MwSt. 19%", "19.00"))
POSTS = ("Geschäftsführer", "Einkauf", "Buchhaltung", "Vertrieb", "Office Manager", "CFO")


def _multi(kind: str, value: str) -> list[dict[str, str]]:
    return [{"VALUE": value, "VALUE_TYPE": kind}]


def reference_data(portal: Portal) -> None:
    for sort, (code, amount, name, fmt) in enumerate(CURRENCIES, start=1):
        portal.old.seed(
            CURRENCY,
            {
                "CURRENCY": code,
                "AMOUNT_CNT": "1",
                "AMOUNT": amount,
                "SORT": str(sort * 100),
                "BASE": "Y" if code == "EUR" else "N",
                "FULL_NAME": name,
                "LID": "de",
                "FORMAT_STRING": fmt,
                "DECIMALS": "2",
            },
        )
    for sort, (name, rate) in enumerate(VAT_RATES, start=1):
        portal.old.seed(VAT, {"NAME": name, "RATE": rate, "ACTIVE": "Y", "C_SORT": str(sort * 100)})
    for number, title, symbol in MEASURES:
        portal.old.seed(
            MEASURE,
            {
                "CODE": str(number),
                "MEASURE_TITLE": title,
                "SYMBOL_RUS": symbol,
                "SYMBOL_INTL": symbol,
                "SYMBOL_LETTER_INTL": symbol.upper(),
                "IS_DEFAULT": "Y" if number == 796 else "N",
            },
        )
    portal.invoices.add_category(1, "Rechnungen")


def business_data(portal: Portal, fake: FakeData, rng: random.Random, records: int) -> None:
    """``records`` companies, contacts, products and invoices."""
    companies: list[int] = []
    for _ in range(records):
        company = fake.company()
        address = company.address
        companies.append(
            portal.old.seed(
                COMPANY,
                {
                    "TITLE": company.name,
                    "COMPANY_TYPE": "CUSTOMER",
                    "CURRENCY_ID": company.currency,
                    "ADDRESS": address.street,
                    "ADDRESS_CITY": address.city,
                    "ADDRESS_POSTAL_CODE": address.postcode,
                    "ADDRESS_PROVINCE": address.region or None,
                    "ADDRESS_COUNTRY_CODE": address.country,
                    "OPENED": "Y",
                    "ASSIGNED_BY_ID": "1",
                    "EMAIL": _multi("WORK", company.email),
                    "PHONE": _multi("WORK", company.phone),
                    "WEB": _multi("WORK", f"https://www.{company.email.partition('@')[2]}"),
                },
            )["ID"]
        )
    contacts: list[int] = []
    for _ in range(records):
        person = fake.person()
        employer = rng.choice(companies) if companies and rng.random() < 0.7 else None
        contacts.append(
            portal.old.seed(
                CONTACT,
                {
                    "NAME": person.first_name,
                    "LAST_NAME": person.last_name,
                    "POST": rng.choice(POSTS),
                    "COMPANY_ID": None if employer is None else str(employer),
                    "ADDRESS_COUNTRY_CODE": person.country,
                    "OPENED": "Y",
                    "ASSIGNED_BY_ID": "1",
                    "EMAIL": _multi("WORK", person.email),
                    "PHONE": _multi("MOBILE", person.phone),
                },
            )["ID"]
        )
    vat_ids = {
        row["RATE"]: row["ID"] for row in portal.old.table(VAT).list() if row["RATE"] is not None
    }
    no_vat = next(row["ID"] for row in portal.old.table(VAT).list() if row["RATE"] is None)
    units = {row["SYMBOL_INTL"]: row for row in portal.old.table(MEASURE).list()}
    products: list[dict[str, Any]] = []
    for _ in range(records):
        product = fake.product()
        rate = f"{product.vat_rate:.2f}"
        products.append(
            dict(
                portal.old.seed(
                    PRODUCT,
                    {
                        "NAME": product.name,
                        "XML_ID": product.code,
                        "PRICE": str(product.price),
                        "CURRENCY_ID": "EUR",
                        "VAT_ID": str(vat_ids.get(rate, no_vat)),
                        "VAT_INCLUDED": "N",
                        "MEASURE": str(units[product.unit]["ID"]),
                        "ACTIVE": "Y",
                        "SORT": "500",
                        "CATALOG_ID": "1",
                    },
                )
            )
        )
    stages = portal.invoices.stages_of(1)[:3]  # new, sent, paid
    for number in range(1, records + 1):
        to_company = bool(companies) and rng.random() < 0.6
        customer = {"companyId": rng.choice(companies)} if to_company else {}
        if not to_company and contacts:
            customer = {"contactId": rng.choice(contacts)}
        if not customer:
            break
        begin = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        reply = portal.invoices.add_item(
            {
                "entitytypeid": "31",
                "fields": {
                    "title": f"Rechnung RE-2024-{number:04d}",
                    "accountNumber": f"RE-2024-{number:04d}",
                    "stageId": rng.choice(stages),
                    "categoryId": 1,
                    "currencyId": "EUR",
                    "begindate": begin,
                    **customer,
                },
            }
        )
        invoice = reply.result["item"]["id"]
        lines = rng.sample(products, k=min(len(products), rng.randint(1, 3))) if products else []
        portal.invoices.set_rows(
            {
                "ownertype": "SI",
                "ownerid": invoice,
                "productrows": [
                    {
                        "productId": line["ID"],
                        # a row's price is with its tax: the catalog's net price plus 19 %
                        "price": str(Decimal(line["PRICE"]) * Decimal("1.19")),
                        "quantity": rng.randint(1, 5),
                        "taxRate": "19",
                        "taxIncluded": "N",
                    }
                    for line in lines
                ],
            }
        )
