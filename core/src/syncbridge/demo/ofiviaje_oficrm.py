"""The management application (OfiViaje) <-> OfiCRM, between two databases (seed 003).

OfiViaje is the ``sql`` connector on its own SQLite database (the default layout: tables
``sector``, ``company`` and ``sales_data``); OfiCRM is the ``oficrm`` connector on a stand-in
OfiCRM database built from its preset, with OfiCRM's six sectors and no customers. The demo
adds the seed's sync lines with ``syncbridge lines`` (sectors, customers, statistics after the
customers), sets a filter on the customers line, syncs the sectors, reviews the customers in a
selection (one customer and the phone column unticked) and transfers exactly that, shows the
line's report with its legend, then runs "Sync all" and the statistics line, whose pyramid
classes the engine computes from the sales figures.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import tomlkit
from rich.markup import escape

from syncbridge.connection import Connection
from syncbridge.emulator.config import connection_toml
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem

SYSTEMS = ("sql", "oficrm")
SYNC_NAME = "ofiviaje_oficrm"
#: the pyramid thresholds of the statistics line (A from 100 000 €, B from 20 000 €)
PYRAMID = {"a_from": "100000", "b_from": "20000"}
#: the customers line's filter, pushed down to OfiViaje's query: customers of these provinces
PROVINCES = ["Sevilla", "Cádiz", "Madrid"]
#: OfiViaje's sectors: code, name (HOS is one of OfiCRM's own six, EDU is not)
SECTORS = (("HOS", "Hostelería"), ("EDU", "Educación"))
#: OfiViaje's customers: code, name, tax id, city, province, phone, sector code
CUSTOMERS = (
    ("C000101", "Viajes Triana S.L.", "B58378431", "Sevilla", "Sevilla", "+34 954 000 101", "HOS"),
    ("C000102", "Lucía Romero Vidal", "12345678Z", "Cádiz", "Cádiz", "+34 956 000 102", None),
    ("C000103", "Academia Minerva S.L.", "B28015865", "Madrid", "Madrid", "+34 910 000 103",
     "EDU"),
    ("C000104", "Hoteles Cantábrico S.A.", "A28015865", "Santander", "Cantabria",
     "+34 942 000 104", "HOS"),
)
#: OfiViaje's refreshed sales statistics: customer code -> (this year's, last year's sales)
SALES = {
    "C000101": (Decimal("125000.00"), Decimal("98000.50")),
    "C000102": (Decimal("8000.00"), None),
    "C000103": (Decimal("20000.00"), Decimal("19999.99")),
}
YEAR = 2026
STATISTICS_DATE = date(2026, 12, 1)


def available() -> bool:
    return all(importlib.util.find_spec(f"syncbridge_{system}") is not None for system in SYSTEMS)


def sync_head() -> str:
    """The sync without lines: ``syncbridge lines add`` adds them."""
    return f'\n[syncs.{SYNC_NAME}]      # OfiViaje -> OfiCRM\nleft = "gestion"\nright = "crm"\n'


def config_text(gestion: dict[str, Any], crm: dict[str, Any]) -> str:
    """The config of the integration before its lines: state, both connections, the sync."""
    return ('[state]\nurl = "sqlite:///state.db"\n\n'
            + connection_toml("gestion", "sql", gestion) + "\n"
            + connection_toml("crm", "oficrm", crm) + sync_head())


def seed_ofiviaje(settings: dict[str, Any]) -> dict[str, str]:
    """OfiViaje's sectors, customers and (figures only) sales statistics, written through a
    ``sql`` connection with ``settings`` (the default layout, created on first use).

    Returns the ids of what it wrote: sector code / customer code -> OfiViaje id.
    """
    from syncbridge.models import Company, SalesData, Sector

    ids: dict[str, str] = {}
    with Connection("ofiviaje", load_connector("sql"), settings) as erp:
        def create(entity: str, records: dict[str, Any]) -> None:
            results = erp.upsert(entity, [
                UpsertItem(key=f"seed-{entity}-{code}", record=erp.map_out(entity, record))
                for code, record in records.items()])
            for code, result in zip(records, results, strict=True):
                if not result.ok:
                    raise RuntimeError(f"{entity} {code}: {result.error}")
                ids[code] = str(result.id)

        create("sector", {code: Sector(code=code, name=name) for code, name in SECTORS})
        create("company", {
            code: Company(name=name, country="ES", tax_code=tax, city=city, province=province,
                          phone=phone, external_id=code,
                          sector_id=None if sector is None else ids[sector])
            for code, name, tax, city, province, phone, sector in CUSTOMERS})
        create("sales_data", {
            f"sales-{code}": SalesData(company_id=ids[code], year=YEAR, sales_current=current,
                                       sales_previous=previous, statistics_date=STATISTICS_DATE)
            for code, (current, previous) in SALES.items()})
    return ids


def set_rule(config: Path, entity: str, **values: Any) -> None:
    """Set keys of the sync's rule of ``entity`` in the config file, keeping its comments."""
    document = tomlkit.parse(config.read_text(encoding="utf-8"))
    rule = document["syncs"][SYNC_NAME]["entities"][entity]  # type: ignore[index]
    for key, value in values.items():
        table = tomlkit.inline_table()
        if isinstance(value, dict):
            table.update(value)
            rule[key] = table  # type: ignore[index]
        else:
            rule[key] = value  # type: ignore[index]
    config.write_text(tomlkit.dumps(document), encoding="utf-8")


def untick(selection: Path, rows: set[str], columns: set[str]) -> None:
    """Untick the rows whose record label is in ``rows`` and the ``columns`` of a selection."""
    document = tomlkit.parse(selection.read_text(encoding="utf-8"))
    for row in document["rows"]:  # type: ignore[union-attr]
        if row["record"] in rows:  # type: ignore[index]
            row["tick"] = False  # type: ignore[index]
    for column in columns:
        document["columns"][column] = False  # type: ignore[index]
    selection.write_text(tomlkit.dumps(document), encoding="utf-8")


def oficrm_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _money(value: Any) -> str:
    """A sales figure as the drivers return it (SQLite: a float) in euros, or ``-``."""
    return "-" if value is None else f"{Decimal(str(value)):.2f} €"


def run_demo(folder: Path, records: int, say: Callable[[str], None],
             invoke: Callable[[list[str]], int]) -> int:
    from syncbridge_oficrm.emulator import create_database

    gestion_url = f"sqlite:///{folder}/ofiviaje.db"
    crm_url = f"sqlite:///{folder}/oficrm.db"
    ids = seed_ofiviaje({"url": gestion_url})
    create_database(crm_url, records=0)
    say(f"[bold]1.[/bold] OfiViaje (the management application, the sql connector on "
        f"{escape(gestion_url)}): {len(SECTORS)} sectors, {len(CUSTOMERS)} customers and the "
        f"sales statistics of {len(SALES)} of them (figures only, no pyramid). OfiCRM (a "
        f"stand-in database built from the oficrm preset, {escape(crm_url)}): its six "
        "sectors, no customers yet. (--records does not apply: the customers are the seed's.)")
    config = folder / "syncbridge.toml"
    config.write_text(config_text({"url": gestion_url}, {"url": crm_url, "lookback_seconds": 2}),
                      encoding="utf-8")
    args = ["-c", str(config)]

    say("[bold]2.[/bold] Sync lines: each line syncs one kind of data. Add them, change one, "
        "remove one.")
    steps = [
        ["lines", "add", "sectors", "--sync", SYNC_NAME, "--entity", "sector",
         "--direction", "left-to-right", "--every", "1d"],
        ["lines", "add", "customers", "--sync", SYNC_NAME, "--entity", "company",
         "--direction", "left-to-right", "--every", "10m"],
        ["lines", "add", "statistics", "--sync", SYNC_NAME, "--entity", "sales_data",
         "--direction", "left-to-right", "--after", "customers"],
        ["lines", "edit", "statistics", "--every", "1d"],
        ["lines", "rm", "sectors"],
        ["lines", "add", "sectors", "--sync", SYNC_NAME, "--entity", "sector",
         "--direction", "left-to-right", "--every", "1d"],
    ]
    for step in steps:
        if invoke([*args, *step]) != 0:
            return 1
    set_rule(config, "sector", match=[["code"], ["name"]])
    set_rule(config, "company", filter={"province": PROVINCES})
    set_rule(config, "sales_data", pyramid=PYRAMID)
    if invoke([*args, "lines", "list"]) != 0:
        return 1
    say(f"The customers line filters on province ({', '.join(PROVINCES)}): the filter goes "
        "into OfiViaje's query, so the customer in Cantabria is never loaded. The statistics "
        f"line classifies the sales: A from {PYRAMID['a_from']} €, B from {PYRAMID['b_from']} €.")
    say(escape(config.read_text(encoding="utf-8")))

    say("[bold]3.[/bold] The sectors line: HOS exists in OfiCRM and is linked by its code, "
        "EDU is created.")
    if invoke([*args, "run", "--line", "sectors"]) != 0:
        return 1

    selection = folder / "customers.toml"
    say("[bold]4.[/bold] Review before transfer: the plan of the customers line, written as a "
        "selection of rows and columns, each ticked.")
    if invoke([*args, "plan", "--line", "customers", "--selection", str(selection)]) != 0:
        return 1
    untick(selection, {"Lucía Romero Vidal"}, {"phone"})
    say("Unticked (here by the demo; [bold]syncbridge pick FILE[/bold] does it with the arrow "
        "keys and space): the customer Lucía Romero Vidal, and the phone column.")
    say(escape(selection.read_text(encoding="utf-8")))
    if invoke([*args, "run", "--selection", str(selection)]) != 0:
        return 1
    say("[bold]5.[/bold] The line's report, with its legend:")
    invoke([*args, "report", "--line", "customers"])

    say("[bold]6.[/bold] Sync all (--full): every customer compared again, only differences "
        "written: the unticked customer and the phones now go.")
    if invoke([*args, "run", "--full", "--line", "customers"]) != 0:
        return 1

    say("[bold]7.[/bold] After refreshing the statistics in OfiViaje, the statistics line sends "
        "the sales onto each customer's Datos de Ventas, with the pyramid classes.")
    if invoke([*args, "run", "--line", "statistics"]) != 0:
        return 1
    invoke([*args, "report", "--line", "statistics"])
    rows = oficrm_rows(crm_url, "SELECT c.codigo, v.ejercicio, v.ventas_actual, "
                       "v.ventas_anterior, v.piramide_actual, v.piramide_anterior, "
                       "v.fecha_estadistica FROM clientes_datos_ventas v JOIN clientes c "
                       "ON c.id_cliente = v.id_cliente ORDER BY c.codigo")
    for code, year, current, previous, klass, previous_class, day in rows:
        say(f"  OfiCRM {code}: {year} sales {_money(current)} ({klass}), previous "
            f"{_money(previous)} ({previous_class or '-'}), statistics of {str(day)[:10]}")
    say(f"OfiViaje ids of what it holds: {len(ids)}. Schedules: [bold]syncbridge daemon[/bold] "
        "runs the customers every 10 minutes, the sectors and the statistics daily (after "
        "the customers).")
    return 0
