"""An engine sync of seed 003's customers line: management application (sql) -> OfiCRM."""

from __future__ import annotations

from typing import TYPE_CHECKING

import syncbridge_sql.connector
from syncbridge.config import EntityRule, SyncConfig
from syncbridge.connection import Connection
from syncbridge.engine.runner import run_sync
from syncbridge.models import Company
from syncbridge.records import UpsertItem
from syncbridge.state import StateStore

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import OfiDb

CUSTOMERS = [
    Company(
        name="Viajes Triana S.L.",
        country="ES",
        tax_code="B58378431",
        city="Sevilla",
        external_id="C000101",
    ),
    Company(
        name="Lucía Romero Vidal",
        country="ES",
        tax_code="12345678Z",
        city="Cádiz",
        external_id="C000102",
    ),
    Company(
        name="Hoteles Cantábrico S.A.",
        country="ES",
        tax_code="A28015865",
        city="Santander",
        external_id="C000103",
        phone="+34 942 000 000",
    ),
]


def test_customers_line_from_the_management_database_into_oficrm(
    ofidb: OfiDb, tmp_path: Path
) -> None:
    erp = Connection("erp", syncbridge_sql.connector, {"url": f"sqlite:///{tmp_path}/erp.db"})
    results = erp.upsert(
        "company",
        [
            UpsertItem(key=f"c{i}", record=erp.map_out("company", c))
            for i, c in enumerate(CUSTOMERS)
        ],
    )
    assert all(r.ok for r in results)
    crm = ofidb.connect(ofidb.seed(records=0))
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    sync = SyncConfig(
        left="erp",
        right="oficrm",
        entities={"company": EntityRule(line="customers", direction="left-to-right")},
    )
    connections = {"left": erp, "right": crm}

    first = run_sync("erp-to-oficrm", sync, connections, store)  # type: ignore[arg-type]

    assert not first.failed
    assert {r.entity: dict(r.counts)["created"] for r in first.entities} == {"company": 3}
    assert ofidb.rows(
        "SELECT codigo, nombre, cif_nif, poblacion, telefono FROM clientes_{s} ORDER BY codigo"
    ) == [
        ("C000101", "Viajes Triana S.L.", "B58378431", "Sevilla", None),
        ("C000102", "Lucía Romero Vidal", "12345678Z", "Cádiz", None),
        ("C000103", "Hoteles Cantábrico S.A.", "A28015865", "Santander", "+34 942 000 000"),
    ]

    [moved] = erp.upsert(
        "company",
        [
            UpsertItem(
                key="u",
                id=results[0].id,
                changed=frozenset({"city"}),
                record=erp.map_out(
                    "company", CUSTOMERS[0].model_copy(update={"city": "Dos Hermanas"})
                ),
            )
        ],
    )
    assert moved.ok
    second = run_sync("erp-to-oficrm", sync, connections, store)  # type: ignore[arg-type]

    assert not second.failed
    assert {r.entity: dict(r.counts)["updated"] for r in second.entities} == {"company": 1}
    assert ofidb.rows("SELECT poblacion FROM clientes_{s} ORDER BY codigo") == [
        ("Dos Hermanas",),
        ("Cádiz",),
        ("Santander",),
    ]
    assert ofidb.rows("SELECT COUNT(*) FROM clientes_{s}") == [(3,)]
    erp.close()
