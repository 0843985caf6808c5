"""Számlázz.könnyen <-> MiniCRM over HTTP, between the emulators (seed 001).

Three systems: the invoicing application's customer table (a SQLite database in the layout
of the ``szamlazz-konnyen`` preset of the sql connector), MiniCRM (its emulator, with the
"Customer" status filter) and Számlázz.hu (its emulator: the invoices and proformas the
application issues). Two syncs:

* ``szkh_minicrm``, the customers, both ways with MiniCRM's data winning: MiniCRM's customers
  are matched on the application's side by the seed's cascade (the MiniCRM id the
  application stores; name + city + address; name + mailing city + mailing address; address
  alone), found ones updated, new ones inserted (pass 1), and the application's customers
  that MiniCRM lacks are created there (pass 2), in one run;
* ``szamlazz_minicrm``, the invoices and proformas issued through Számlázz.hu, onto the
  customer's card in MiniCRM. Számlázz.hu keeps no customers: a document names its buyer by
  the application's customer id, translated with the links of ``szkh_minicrm``.

The demo builds both systems' data, shows the plan, runs the customers, issues an invoice
and a proforma in Számlázz.hu, runs the documents, and runs again to show nothing moves.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.markup import escape

from syncbridge.connection import Connection
from syncbridge.emulator import Emulator, EmulatorOptions
from syncbridge.emulator.config import connection_toml
from syncbridge.emulator.loading import installed_emulators, load_factory
from syncbridge.emulator.server import running
from syncbridge.models import DocumentLine, Invoice, Quote
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem

SYSTEMS = ("minicrm", "szamlazz")

#: the MiniCRM module whose card status marks a customer (the emulated tenant's Sales), and
#: its status ids by label
SALES = 23
STATUS_IDS = {"Lead": 2500, "Customer": 2501, "Lost": 2502}

#: seed 001: the invoicing application (left) <-> MiniCRM (right), and Számlázz.hu's
#: documents onto MiniCRM's customers
SYNC = """
[syncs.szkh_minicrm]                     # the customers ("vevők")
left = "szkh"
right = "minicrm"

[syncs.szkh_minicrm.entities.company]
direction = "both"                       # pass 1 (MiniCRM -> app) and pass 2 (app -> MiniCRM)
priority = "right"                       # a customer found in both: MiniCRM's data wins
match = [["external_id"],                # 1. the MiniCRM id the app stores (minicrm_id)
         ["name", "city", "address"],    # 2. name + city + address
         ["name", "mailing_city", "mailing_address"],  # 3. name + mailing city and address
         ["address"]]                    # 4. the address alone

[syncs.szamlazz_minicrm]                 # invoices and proformas issued through Számlázz.hu
left = "szamlazz"
right = "minicrm"
links_from = { company = "szkh_minicrm" }  # a buyer is the app's customer id

[syncs.szamlazz_minicrm.entities.invoice]
direction = "left-to-right"

[syncs.szamlazz_minicrm.entities.quote]  # proformas (díjbekérő)
direction = "left-to-right"
"""

#: the MiniCRM connection's settings beside the emulator's: the "Customer" filter
CUSTOMER_FILTER: dict[str, Any] = {"customer_category": SALES, "statuses": ["Customer"]}

#: the columns of the application's customer table a reader looks at, in order
COLUMNS = (
    "vevo_id",
    "nev",
    "adoszam",
    "orszag",
    "irsz",
    "varos",
    "cim",
    "lev_irsz",
    "lev_varos",
    "lev_cim",
    "email",
    "telefon",
    "minicrm_id",
)

Place = tuple[str, str, str]  # postal code, city, street address


@dataclass(frozen=True)
class Business:
    """A MiniCRM company (Business contact) with its Sales card's status."""

    name: str
    status: str
    office: Place
    mailing: Place | None = None
    tax_number: str = ""
    phone: str = ""


#: MiniCRM's companies: each of the cascade's levels has its own, a new one, a Lead, and one
#: that two local customers match equally
BUSINESSES = (
    Business(
        "Alfa Kft.",
        "Customer",
        ("1051", "Budapest", "Nádor utca 1"),
        tax_number="12345676241",
        phone="+36 1 555 0101",
    ),
    Business("Béta Bt.", "Customer", ("4024", "Debrecen", "Piac utca 1")),
    Business(
        "Gamma Zrt.",
        "Customer",
        ("6720", "Szeged", "Kárász utca 3"),
        mailing=("7621", "Pécs", "Király utca 5"),
    ),
    Business("Delta Kft.", "Customer", ("9021", "Győr", "Baross út 10")),
    Business(
        "Epszilon Kft.",
        "Customer",
        ("3525", "Miskolc", "Széchenyi utca 7"),
        tax_number="13579131-2-42",
    ),
    Business("Lead Kft.", "Lead", ("1011", "Budapest", "Fő utca 2")),
    Business("Zéta Kft.", "Customer", ("8000", "Székesfehérvár", "Fő utca 9")),
)

#: the application's customers before the first sync; ``minicrm_id`` "@Alfa Kft." stands
#: for the MiniCRM id of that company (known once MiniCRM holds it)
LOCAL_CUSTOMERS: tuple[dict[str, str], ...] = (
    # 1. carries the MiniCRM id: found by it, renamed and moved to MiniCRM's data
    {
        "nev": "Alfa Kereskedelmi Kft.",
        "varos": "Budapest",
        "cim": "Régi utca 1",
        "minicrm_id": "@Alfa Kft.",
    },
    # 2. same name, city and address: found, its phone goes to MiniCRM, which had none
    {
        "nev": "Béta Bt.",
        "irsz": "4024",
        "varos": "Debrecen",
        "cim": "Piac utca 1",
        "telefon": "+36 52 000 000",
    },
    # 3. the office moved, the mailing address is the same: found by name + mailing address
    {
        "nev": "Gamma Zrt.",
        "varos": "Szeged",
        "cim": "Régi cím 2",
        "lev_irsz": "7621",
        "lev_varos": "Pécs",
        "lev_cim": "Király utca 5",
    },
    # 4. another name and city spelling, the same street address: found by the address
    {"nev": "Delta Kft. (régi név)", "varos": "Győr-Gyirmót", "cim": "Baross út 10"},
    # two customers equally like MiniCRM's Zéta Kft.: ambiguous, nothing is guessed
    {"nev": "Zéta Kft.", "varos": "Székesfehérvár", "cim": "Fő utca 9", "email": "a@zeta.hu"},
    {"nev": "Zéta Kft.", "varos": "Székesfehérvár", "cim": "Fő utca 9", "email": "b@zeta.hu"},
    # only in the application: created in MiniCRM (pass 2)
    {
        "nev": "Éta Kft.",
        "orszag": "HU",
        "irsz": "1111",
        "varos": "Budapest",
        "cim": "Bartók Béla út 5",
        "adoszam": "11111111242",
    },
    {
        "nev": "Théta Bt.",
        "orszag": "HU",
        "irsz": "6000",
        "varos": "Kecskemét",
        "cim": "Rákóczi út 8",
        "lev_irsz": "6001",
        "lev_varos": "Kecskemét",
        "lev_cim": "Pf. 12",
    },
)

#: the lines of the documents the demo issues: 42,490 net, 10,374.50 VAT, 52,864.50 gross
LINES = (
    DocumentLine(
        description="Tanácsadás",
        quantity=Decimal(3),
        unit_price=Decimal("12500"),
        vat_percent=Decimal(27),
        unit="óra",
    ),
    DocumentLine(
        description="Szakkönyv",
        quantity=Decimal(1),
        unit_price=Decimal("4990"),
        vat_percent=Decimal(5),
        unit="db",
    ),
)


def available() -> bool:
    return all(system in installed_emulators() for system in SYSTEMS) and (
        importlib.util.find_spec("syncbridge_sql") is not None
    )


# -- the systems' data ------------------------------------------------------------------------
def add_business(emulator: Emulator, business: Business) -> int:
    """A company as MiniCRM holds it (contact, addresses, Sales card); its MiniCRM id."""
    row = emulator.store.table("contact").insert(
        {
            "Type": "Business",
            "Name": business.name,
            "Email": "",
            "Phone": business.phone,
            "VatNumber": business.tax_number,
            "EUVatNumber": "",
            "Description": "",
        }
    )
    for kind, place in (("Székhely", business.office), ("Levelezési cím", business.mailing)):
        if place is not None:
            emulator.store.table("address").insert(
                {
                    "ContactId": row["id"],
                    "Type": kind,
                    "Name": kind,
                    "CountryId": "HU",
                    "PostalCode": place[0],
                    "City": place[1],
                    "County": "",
                    "Address": place[2],
                    "Default": 1 if kind == "Székhely" else 0,
                }
            )
    emulator.store.table("project").insert(
        {
            "CategoryId": SALES,
            "ContactId": row["id"],
            "StatusId": STATUS_IDS[business.status],
            "UserId": 501,
            "Name": business.name,
            "Deleted": 0,
        }
    )
    return int(row["id"])


def create_invoicing_app(
    url: str, customers: Iterable[Mapping[str, str]], minicrm_ids: Mapping[str, int]
) -> sa.Engine:
    """The application's database with its customers, as the application would create it."""
    presets = importlib.import_module("syncbridge_sql.presets")
    engine = sa.create_engine(url)
    presets.PRESETS["szamlazz-konnyen"].create(engine)
    table = sa.Table("vevok", sa.MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        for customer in customers:
            row = dict(customer)
            if row.get("minicrm_id", "").startswith("@"):
                row["minicrm_id"] = str(minicrm_ids[row["minicrm_id"][1:]])
            connection.execute(table.insert().values(**row))
    return engine


def customers(engine: sa.Engine) -> list[tuple[Any, ...]]:
    """The application's customers, :data:`COLUMNS` of each, by id."""
    with engine.connect() as connection:
        query = sa.text(f"SELECT {', '.join(COLUMNS)} FROM vevok ORDER BY vevo_id")
        return [tuple(row) for row in connection.execute(query)]


def issue(
    settings: Mapping[str, Any],
    entity: str,
    customer: tuple[Any, ...],
    day: date,
    lines: Iterable[DocumentLine] = LINES,
) -> str:
    """Issue an invoice or a proforma (``quote``) in Számlázz.hu to a customer of the
    application, as the application does: the buyer identifier is the customer's id, the
    buyer's name and address are printed on the document. Its number."""
    fields = dict(zip(COLUMNS, customer, strict=True))
    common: dict[str, Any] = {
        "date": day,
        "currency": "HUF",
        "lines": list(lines),
        "company_id": str(fields["vevo_id"]),
    }
    due = day + timedelta(days=8)
    record: Invoice | Quote = (
        Invoice(**common, status="issued", due_date=due)
        if entity == "invoice"
        else Quote(**common, status="sent", valid_until=due)
    )
    with Connection("demo-szamlazz", load_connector("szamlazz"), dict(settings)) as conn:
        native = conn.map_out(entity, record)
        native["vevo"].update(
            nev=fields["nev"],
            irsz=fields["irsz"] or "",
            telepules=fields["varos"] or "",
            cim=fields["cim"] or "",
        )
        [result] = conn.upsert(
            entity, [UpsertItem(key=f"szkh-{entity}-{fields['vevo_id']}-{day}", record=native)]
        )
    if not result.ok or result.id is None:
        raise RuntimeError(f"issuing the {entity} failed: {result.error}")
    return result.id


def documents(emulator: Emulator) -> list[tuple[Any, ...]]:
    """MiniCRM's documents: (customer id, type, number, net, VAT, gross), by id."""
    return [
        (
            row["CustomerId"],
            row["Type"],
            row["Number"],
            row["AmountNet"],
            row["AmountVat"],
            row["Amount"],
        )
        for row in emulator.store.table("invoice").list()
    ]


def config_text(
    db_url: str,
    minicrm: Mapping[str, Any],
    szamlazz: Mapping[str, Any],
    state: str = "sqlite:///state.db",
) -> str:
    """The seed's configuration for these three systems."""
    return (
        f'[state]\nurl = "{state}"\n'
        + connection_toml("szkh", "sql", {"url": db_url, "preset": "szamlazz-konnyen"})
        + connection_toml("minicrm", "minicrm", {**minicrm, **CUSTOMER_FILTER})
        + connection_toml("szamlazz", "szamlazz", szamlazz)
        + SYNC
    )


# -- the demo ---------------------------------------------------------------------------------
def _table(rows: list[tuple[Any, ...]], header: Iterable[str]) -> str:
    lines = [" | ".join(header)]
    lines += [" | ".join("" if value is None else str(value) for value in row) for row in rows]
    return escape("\n".join(f"   {line}" for line in lines))


def run_demo(
    folder: Path, records: int, say: Callable[[str], None], invoke: Callable[[list[str]], int]
) -> int:
    with ExitStack() as stack:
        options = EmulatorOptions(records=records, seed=1, rate_limits=False)
        crm = load_factory("minicrm")(options)
        agent = load_factory("szamlazz")(EmulatorOptions(records=0, seed=1, rate_limits=False))
        crm_url = stack.enter_context(running(crm.app))
        agent_url = stack.enter_context(running(agent.app))
        ids = {business.name: add_business(crm, business) for business in BUSINESSES}
        db_url = f"sqlite:///{folder / 'szkh.db'}"
        engine = create_invoicing_app(db_url, LOCAL_CUSTOMERS, ids)
        stack.callback(engine.dispose)
        say(
            f"[bold]1.[/bold] MiniCRM emulator on {crm_url} ({records} seeded Hungarian "
            f"companies, a Sales card each: Customer, Customer, Lead, Lost, ..., and "
            f"{len(BUSINESSES)} more for the matching cascade), Számlázz.hu's Agent emulator on "
            f"{agent_url}, and the invoicing application's customer table (vevok) in "
            f"{folder / 'szkh.db'}:\n" + _table(customers(engine), COLUMNS)
        )
        config = folder / "syncbridge.toml"
        config.write_text(
            config_text(db_url, crm.settings_for(crm_url), agent.settings_for(agent_url)),
            encoding="utf-8",
        )
        say(
            f"[bold]2.[/bold] The config ({config.name}), the emulators' credentials included:"
            f"\n{escape(config.read_text(encoding='utf-8'))}"
        )
        args = ["-c", str(config)]
        say("[bold]3.[/bold] syncbridge check — the three connections answer.")
        invoke([*args, "check"])
        say("[bold]4.[/bold] syncbridge plan — the dry run of both passes: nothing is written.")
        invoke([*args, "plan", "--sync", "szkh_minicrm"])
        say(
            "[bold]5.[/bold] syncbridge run — pass 1: MiniCRM's customers (status Customer, not "
            "the Lead) found locally by MiniCRM id, name + city + address, name + mailing "
            "address, or address, and updated with MiniCRM's data, the new ones inserted; "
            "pass 2: the local customers MiniCRM lacks created there. The two Zéta Kft. are "
            "reported ambiguous."
        )
        code = invoke([*args, "run", "-v", "--sync", "szkh_minicrm"])
        say("   The customer table now:\n" + _table(customers(engine), COLUMNS))
        rows = customers(engine)
        day = date.today()
        alfa, epszilon, theta = (
            next(r for r in rows if r[1] == name)
            for name in ("Alfa Kft.", "Epszilon Kft.", "Théta Bt.")
        )
        settings = agent.settings_for(agent_url)
        issued = [
            issue(settings, "invoice", alfa, day),
            issue(settings, "quote", epszilon, day),
            issue(settings, "invoice", theta, day),
        ]
        say(
            f"[bold]6.[/bold] The application issues through Számlázz.hu: invoice {issued[0]} "
            f"to {alfa[1]}, proforma {issued[1]} to {epszilon[1]} (new in pass 1) and invoice "
            f"{issued[2]} to {theta[1]} (created in MiniCRM in pass 2), the buyer identifier "
            "being the local customer id."
        )
        say(
            "[bold]7.[/bold] syncbridge run — the documents go onto the customers' cards in "
            "MiniCRM (their buyers translated with the customer sync's links)."
        )
        code = max(code, invoke([*args, "run", "-v", "--sync", "szamlazz_minicrm"]))
        say(
            "   MiniCRM's documents (customer, type, number, net, VAT, gross):\n"
            + _table(
                documents(crm)[-len(issued) :],
                ("CustomerId", "Type", "Number", "AmountNet", "AmountVat", "Amount"),
            )
        )
        say(
            "[bold]8.[/bold] syncbridge run — again: what the first runs wrote reads back as "
            "their own (the MiniCRM ids of the customers created in pass 2 are stored locally)."
        )
        code = max(code, invoke([*args, "run", "-v"]))
        say("   The customer table at the end:\n" + _table(customers(engine), COLUMNS))
        say(
            "[bold]9.[/bold] syncbridge log minicrm — the last requests to MiniCRM, the API key "
            "redacted."
        )
        invoke([*args, "log", "minicrm", "--last", "8"])
        return code
