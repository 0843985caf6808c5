"""The engine end to end: a management application (SQLite, through the sql connector) pushes
its companies and products to Fatture in Cloud one way; a second run writes nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

import syncbridge_sql.connector as sql_connector
from syncbridge.config import EntityRule, SyncConfig
from syncbridge.connection import Connection
from syncbridge.engine.report import RUN_ITEM
from syncbridge.engine.runner import run_sync
from syncbridge.models import Company, Product
from syncbridge.records import UpsertItem
from syncbridge.state import StateStore

COMPANIES = [
    Company(
        name="Esposito Edilizia S.r.l.",
        country="IT",
        vat_number="IT00743110157",
        tax_code="00743110157",
        address="Via Toledo 45",
        postal_code="80134",
        city="Napoli",
        province="NA",
        email="info@esposito-edilizia.it",
        phone="+39 081 555 0101",
    ),
    Company(
        name="Fontana Ottica S.n.c.",
        country="IT",
        vat_number="IT00047120019",
        address="Corso Italia 8",
        postal_code="56125",
        city="Pisa",
        province="PI",
    ),
    Company(
        name="Weber Maschinen GmbH",
        country="DE",
        vat_number="DE136695976",
        city="München",
        notes="Fornitore estero",
    ),
]
PRODUCTS = [
    Product(
        name="Tagliando caldaia",
        code="TAG-01",
        price=Decimal("120.00"),
        unit="pezzi",
        category="Servizi",
    ),
    Product(
        name="Ora di manodopera",
        code="MAN-H",
        price=Decimal("38.50"),
        unit="ore",
        description="Tariffa oraria feriale",
    ),
    Product(name="Articolo senza codice", price=Decimal("5")),
]


def _seed(connection: Connection, entity: str, records: list[Any]) -> None:
    results = connection.upsert(
        entity,
        [
            UpsertItem(key=f"seed-{entity}-{i}", record=connection.map_out(entity, record))
            for i, record in enumerate(records)
        ],
    )
    assert all(result.ok for result in results), [r.error for r in results]


def test_one_way_sync_of_companies_and_products(serve: Any, tmp_path: Path) -> None:
    fic = serve(records=0)
    erp = Connection("erp", sql_connector, {"url": f"sqlite:///{tmp_path}/erp.db"})
    _seed(erp, "company", COMPANIES)
    _seed(erp, "product", PRODUCTS)
    right = fic.connect()
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    sync = SyncConfig(
        left="erp",
        right="fic",
        entities={
            "company": EntityRule(direction="left-to-right"),
            "product": EntityRule(direction="left-to-right"),
        },
    )
    try:
        first = run_sync("erp-fic", sync, {"left": erp, "right": right}, store)
        counts = {r.entity: dict(r.counts) for r in first.entities}
        assert counts == {"product": {"created": 2, "skipped": 1}, "company": {"created": 3}}
        with store.engine.connect() as db:
            failed = (
                db.execute(
                    select(RUN_ITEM.c.reason).where(
                        RUN_ITEM.c.run_id == first.run_id, RUN_ITEM.c.action == "skipped"
                    )
                )
                .scalars()
                .all()
            )
        assert failed == ["no product code"]
        assert not first.failed  # a product without a code is left out, not an error

        clients = sorted(fic.emulator.table(1051, "clients").list(), key=lambda r: r["name"])
        fields = (
            "name",
            "vat_number",
            "tax_code",
            "address_street",
            "address_postal_code",
            "address_city",
            "address_province",
            "country",
            "country_iso",
            "email",
            "phone",
            "notes",
        )
        assert [{k: row.get(k) for k in fields} for row in clients] == [
            {
                "name": "Esposito Edilizia S.r.l.",
                "vat_number": "00743110157",
                "tax_code": "00743110157",
                "address_street": "Via Toledo 45",
                "address_postal_code": "80134",
                "address_city": "Napoli",
                "address_province": "NA",
                "country": "Italia",
                "country_iso": "IT",
                "email": "info@esposito-edilizia.it",
                "phone": "+39 081 555 0101",
                "notes": None,
            },
            {
                "name": "Fontana Ottica S.n.c.",
                "vat_number": "00047120019",
                "tax_code": None,
                "address_street": "Corso Italia 8",
                "address_postal_code": "56125",
                "address_city": "Pisa",
                "address_province": "PI",
                "country": "Italia",
                "country_iso": "IT",
                "email": None,
                "phone": None,
                "notes": None,
            },
            {
                "name": "Weber Maschinen GmbH",
                "vat_number": "DE136695976",
                "tax_code": None,
                "address_street": None,
                "address_postal_code": None,
                "address_city": "München",
                "address_province": None,
                "country": "Germania",
                "country_iso": "DE",
                "email": None,
                "phone": None,
                "notes": "Fornitore estero",
            },
        ]
        products = sorted(fic.emulator.table(1051, "products").list(), key=lambda r: r["code"])
        assert [
            {k: row.get(k) for k in ("name", "code", "net_price", "measure", "category", "notes")}
            for row in products
        ] == [
            {
                "name": "Ora di manodopera",
                "code": "MAN-H",
                "net_price": 38.5,
                "measure": "ore",
                "category": None,
                "notes": "Tariffa oraria feriale",
            },
            {
                "name": "Tagliando caldaia",
                "code": "TAG-01",
                "net_price": 120.0,
                "measure": "pezzi",
                "category": "Servizi",
                "notes": None,
            },
        ]

        fic.emulator.requests.reset()
        second = run_sync("erp-fic", sync, {"left": erp, "right": right}, store)
        assert second.writes == 0
        assert fic.emulator.requests.count("POST") == fic.emulator.requests.count("PUT") == 0
        assert {r.entity: r.counts["created"] + r.counts["updated"] for r in second.entities} == {
            "product": 0,
            "company": 0,
        }
    finally:
        erp.close()
        store.close()
