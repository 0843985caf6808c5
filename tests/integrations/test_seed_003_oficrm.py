"""Seed 003: the management application (OfiViaje) <-> OfiCRM, end to end through the CLI.

OfiViaje is the ``sql`` connector (default layout) and OfiCRM the ``oficrm`` connector on its
stand-in database, both on SQLite, then both on PostgreSQL and on MariaDB when reachable
(skipped naming the server, failed under ``CI=true``). The sync lines are added, edited and
removed with ``syncbridge lines``; the customers line's filter reaches OfiViaje's query; a
reviewed selection transfers exactly the ticked rows and columns; the line's report has its
legend; "Sync all" sends what was left out; the statistics line sends the sales figures, and the
engine's pyramid classes, onto each customer's sales data in OfiCRM.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import tomlkit
from click.testing import CliRunner, Result

from syncbridge.cli import main
from syncbridge.connection import Connection
from syncbridge.demo import ofiviaje_oficrm as demo
from syncbridge.demo.ofiviaje_oficrm import (
    SYNC_NAME,
    config_text,
    seed_ofiviaje,
    set_rule,
    untick,
)
from syncbridge.models import SalesData
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from syncbridge.testing.servers import DATABASES, database_url, drop_tables_ending
from syncbridge_oficrm.emulator import SECTORS as OFICRM_SECTORS
from syncbridge_oficrm.emulator import create_database
from syncbridge_oficrm.preset import TABLES as OFICRM_TABLES

ERP_ENTITIES = ("sector", "company", "sales_data")


@dataclass
class Integration:
    folder: Path
    config: Path
    suffix: str
    engine: sa.Engine
    gestion: dict[str, Any]
    crm: dict[str, Any]

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["-c", str(self.config), *args], env={"COLUMNS": "200"})

    def ok(self, *args: str) -> Result:
        result = self.cli(*args)
        assert result.exit_code == 0, result.output + result.stderr
        return result

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of OfiCRM's tables: ``{clientes}`` etc. name this test's tables."""
        names = {table: f"{table}_{self.suffix}" for table in OFICRM_TABLES.values()}
        names.update({entity: self.erp_table(entity) for entity in ERP_ENTITIES})
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql.format(**names)))]

    def erp_table(self, entity: str) -> str:
        return f"ofiviaje_{entity}_{self.suffix}"

    def erp(self) -> Connection:
        return Connection("ofiviaje-test", load_connector("sql"), self.gestion)


@pytest.fixture(params=DATABASES)
def integration(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Integration]:
    url = database_url(request.param, tmp_path)
    suffix = uuid.uuid4().hex[:8]
    engine = sa.create_engine(url)
    gestion = {"url": url, "tables": {e: f"ofiviaje_{e}_{suffix}" for e in ERP_ENTITIES}}
    # OfiCRM stamps whole seconds here (CURRENT_TIMESTAMP on SQLite and MariaDB): the
    # lookback its README asks for then (assumption 8)
    crm = {"url": url, "tables": {e: f"{t}_{suffix}" for e, t in OFICRM_TABLES.items()},
           "lookback_seconds": 2}
    try:
        create_database(records=0, **crm)  # OfiCRM's six sectors, no customers
        config = tmp_path / "syncbridge.toml"
        config.write_text(config_text(gestion, crm), encoding="utf-8")
        yield Integration(tmp_path, config, suffix, engine, gestion, crm)
    finally:
        drop_tables_ending(engine, suffix)
        engine.dispose()


def _plain(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Decimals and dates the same on every driver (SQLite: floats and ISO text)."""
    return tuple(
        Decimal(str(v)) if isinstance(v, float | Decimal)
        else v.isoformat()[:10] if isinstance(v, date)
        else v
        for v in row
    )


def _report(integration: Integration, line: str, run: int, *extra: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        integration.ok("report", str(run), "--line", line, "--json", *extra).output)
    return rows


def _run_number(result: Result) -> int:
    found = re.findall(r"Run #(\d+) of sync", result.output)
    assert len(found) == 1, result.output
    return int(found[0])


def test_lines_filter_review_report_sync_all_and_statistics(integration: Integration) -> None:
    ids = seed_ofiviaje(integration.gestion)
    lines = integration.ok

    # -- the sync lines: added, changed, removed (and a removal the config refuses)
    lines("lines", "add", "sectors", "--sync", SYNC_NAME, "--entity", "sector",
          "--direction", "both")
    lines("lines", "edit", "sectors", "--direction", "left-to-right", "--every", "1d")
    lines("lines", "add", "customers", "--sync", SYNC_NAME, "--entity", "company",
          "--direction", "left-to-right", "--every", "1h")
    lines("lines", "edit", "customers", "--every", "10m")
    lines("lines", "add", "statistics", "--sync", SYNC_NAME, "--entity", "sales_data",
          "--direction", "left-to-right", "--after", "sectors")
    lines("lines", "edit", "statistics", "--after", "customers")
    before = integration.config.read_text(encoding="utf-8")
    refused = integration.cli("lines", "rm", "customers")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[-2:] == [
        "config error: syncs.ofiviaje_oficrm.entities.sales_data.after: no line named "
        "'customers'; did you mean 'sectors'? (lines: sectors, statistics)",
        f"refused: {integration.config} is left unchanged (the change would make it invalid)",
    ]
    assert integration.config.read_text(encoding="utf-8") == before
    lines("lines", "rm", "statistics")
    lines("lines", "rm", "customers")
    assert "customers" not in integration.config.read_text(encoding="utf-8")
    lines("lines", "add", "customers", "--sync", SYNC_NAME, "--entity", "company",
          "--direction", "left-to-right", "--every", "10m")
    lines("lines", "add", "statistics", "--sync", SYNC_NAME, "--entity", "sales_data",
          "--direction", "left-to-right", "--every", "1d", "--after", "customers")
    listed = json.loads(lines("lines", "list", "--json").output)
    assert [(x["line"], x["entity"], x["direction"], x["every"], x["after"]) for x in listed] == [
        ("sectors", "sector", "left-to-right", "1d", []),
        ("customers", "company", "left-to-right", "10m", []),
        ("statistics", "sales_data", "left-to-right", "1d", ["customers"]),
    ]
    # the filter, the sector match and the pyramid thresholds: keys of the lines' rules
    set_rule(integration.config, "sector", match=[["code"], ["name"]])
    set_rule(integration.config, "company", filter={"province": ["Sevilla", "Cádiz", "Madrid"]})
    set_rule(integration.config, "sales_data", pyramid={"a_from": "100000", "b_from": "20000"})
    lines("check")

    # -- the sectors line: HOS linked by its code, EDU created; nothing else moves
    sectors = lines("run", "--line", "sectors")
    assert "company" not in sectors.output
    assert integration.rows("SELECT id_sector, codigo, descripcion FROM {sectores} "
                            "ORDER BY id_sector") == [
        *((i, code, name) for i, (code, name) in enumerate(OFICRM_SECTORS, start=1)),
        (len(OFICRM_SECTORS) + 1, "EDU", "Educación"),
    ]
    assert integration.rows("SELECT COUNT(*) FROM {clientes}") == [(0,)]
    ofi_sector = dict(integration.rows("SELECT codigo, id_sector FROM {sectores}"))

    # -- review before transfer: the plan of the filtered customers line as a selection
    selection = integration.folder / "customers.toml"
    planned = lines("plan", "--line", "customers", "--selection", str(selection))
    # pushed down: OfiViaje's query returned the three customers of the filter's provinces
    assert "company: 3 records read from the left (gestion)" in planned.output + planned.stderr
    assert integration.rows("SELECT COUNT(*) FROM {company}") == [(4,)]
    reviewed = tomlkit.parse(selection.read_text(encoding="utf-8"))
    assert (reviewed["line"], reviewed["entity"]) == ("customers", "company")
    assert [(r["record"], r["action"], r["tick"]) for r in reviewed["rows"]] == [
        ("Viajes Triana S.L.", "created", True),
        ("Lucía Romero Vidal", "created", True),
        ("Academia Minerva S.L.", "created", True),
    ]
    assert reviewed["columns"]["phone"] is True
    untick(selection, rows={"Lucía Romero Vidal"}, columns={"phone", "province"})
    assert integration.rows("SELECT COUNT(*) FROM {clientes}") == [(0,)]  # a plan writes nothing

    transferred = lines("run", "--selection", str(selection))
    selected_run = _run_number(transferred)
    assert integration.rows(
        "SELECT codigo, nombre, cif_nif, poblacion, provincia, telefono, id_sector "
        "FROM {clientes} ORDER BY codigo") == [
        ("C000101", "Viajes Triana S.L.", "B58378431", "Sevilla", None, None, ofi_sector["HOS"]),
        ("C000103", "Academia Minerva S.L.", "B28015865", "Madrid", None, None,
         ofi_sector["EDU"]),
    ]
    ofi_customer = dict(integration.rows("SELECT codigo, id_cliente FROM {clientes}"))

    # -- the line's report: the legend in the terminal, the rows in JSON and CSV
    report = lines("report", str(selected_run), "--line", "customers")
    assert "legend:" in report.output
    for outcome in ("created", "updated", "filtered", "waiting", "failed"):
        assert outcome in report.output.split("legend:")[1]
    assert [(r["entity"], r["side"], r["record_id"], r["target_id"], r["outcome"])
            for r in _report(integration, "customers", selected_run)] == [
        ("company", "left", ids["C000101"], str(ofi_customer["C000101"]), "created"),
        ("company", "left", ids["C000103"], str(ofi_customer["C000103"]), "created"),
    ]

    # -- the statistics line: Lucía Romero's figures wait for her customer
    statistics = integration.cli("run", "--line", "statistics")
    assert statistics.exit_code == 0, statistics.output + statistics.stderr
    waiting = _report(integration, "statistics", _run_number(statistics))
    assert sorted((r["record_id"], r["outcome"]) for r in waiting) == sorted([
        (ids["sales-C000101"], "created"),
        (ids["sales-C000102"], "waiting"),
        (ids["sales-C000103"], "created"),
    ])

    # -- an ordinary run sends nothing more for the ticked rows' columns it already sent;
    #    "Sync all" compares every customer again and writes only what differs
    sync_all = lines("run", "--full", "--line", "customers")
    full = _report(integration, "customers", _run_number(sync_all))
    assert sorted((r["record_id"], r["outcome"]) for r in full) == sorted([
        (ids["C000101"], "updated"),
        (ids["C000102"], "created"),
        (ids["C000103"], "updated"),
    ])
    assert integration.rows(
        "SELECT codigo, nombre, cif_nif, provincia, telefono, id_sector "
        "FROM {clientes} ORDER BY codigo") == [
        ("C000101", "Viajes Triana S.L.", "B58378431", "Sevilla", "+34 954 000 101",
         ofi_sector["HOS"]),
        ("C000102", "Lucía Romero Vidal", "12345678Z", "Cádiz", "+34 956 000 102", None),
        ("C000103", "Academia Minerva S.L.", "B28015865", "Madrid", "+34 910 000 103",
         ofi_sector["EDU"]),
    ]
    again = lines("run", "--full", "--line", "customers")  # nothing differs: nothing written
    assert [r["outcome"] for r in _report(integration, "customers", _run_number(again))] == []
    ofi_customer = dict(integration.rows("SELECT codigo, id_cliente FROM {clientes}"))

    # -- someone changes a transferred customer in OfiCRM: an ordinary run of the one-way
    #    line sends nothing (OfiViaje did not change); Sync all puts OfiViaje's value back.
    #    OfiCRM stamps the edit in whole seconds, likely in the second of the last sync's
    #    write: the connection's lookback_seconds still reads it.
    with integration.engine.begin() as conn:
        conn.execute(sa.text(
            f"UPDATE clientes_{integration.suffix} SET poblacion = 'Utrera', "
            "fecha_modificacion = CURRENT_TIMESTAMP WHERE codigo = 'C000101'"))
    ordinary = lines("run", "--line", "customers")
    assert [(r["record_id"], r["outcome"], r["reason"]) for r in _report(
        integration, "customers", _run_number(ordinary), "--all")] == [
        (ids["C000101"], "skipped", "changed on the right only; direction is left-to-right")]
    assert integration.rows("SELECT poblacion FROM {clientes} WHERE codigo = 'C000101'") == [
        ("Utrera",)]
    restored = lines("run", "--full", "--line", "customers")
    assert [(r["record_id"], r["outcome"]) for r in _report(
        integration, "customers", _run_number(restored))] == [(ids["C000101"], "updated")]
    assert integration.rows("SELECT codigo, poblacion FROM {clientes} ORDER BY codigo") == [
        ("C000101", "Sevilla"), ("C000102", "Cádiz"), ("C000103", "Madrid")]

    # -- the sales statistics and the pyramid classes on OfiCRM's customers
    lines("run", "--line", "statistics")
    sales_sql = ("SELECT c.codigo, v.id_cliente, v.ejercicio, v.ventas_actual, v.ventas_anterior, "
                 "v.piramide_actual, v.piramide_anterior, v.fecha_estadistica "
                 "FROM {clientes_datos_ventas} v JOIN {clientes} c ON c.id_cliente = v.id_cliente "
                 "ORDER BY c.codigo")
    assert [_plain(row) for row in integration.rows(sales_sql)] == [
        ("C000101", ofi_customer["C000101"], 2026, Decimal("125000.00"), Decimal("98000.50"),
         "A", "B", "2026-12-01"),
        ("C000102", ofi_customer["C000102"], 2026, Decimal("8000.00"), None, "C", None,
         "2026-12-01"),
        ("C000103", ofi_customer["C000103"], 2026, Decimal("20000.00"), Decimal("19999.99"),
         "B", "C", "2026-12-01"),
    ]
    # OfiViaje keeps only its figures: the classes were computed for OfiCRM
    assert integration.rows("SELECT pyramid_current, pyramid_previous FROM {sales_data}") == [
        (None, None)] * 3

    # -- statistics refreshed in OfiViaje, and a new customer whose CIF is wrong
    erp = integration.erp()
    try:
        [refreshed] = erp.upsert("sales_data", [UpsertItem(
            key="refresh", id=ids["sales-C000102"],
            changed=frozenset({"sales_current", "statistics_date"}),
            record=erp.map_out("sales_data", SalesData(
                company_id=ids["C000102"], year=2026, sales_current=Decimal("150000"),
                statistics_date=date(2026, 12, 6))))])
        assert refreshed.ok, refreshed.error
        # typed into OfiViaje with a wrong check digit: a native row, no canonical check
        [wrong] = erp.upsert("company", [UpsertItem(key="wrong", record={
            "name": "Viajes Errata S.L.", "country": "ES", "tax_code": "B58378432",
            "city": "Madrid", "province": "Madrid", "external_id": "C000105"})])
        assert wrong.ok, wrong.error
    finally:
        erp.close()
    both = integration.cli("run", "--line", "customers", "--line", "statistics")
    assert both.exit_code == 1, both.output + both.stderr  # the wrong CIF failed its row
    failed = [r for r in _report(integration, "customers", _last_run(integration))
              if r["outcome"] == "failed"]
    assert [(r["record_id"], r["outcome"]) for r in failed] == [(str(wrong.id), "failed")]
    assert failed[0]["reason"] == (
        "tax_code: 'B58378432' is not a valid Spanish NIF: its check digit is wrong")
    as_csv = list(csv.DictReader(io.StringIO(integration.ok(
        "report", "--line", "statistics", "--csv").output)))
    assert [(r["record_id"], r["outcome"]) for r in as_csv] == [
        (ids["sales-C000102"], "updated")]
    assert [_plain(row) for row in integration.rows(sales_sql)][1] == (
        "C000102", ofi_customer["C000102"], 2026, Decimal("150000.00"), None, "A", None,
        "2026-12-06")
    assert integration.rows("SELECT COUNT(*) FROM {clientes}") == [(3,)]
    assert integration.rows("SELECT COUNT(*) FROM {clientes_datos_ventas}") == [(3,)]


def _last_run(integration: Integration) -> int:
    rows = json.loads(integration.ok("report", "--json", "--all").output)
    return max(int(r["run"]) for r in rows)


def test_the_seed_003_demo_runs_between_the_two_databases(tmp_path: Path) -> None:
    said: list[str] = []

    def invoke(args: list[str]) -> int:
        result = CliRunner().invoke(main, args, env={"COLUMNS": "200"})
        said.append(result.output)
        return result.exit_code

    assert demo.available()
    assert demo.run_demo(tmp_path, 5, said.append, invoke) == 0
    text = "\n".join(said)
    assert "legend:" in text
    assert "company: 3 records read from the left (gestion)" in text
    for shown in ("OfiCRM C000101: 2026 sales 125000.00 € (A), previous 98000.50 € (B), "
                  "statistics of 2026-12-01",
                  "OfiCRM C000102: 2026 sales 8000.00 € (C), previous - (-), "
                  "statistics of 2026-12-01",
                  "OfiCRM C000103: 2026 sales 20000.00 € (B), previous 19999.99 € (C), "
                  "statistics of 2026-12-01"):
        assert shown in text
    url = f"sqlite:///{tmp_path}/oficrm.db"
    assert demo.oficrm_rows(url, "SELECT codigo, telefono FROM clientes ORDER BY codigo") == [
        ("C000101", "+34 954 000 101"), ("C000102", "+34 956 000 102"),
        ("C000103", "+34 910 000 103")]
