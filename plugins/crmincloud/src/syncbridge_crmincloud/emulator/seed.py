"""Seeded Italian data for the emulator: what a small CRM in Cloud tenant holds.

Drawn from the emulator base's fake-data helpers with the emulator's seeded generator, so
``--records K --seed S`` gives the same tenant everywhere: VAT rates and catalog categories
(fixed, as an Italian tenant is set up), then ``records`` companies, contacts, catalog items
and quotes, each pointing only at records seeded before it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from syncbridge.emulator import FakeData, Store
from syncbridge.emulator.fake import ascii_slug

#: (taxCode, taxValue, taxDescription): the rates an Italian tenant is set up with
TAX_VALUES = (
    ("22", 22, "Iva 22%"),
    ("10", 10, "Iva 10%"),
    ("5", 5, "Iva 5%"),
    ("4", 4, "Iva 4%"),
    ("N4", 0, "Esente art. 10 DPR 633/72"),
)
CATEGORIES = ("Servizi", "Hardware", "Software", "Materiali di consumo", "Formazione")
QUOTE_STATUSES = ("draft", "draft", "sent", "sent", "accepted", "rejected")
FIRST_QUOTE_DAY = date(2024, 1, 8)


def seed(store: Store, fake: FakeData, rng: random.Random, records: int) -> None:
    """Fill ``store`` with a tenant of ``records`` records per main entity."""
    for code, value, description in TAX_VALUES:
        store.table("taxvalue").insert(
            {"taxCode": code, "taxValue": value, "taxDescription": description, "active": 1}
        )
    categories = [
        store.table("catalogcategories").insert({"description": name, "parentId": None})["id"]
        for name in CATEGORIES
    ]
    companies = [_company(store, fake, index) for index in range(1, records + 1)]
    contacts = [_contact(store, fake, rng, companies) for _ in range(records)]
    products = [_product(store, fake, rng, categories) for _ in range(records)]
    for index in range(1, records + 1):
        _quote(store, rng, index, companies, contacts, products)


def _company(store: Store, fake: FakeData, index: int) -> dict[str, object]:
    company = fake.company("IT")
    domain = company.email.partition("@")[2]
    row = store.table("company").insert(
        {
            "companyName": company.name,
            "code": f"C{index:05d}",
            "description": None if index % 3 else "Cliente storico, pagamento a 60 giorni",
            "address": company.address.street,
            "city": company.address.city,
            "zipCode": company.address.postcode,
            "province": company.address.region,
            "state": "IT",
            "vatId": company.vat_number,
            # an Italian company's codice fiscale is its partita IVA
            "taxIdentificationNumber": company.vat_number,
            "emails": [{"value": company.email}],
            "phones": [{"value": company.phone}],
            "webSite": f"https://www.{domain}",
        }
    )
    return dict(row)


def _contact(
    store: Store, fake: FakeData, rng: random.Random, companies: list[dict[str, object]]
) -> dict[str, object]:
    company = rng.choice(companies) if companies and rng.random() < 0.75 else None
    domain = str(company["webSite"]).removeprefix("https://www.") if company else None
    person = fake.person("IT", domain=domain)
    address = fake.address("IT")
    row = store.table("contact").insert(
        {
            "name": person.first_name,
            "surname": person.last_name,
            "companyId": company["id"] if company else None,
            "address": address.street,
            "city": address.city,
            "zipCode": address.postcode,
            "province": address.region,
            "state": "IT",
            "vatId": None,
            "taxIdentificationNumber": None,
            "emails": [{"value": person.email}],
            "phones": [{"value": person.phone}],
            "webSite": None,
        }
    )
    return dict(row)


def _product(
    store: Store, fake: FakeData, rng: random.Random, categories: list[int]
) -> dict[str, object]:
    product = fake.product("IT")
    tax_code = "22" if rng.random() < 0.8 else rng.choice(("10", "4"))
    row = store.table("catalog").insert(
        {
            "active": 1,
            "code": product.code,
            "codeEAN": None,
            "productName": product.name,
            "description": f"{product.name} ({product.unit})",
            "price": float(product.price),
            "taxCode": tax_code,
            "category": rng.choice(categories),
        }
    )
    return dict(row)


def _quote(
    store: Store,
    rng: random.Random,
    index: int,
    companies: list[dict[str, object]],
    contacts: list[dict[str, object]],
    products: list[dict[str, object]],
) -> None:
    if not companies:
        return
    company = rng.choice(companies)
    people = [c for c in contacts if c["companyId"] == company["id"]]
    day = FIRST_QUOTE_DAY + timedelta(days=3 * index)
    rows = []
    for product in rng.sample(products, k=min(len(products), rng.randint(1, 3))):
        rows.append(
            {
                "catalogId": product["id"],
                "code": product["code"],
                "description": product["productName"],
                "quantity": rng.randint(1, 10),
                "unitPrice": product["price"],
                "discount": rng.choice((0, 0, 10)),
                "taxCode": product["taxCode"],
            }
        )
    store.table("quote").insert(
        {
            "companyId": company["id"],
            "contactId": people[0]["id"] if people else None,
            "number": f"{day.year}/{index:04d}",
            "date": day.isoformat(),
            "expirationDate": (day + timedelta(days=30)).isoformat(),
            "title": f"Offerta {ascii_slug(str(company['companyName'])).split('-')[0].title()}",
            "description": None,
            "status": rng.choice(QUOTE_STATUSES),
            "currency": "EUR",
            "rows": rows,
        }
    )
