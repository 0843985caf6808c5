"""Seeded documents: ``records`` invoices and ``records`` proformas of Hungarian buyers.

Issued through the ledger like any request (numbers in the account's default sequences,
amounts computed as a client computes them), so seeded documents are exactly what the
Agent would hold; every invoice has a credit entry (every third one pays it in full).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from syncbridge.emulator import FakeData
from syncbridge_szamlazz.emulator.ledger import Item, Ledger, Payment, money, today

_KEYS = ("27", "27", "5", "18", "AAM")


def _items(fake: FakeData, count: int) -> list[Item]:
    items = []
    for _ in range(count):
        product = fake.product("HU")
        quantity = Decimal(fake.rng.randint(1, 5))
        key = fake.pick(_KEYS)
        net = money(quantity * product.price)
        vat = money(net * (Decimal(key) if key.isdigit() else Decimal(0)) / 100)
        items.append(
            Item(
                product.name,
                product.code,
                quantity,
                product.unit,
                product.price,
                key,
                net,
                vat,
                net + vat,
            )
        )
    return items


def populate(ledger: Ledger, fake: FakeData, records: int) -> None:
    """Issue the seeded documents."""
    day = today()
    for kind in ("SZ", "D"):
        for index in range(records):
            company = fake.company("HU")
            issued = day - timedelta(days=fake.rng.randint(0, 20))
            fields = {
                "kind": kind,
                "e_invoice": False,
                "issued": issued,
                "fulfilled": issued,
                "due": issued + timedelta(days=8),
                "payment_method": "Átutalás",
                "currency": "HUF",
                "language": "hu",
                "notes": "",
                "order_number": f"SEED-{kind}-{index + 1}",
                "external_id": "",
                "buyer": {
                    "nev": company.name,
                    "orszag": "Magyarország",
                    "irsz": company.address.postcode,
                    "telepules": company.address.city,
                    "cim": company.address.street,
                    "email": company.email,
                    "adoszam": "",
                    "adoszamEU": "",
                    "azonosito": f"C{index + 1}",
                    "telefonszam": company.phone,
                },
                "items": _items(fake, fake.rng.randint(1, 3)),
            }
            document = ledger.issue(fields, ledger.prefixes[0])
            if kind == "SZ":  # every third paid in full, the others a third of it
                paid = document.gross if index % 3 == 2 else money(document.gross / 3)
                document.payments.append(Payment(issued, "Átutalás", paid, f"seed {index + 1}"))
