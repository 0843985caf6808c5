"""Seeded Italian data for the emulator: what a small Italian business keeps in Fatture in Cloud.

Reference data (VAT types with their natures, payment methods and accounts, currencies, units)
is fixed and the same for every seed; clients, products, quotes, orders and invoices are drawn
from the emulator's seeded generator, so ``--records K --seed S`` is reproducible. Client VAT
numbers carry valid check digits (the core's fake data draws them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from syncbridge.emulator import FakeData, Store, Table
from syncbridge_fattureincloud.documents import E_INVOICE_SENT
from syncbridge_fattureincloud.emulator.documents import Numbering, build

#: ``GET /info/measures``: units of measure are plain strings
MEASURES = ("pezzi", "kg", "litri", "ore", "giorni", "km", "mesi", "metri")

#: ``GET /info/currencies`` (global)
CURRENCIES = (
    {"id": "EUR", "symbol": "€", "exchange_rate": "1.00000", "html_symbol": "&euro;"},
    {"id": "USD", "symbol": "$", "exchange_rate": "1.08230", "html_symbol": "$"},
    {"id": "GBP", "symbol": "£", "exchange_rate": "0.85520", "html_symbol": "&pound;"},
    {"id": "CHF", "symbol": "CHF", "exchange_rate": "0.94310", "html_symbol": "CHF"},
    {"id": "JPY", "symbol": "¥", "exchange_rate": "161.45000", "html_symbol": "&yen;"},
)

#: id -> (value, notes, nature): id 0 is the standard 22% rate, as in Fatture in Cloud
VAT_TYPES: tuple[tuple[int, float, str, str | None], ...] = (
    (0, 22, "", None),
    (1, 10, "", None),
    (2, 5, "", None),
    (3, 4, "", None),
    (4, 0, "Non soggetta art. 7-ter DPR 633/72", "N2.1"),
    (5, 0, "Non imponibile art. 8 c.1 lett. a DPR 633/72", "N3.1"),
    (6, 0, "Esente art. 10 DPR 633/72", "N4"),
    (7, 0, "Inversione contabile art. 17 c.6 lett. a-ter", "N6.7"),
)

PAYMENT_ACCOUNTS: tuple[dict[str, Any], ...] = (
    {
        "id": 1,
        "name": "Intesa Sanpaolo c/c",
        "type": "bank",
        "iban": "IT60X0542811101000000123456",
        "sia": None,
        "cuc": None,
        "virtual": False,
    },
    {
        "id": 2,
        "name": "Cassa",
        "type": "standard",
        "iban": None,
        "sia": None,
        "cuc": None,
        "virtual": False,
    },
    {
        "id": 3,
        "name": "Carta aziendale",
        "type": "standard",
        "iban": None,
        "sia": None,
        "cuc": None,
        "virtual": False,
    },
)

#: (id, name, type, account id, e-invoice code, is default)
PAYMENT_METHODS = (
    (1, "Bonifico bancario", "standard", 1, "MP05", True),
    (2, "Contanti", "standard", 2, "MP01", False),
    (3, "Ri.Ba. 30 gg d.f.", "riba", 1, "MP12", False),
    (4, "Carta di credito", "standard", 3, "MP08", False),
)

LABELS = {"quote": "Preventivo", "order": "Ordine", "invoice": "Fattura"}

#: name, unit, category: a small Italian catalogue
CATALOGUE = (
    ("Consulenza tecnica", "ore", "Servizi"),
    ("Installazione impianto", "ore", "Servizi"),
    ("Manutenzione annuale", "mesi", "Servizi"),
    ("Sopralluogo", "giorni", "Servizi"),
    ("Licenza software gestionale", "pezzi", "Software"),
    ("Caldaia a condensazione 24 kW", "pezzi", "Impianti"),
    ("Pannello fotovoltaico 400 W", "pezzi", "Impianti"),
    ("Cavo elettrico FG16", "metri", "Materiali"),
    ("Vernice murale bianca", "litri", "Materiali"),
    ("Caffè in grani", "kg", "Alimentari"),
    ("Olio extravergine d'oliva", "litri", "Alimentari"),
    ("Trasporto merci", "km", "Logistica"),
    ("Noleggio ponteggio", "giorni", "Noleggi"),
    ("Corso di formazione", "giorni", "Formazione"),
)


def seed_settings(store: Store, company_id: int) -> None:
    """The company's VAT types, payment accounts and payment methods."""
    vat_types = store.table(f"{company_id}/vat_types", start=0)
    for vat_id, value, notes, nature in VAT_TYPES:
        vat_types.insert(
            {
                "value": value,
                "notes": notes or None,
                "e_invoice": True,
                "ei_type": nature,
                "ei_description": notes or None,
                "editable": vat_id != 0,
                "is_disabled": False,
                "default": vat_id == 0,
            },
            id=vat_id,
        )
    accounts = store.table(f"{company_id}/payment_accounts")
    for account in PAYMENT_ACCOUNTS:
        accounts.insert({k: v for k, v in account.items() if k != "id"}, id=int(account["id"]))
    methods = store.table(f"{company_id}/payment_methods")
    for method_id, name, kind, account_id, ei_code, default in PAYMENT_METHODS:
        stored = accounts.get(account_id)
        assert stored is not None
        methods.insert(
            {
                "name": name,
                "type": kind,
                "is_default": default,
                "default_payment_account": {
                    k: v for k, v in stored.items() if k not in ("created_at", "updated_at")
                },
                "details": [],
                "bank_iban": stored.get("iban"),
                "bank_name": "Intesa Sanpaolo" if stored.get("iban") else None,
                "bank_beneficiary": None,
                "ei_payment_method": ei_code,
            },
            id=method_id,
        )


def client_record(fake: FakeData) -> dict[str, Any]:
    """A client: mostly companies with a VAT number, some private persons."""
    rng = fake.rng
    if rng.random() < 0.2:
        person = fake.person("IT")
        address = fake.address("IT")
        return {
            "name": person.full_name,
            "type": "person",
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "phone": person.phone,
            "address_street": address.street,
            "address_postal_code": address.postcode,
            "address_city": address.city,
            "address_province": address.region,
            "country": "Italia",
            "country_iso": "IT",
            "default_payment_terms": 0,
            "default_payment_terms_type": "standard",
            "e_invoice": False,
            "ei_code": "0000000",
        }
    company = fake.company("IT")
    return {
        "code": f"CL{rng.randint(1000, 9999)}",
        "name": company.name,
        "type": "company",
        "vat_number": company.vat_number,
        "tax_code": company.vat_number,
        "address_street": company.address.street,
        "address_postal_code": company.address.postcode,
        "address_city": company.address.city,
        "address_province": company.address.region,
        "country": "Italia",
        "country_iso": "IT",
        "email": company.email,
        "certified_email": company.email.replace("info@", "pec@"),
        "phone": company.phone,
        "contact_person": fake.person("IT").full_name,
        "default_payment_terms": rng.choice((0, 30, 60)),
        "default_payment_terms_type": rng.choice(("standard", "end_of_month")),
        "e_invoice": True,
        "ei_code": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(7)),
    }


def product_record(fake: FakeData, index: int) -> dict[str, Any]:
    name, measure, category = fake.pick(CATALOGUE)
    price = fake.amount(Decimal("5"), Decimal("2500"))
    vat_id = 0 if fake.rng.random() < 0.85 else 1
    return {
        "name": name,
        "code": f"ART-{index:05d}",
        "net_price": float(price),
        "gross_price": float((price * Decimal("1.22")).quantize(Decimal("0.01"))),
        "use_gross_price": False,
        "default_vat": {"id": vat_id, "value": 22 if vat_id == 0 else 10},
        "net_cost": float((price * Decimal("0.6")).quantize(Decimal("0.01"))),
        "measure": measure,
        "category": category,
        "notes": None,
        "in_stock": measure == "pezzi",
        "stock_initial": 10.0 if measure == "pezzi" else None,
        "stock_current": 10.0 if measure == "pezzi" else None,
    }


def seed_documents(
    fake: FakeData, tables: Mapping[str, Table], numbering: Numbering, count: int
) -> None:
    """``count`` quotes, orders and invoices, over the company's clients and products."""
    clients = tables["clients"].list()
    products = tables["products"].list()
    if not clients or not products:
        return
    documents = tables["documents"]
    rng = fake.rng
    start = date(2024, 1, 8)
    for doc_type in ("quote", "order", "invoice"):
        for _ in range(count):
            when = start + timedelta(days=rng.randrange(0, 360))
            client = fake.pick(clients)
            lines = []
            for _line in range(rng.randint(1, 3)):
                product = fake.pick(products)
                lines.append(
                    {
                        "product_id": product["id"],
                        "code": product.get("code"),
                        "name": product["name"],
                        "qty": float(rng.randint(1, 10)),
                        "measure": product.get("measure"),
                        "net_price": product.get("net_price"),
                        "discount": float(rng.choice((0, 0, 0, 5, 10))),
                        "vat": {"id": product["default_vat"]["id"]},
                    }
                )
            data: dict[str, Any] = {
                "type": doc_type,
                "entity": {"id": client["id"], "name": client["name"]},
                "date": when.isoformat(),
                "subject": f"{LABELS[doc_type]} per {client['name']}",
                "items_list": lines,
                "payment_method": {"id": 1, "name": "Bonifico bancario"},
            }
            state: str | None = None
            if doc_type == "invoice":
                paid = rng.random() < 0.4
                data["payments_list"] = [
                    {
                        "due_date": (when + timedelta(days=30)).isoformat(),
                        "amount": 0,
                        "status": "paid" if paid else "not_paid",
                        "paid_date": (when + timedelta(days=20)).isoformat() if paid else None,
                        "payment_account": {"id": 1, "name": "Intesa Sanpaolo c/c"}
                        if paid
                        else None,
                    }
                ]
                data["e_invoice"] = True
                state = rng.choice(("accepted", "sent", "not_sent"))
            doc = build(data, {"fix_payments": True}, current=None, tables=tables, today=when)
            doc["number"] = numbering.next(doc)
            numbering.add(doc)
            doc["ei_status"] = state
            doc["locked"] = state in E_INVOICE_SENT
            doc["url"] = f"https://compute.fattureincloud.it/doc/{rng.getrandbits(40):x}.pdf"
            documents.insert(doc)
