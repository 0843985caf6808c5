"""The demo behind ``make demo``: a two-way sync between two SQL databases, step by step.

A "management application" database (left) and a CRM database (right) are generated with
overlapping companies, so the first run shows matching as well as creating; then a record is
edited on each side, and one on both, to show incremental two-way sync and a conflict
resolved by priority. Everything runs in a throwaway folder.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from rich.markup import escape

from syncbridge.connection import Connection
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem

CITIES = [
    ("Milano", "IT", "20121"),
    ("Roma", "IT", "00184"),
    ("Torino", "IT", "10121"),
    ("Budapest", "HU", "1051"),
    ("København", "DK", "1050"),
    ("Madrid", "ES", "28013"),
    ("Berlin", "DE", "10115"),
]
NAMES = [
    "Rossi",
    "Bianchi",
    "Kovács",
    "Nielsen",
    "García",
    "Müller",
    "Ferrari",
    "Esposito",
    "Horváth",
    "Jensen",
    "Romano",
    "Colombo",
    "Szabó",
    "Hansen",
    "Schmidt",
    "Ricci",
]
KINDS = ["S.r.l.", "S.p.A.", "Kft.", "ApS", "S.L.", "GmbH", "& Figli", "Trading"]
STREETS = ["Via Roma", "Corso Italia", "Andrássy út", "Strøget", "Calle Mayor", "Hauptstraße"]

CONFIG = """\
# written by `syncbridge demo`: a management application <-> CRM, both SQLite
[state]
url = "sqlite:///state.db"

[connections.erp]
connector = "sql"
settings = {{ url = "sqlite:///{erp}" }}

[connections.crm]
connector = "sql"
settings = {{ url = "sqlite:///{crm}" }}

[syncs.erp_crm]
left = "erp"
right = "crm"

[syncs.erp_crm.entities.vat_rate]
direction = "both"

[syncs.erp_crm.entities.company]
direction = "both"
priority = "left"
match = [["vat_number"], ["name", "city"]]
exclude = ["notes"]

[syncs.erp_crm.entities.product]
direction = "left-to-right"
match = [["code"]]
"""


def companies(rng: random.Random, count: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for index in range(count):
        city, country, postal = rng.choice(CITIES)
        out.append(
            {
                "name": f"{rng.choice(NAMES)} {rng.choice(KINDS)} {index + 1}",
                "country": country,
                "city": city,
                "postal_code": postal,
                "address": f"{rng.choice(STREETS)} {rng.randint(1, 199)}",
                "email": f"info{index + 1}@example.com",
                "phone": f"+39 02 {rng.randint(1000000, 9999999)}",
            }
        )
    return out


def seed(folder: Path, records: int, seed_value: int = 7) -> tuple[Path, Path]:
    """Write the two databases; a third of the CRM's companies also exist in the ERP."""
    rng = random.Random(seed_value)
    erp, crm = folder / "erp.db", folder / "crm.db"
    connector = load_connector("sql")
    rows = companies(rng, records)
    with (
        Connection("erp", connector, {"url": f"sqlite:///{erp}"}) as left,
        Connection("crm", connector, {"url": f"sqlite:///{crm}"}) as right,
    ):
        for conn, rates in ((left, ("22", "10", "4")), (right, ("22", "10", "5"))):
            conn.upsert(
                "vat_rate",
                [
                    UpsertItem(key=f"v{r}", record={"rate": Decimal(r), "name": f"IVA {r}%"})
                    for r in rates
                ],
            )
        left.upsert(
            "company", [UpsertItem(key=f"l{i}", record=dict(row)) for i, row in enumerate(rows)]
        )
        shared = rows[: records // 3]
        crm_only = companies(random.Random(seed_value + 1), records // 4)
        for row in crm_only:
            row["name"] = f"CRM {row['name']}"
        right.upsert(
            "company",
            [UpsertItem(key=f"r{i}", record=dict(row)) for i, row in enumerate(shared + crm_only)],
        )
        left.upsert(
            "product",
            [
                UpsertItem(
                    key=f"p{i}",
                    record={
                        "name": f"Articolo {i + 1}",
                        "code": f"ART-{i + 1:04d}",
                        "price": Decimal(rng.randint(100, 99999)) / 100,
                        "currency": "EUR",
                    },
                )
                for i in range(records // 2)
            ],
        )
    return erp, crm


def edit(folder: Path) -> list[str]:
    """One change on each side and one on both: returns what was done, for the narration."""
    connector = load_connector("sql")
    done = []
    with (
        Connection("erp", connector, {"url": f"sqlite:///{folder / 'erp.db'}"}) as left,
        Connection("crm", connector, {"url": f"sqlite:///{folder / 'crm.db'}"}) as right,
    ):
        left.upsert(
            "company",
            [
                UpsertItem(
                    key="e1",
                    id="1",
                    record={"phone": "+39 02 1111111"},
                    changed=frozenset({"phone"}),
                )
            ],
        )
        done.append("ERP company 1: phone changed to +39 02 1111111")
        right.upsert(
            "company",
            [
                UpsertItem(
                    key="e2",
                    id="2",
                    record={"email": "sales@new.example"},
                    changed=frozenset({"email"}),
                )
            ],
        )
        done.append("CRM company 2: email changed to sales@new.example")
        left.upsert(
            "company",
            [UpsertItem(key="e3", id="3", record={"city": "Bergamo"}, changed=frozenset({"city"}))],
        )
        right.upsert(
            "company",
            [UpsertItem(key="e4", id="3", record={"city": "Brescia"}, changed=frozenset({"city"}))],
        )
        done.append(
            "company 3: city set to Bergamo in the ERP and to Brescia in the CRM "
            "(a conflict: the ERP has priority)"
        )
    return done


def write_config(folder: Path, erp: Path, crm: Path) -> Path:
    path = folder / "syncbridge.toml"
    path.write_text(CONFIG.format(erp=erp, crm=crm), encoding="utf-8")
    return path


def run_demo(
    folder: Path, records: int, say: Callable[[str], None], invoke: Callable[[list[str]], int]
) -> int:
    say(
        f"[bold]1.[/bold] Two databases in {folder}: an ERP with {records} companies, a CRM "
        "sharing a third of them (without ids in common) plus its own."
    )
    erp, crm = seed(folder, records)
    config = write_config(folder, erp, crm)
    say(f"[bold]2.[/bold] The config ({config.name}):\n{escape(config.read_text())}")
    say("[bold]3.[/bold] syncbridge plan — the dry run: nothing is written.")
    invoke(["-c", str(config), "plan"])
    say(
        "[bold]4.[/bold] syncbridge run — matching links the shared companies, the rest is created."
    )
    code = invoke(["-c", str(config), "run"])
    say("[bold]5.[/bold] syncbridge run again — nothing to do: every write is recognised as ours.")
    invoke(["-c", str(config), "run"])
    say("[bold]6.[/bold] Edits on both sides:")
    for line in edit(folder):
        say(f"   - {line}")
    say("[bold]7.[/bold] syncbridge run -v — only the edited records move, both ways.")
    code = invoke(["-c", str(config), "run", "-v"])
    say("[bold]8.[/bold] syncbridge report — the last run, row by row.")
    invoke(["-c", str(config), "report"])
    return code
