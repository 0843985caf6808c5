"""Seed 004: QuickBooks Online -> Bitrix24, end to end over HTTP between the emulators.

Customers become Bitrix24 companies or contacts by their type, invoices arrive linked to
them with product rows and the stage their QuickBooks state calls for (sent -> the second
kanban stage, paid -> paid), new records follow within the daemon's interval, a Bitrix24
invoice can be pushed to QuickBooks explicitly ("Create invoice"), and revoking the
QuickBooks connection stops the sync with a clear message.

Money arrives as it left: QuickBooks invoice 1121 (13,359.24 net at 19 % and 7 % VAT, 1,886.37
VAT, 15,245.61 in all) arrives with the same totals and each row's tax rate, an invoice whose
target cannot carry its VAT fails with the amounts instead of arriving without it, and an
invoice written by the sync reads back as its own write, whatever Bitrix24 fills in.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from syncbridge.cli import main
from syncbridge.connection import Connection
from syncbridge.credentials import MemoryCredentials
from syncbridge.emulator import EmulatorOptions
from syncbridge.emulator.config import connection_toml
from syncbridge.emulator.server import running
from syncbridge.models import model_for
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from syncbridge_bitrix24.emulator import create_app as b24_app
from syncbridge_quickbooks.emulator import create_app as qbo_app

SYNC = """
[syncs.qbo_b24]
left = "qbo"
right = "b24"

[syncs.qbo_b24.entities.company]
direction = "left-to-right"
every = "2m"

[syncs.qbo_b24.entities.contact]
direction = "left-to-right"
every = "2m"

[syncs.qbo_b24.entities.product]
direction = "left-to-right"
every = "2m"

[syncs.qbo_b24.entities.invoice]
direction = "left-to-right"
every = "2m"
"""


@dataclass
class Integration:
    config: Path
    qbo_settings: dict[str, Any]
    b24_settings: dict[str, Any]

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["-c", str(self.config), *args],
                                  env={"COLUMNS": "200"})

    def connection(self, side: str) -> Connection:
        if side == "qbo":
            # a test connection of its own: its own credentials, the sync's stay untouched
            return Connection("qbo-test", load_connector("quickbooks"), self.qbo_settings,
                              credentials=MemoryCredentials())
        return Connection("b24-test", load_connector("bitrix24"), self.b24_settings)

    def natives(self, side: str, entity: str) -> list[dict[str, Any]]:
        with self.connection(side) as conn:
            return [native for page in conn.fetch(entity) for native in page.records]

    def records(self, side: str, entity: str) -> list[Any]:
        with self.connection(side) as conn:
            return [record for page in conn.fetch(entity)
                    for record in conn.map_page(entity, page)]

    def create(self, side: str, entity: str, data: dict[str, Any]) -> str:
        with self.connection(side) as conn:
            context: dict[str, Any] = {}
            native = conn.map_out(entity, model_for(entity).model_validate(data), context)
            [result] = conn.upsert(entity, [UpsertItem(key=f"test-{entity}-{data}",
                                                       record=native, context=context)])
        assert result.ok and result.id is not None, result.error
        return result.id


@pytest.fixture
def integration(tmp_path: Path) -> Iterator[Integration]:
    qbo = qbo_app(EmulatorOptions(records=10, seed=4, rate_limits=False))
    b24 = b24_app(EmulatorOptions(records=0, seed=4, rate_limits=False))
    with running(qbo.app) as qbo_url, running(b24.app) as b24_url:
        qbo_settings, b24_settings = qbo.settings_for(qbo_url), b24.settings_for(b24_url)
        config = tmp_path / "syncbridge.toml"
        config.write_text('[state]\nurl = "sqlite:///state.db"\n'
                          + connection_toml("qbo", "quickbooks", qbo_settings)
                          + connection_toml("b24", "bitrix24", b24_settings) + SYNC)
        yield Integration(config, qbo_settings, b24_settings)


def test_the_first_run_imports_customers_by_type_and_invoices_with_their_stage(
    integration: Integration,
) -> None:
    first = integration.cli("run")
    assert first.exit_code == 0, first.output + first.stderr
    for entity in ("company", "contact", "product", "invoice"):
        assert len(integration.records("b24", entity)) == len(integration.records("qbo", entity))
    assert sorted(c.name for c in integration.records("b24", "company")) == sorted(
        c.name for c in integration.records("qbo", "company"))
    assert sorted(c.name for c in integration.records("b24", "contact")) == sorted(
        c.name for c in integration.records("qbo", "contact"))

    # every invoice is linked to the twin of its QuickBooks customer, with its rows
    qbo_names = {c.id: c.name for c in integration.records("qbo", "company")}
    qbo_names |= {c.id: c.name for c in integration.records("qbo", "contact")}
    b24_names = {("company", c.id): c.name for c in integration.records("b24", "company")}
    b24_names |= {("contact", c.id): c.name for c in integration.records("b24", "contact")}

    def shape(invoice: Any, party: str | None) -> tuple[Any, ...]:
        rows = tuple((line.description, line.quantity, line.unit_price) for line in invoice.lines)
        return (invoice.number, party, rows)

    assert Counter(
        shape(i, qbo_names.get(i.company_id or i.contact_id))
        for i in integration.records("qbo", "invoice")
    ) == Counter(
        shape(i, b24_names.get(("company", i.company_id)) or b24_names.get(
            ("contact", i.contact_id)))
        for i in integration.records("b24", "invoice")
    )
    # sent invoices sit in the second kanban stage, paid ones in the paid stage
    stage_of = {str(native["id"]): native["stageId"]
                for native in integration.natives("b24", "invoice")}
    b24_stage = {i.number: stage_of[i.id] for i in integration.records("b24", "invoice")}
    expected = {"paid": "DT31_1:P", "draft": "DT31_1:N", "cancelled": "DT31_1:D"}
    for qbo_invoice in integration.records("qbo", "invoice"):
        status = qbo_invoice.status.value
        assert b24_stage[qbo_invoice.number] == expected.get(status, "DT31_1:S"), status
    assert "DT31_1:S" in b24_stage.values() and "DT31_1:P" in b24_stage.values()
    # the report of imported elements
    report = json.loads(integration.cli("report", "--json").output)
    assert Counter(r["entity"] for r in report if r["outcome"] == "created") == {
        entity: len(integration.records("qbo", entity))
        for entity in ("company", "contact", "product", "invoice")}
    again = integration.cli("run", "-q")
    assert again.exit_code == 0
    assert [r for r in json.loads(integration.cli("report", "--json").output)
            if r["outcome"] != "skipped"] == []


def test_a_full_run_after_the_first_finds_everything_in_step(integration: Integration) -> None:
    # Bitrix24 keeps one stage for "sent", "issued" and "partially_paid" invoices and fills
    # in a title of its own: neither is a change to report, nor a reason to write
    assert integration.cli("run", "-q").exit_code == 0
    statuses = Counter(i.status.value for i in integration.records("qbo", "invoice"))
    assert statuses["issued"] + statuses["partially_paid"] > 0  # the case is in the data
    for _ in range(2):
        full = integration.cli("run", "-q", "--full")
        assert full.exit_code == 0, full.output
        rows = json.loads(integration.cli("report", "--json", "--all").output)
        assert Counter((r["outcome"], r["reason"]) for r in rows) == Counter(
            {("skipped", "already in step"): len(rows)})


def test_new_customers_and_invoices_arrive_with_the_daemon(integration: Integration) -> None:
    assert integration.cli("run", "-q").exit_code == 0
    integration.config.write_text(integration.config.read_text().replace('"2m"', '"1s"'))
    customer = integration.create("qbo", "company", {"name": "Neukunde GmbH", "city": "Köln",
                                                     "country": "DE"})
    product = integration.records("qbo", "product")[0]
    integration.create("qbo", "invoice", {
        "number": "NEU-1", "date": "2026-11-23", "company_id": customer, "currency": "USD",
        "lines": [{"description": product.name, "product_id": product.id, "quantity": "2",
                   "unit_price": "50"}]})
    daemon = integration.cli("daemon", "--for", "4")
    assert daemon.exit_code == 0, daemon.output
    [company] = [c for c in integration.records("b24", "company") if c.name == "Neukunde GmbH"]
    [invoice] = [i for i in integration.records("b24", "invoice") if i.number == "NEU-1"]
    assert invoice.company_id == company.id


def test_create_invoice_from_bitrix24_pushes_the_customer_first(integration: Integration) -> None:
    assert integration.cli("run", "-q").exit_code == 0
    company = integration.create("b24", "company", {"name": "Bitrix-only AG", "city": "Bonn"})
    invoice = integration.create("b24", "invoice", {
        "number": "B24-1", "date": "2026-11-23", "company_id": company, "currency": "USD",
        "status": "draft",
        "lines": [{"description": "Beratung", "quantity": "3", "unit_price": "80"}]})
    pushed = integration.cli("push", "qbo_b24", "invoice", "--from", "right",
                             "--record", invoice, "-q")
    assert pushed.exit_code == 0, pushed.output + pushed.stderr
    [customer] = [c for c in integration.records("qbo", "company") if c.name == "Bitrix-only AG"]
    [created] = [i for i in integration.records("qbo", "invoice")
                 if [line.description for line in i.lines] == ["Beratung"]]
    assert created.company_id == customer.id
    assert [(line.quantity, line.unit_price) for line in created.lines] == [(
        __import__("decimal").Decimal("3"), __import__("decimal").Decimal("80"))]


def test_revoking_quickbooks_stops_the_sync_with_a_clear_message(
    integration: Integration,
) -> None:
    assert integration.cli("run", "-q").exit_code == 0
    before = {e: len(integration.records("b24", e)) for e in ("company", "invoice")}
    revoked = integration.cli("auth", "qbo", "--revoke")
    assert revoked.exit_code == 0, revoked.output + revoked.stderr
    assert "revoked at the system" in revoked.output
    stopped = integration.cli("run", "-q")
    assert stopped.exit_code == 1
    status = json.loads(integration.cli("status", "--json").output)
    messages = {row["entity"]: row["message"] for row in status}
    assert "run `syncbridge auth qbo` to re-authorise" in (messages["company"] or "")
    assert {e: len(integration.records("b24", e)) for e in ("company", "invoice")} == before


# -- money arrives as it left ------------------------------------------------------------------
#: an extension that writes Bitrix24 rows at their net price without a tax rate, as the
#: connector once did: a mapping that cannot carry VAT
NO_VAT_OUT = """
from syncbridge.hookspecs import hookimpl
from syncbridge_bitrix24 import connector

@hookimpl(tryfirst=True)
def map(entity, record, direction, settings, context):
    if direction != "out" or entity != "invoice":
        return None
    lines = [line.model_copy(update={"vat_percent": None}) for line in record.lines]
    return connector.map(entity, record.model_copy(update={"lines": lines}), direction, settings,
                         context)
"""
#: an extension that reads QuickBooks lines by their tax code alone, as the connector once did
CODES_ONLY_IN = """
from syncbridge.hookspecs import hookimpl

@hookimpl(wrapper=True)
def map(entity, record, direction, settings):
    canonical = yield
    if direction == "in" and entity == "invoice":
        lines = [line.model_copy(update={"vat_percent": None}) for line in canonical.lines]
        canonical = canonical.model_copy(update={"lines": lines})
    return canonical
"""
ROW_KEYS = ("productId", "productName", "price", "quantity", "discountTypeId", "discountRate",
            "discountSum", "taxRate", "taxIncluded", "priceExclusive", "priceNetto",
            "priceBrutto", "sort")


def _extend(integration: Integration, connection: str, module: str | None) -> None:
    """Give ``connection`` the extension module ``module`` (None: none)."""
    text = integration.config.read_text()
    start = text.index(f"[connections.{connection}]")
    head, section = text[:start], text[start:]
    lines = [line for line in section.split("\n") if not line.startswith("extensions = ")]
    if module is not None:
        lines.insert(2, f'extensions = ["{module}"]')
    integration.config.write_text(head + "\n".join(lines))


@pytest.fixture
def extensions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for extension modules, forgotten again after the test."""
    folder = tmp_path / "extensions"
    folder.mkdir()
    (folder / "b24_no_vat.py").write_text(NO_VAT_OUT)
    (folder / "qbo_codes_only.py").write_text(CODES_ONLY_IN)
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in ("b24_no_vat", "qbo_codes_only"):
        sys.modules.pop(name, None)


def _brewery(integration: Integration) -> str:
    """A German customer in QuickBooks (its invoices are in euros)."""
    return integration.create("qbo", "company", {
        "name": "Brauhaus Ansbach GmbH", "city": "Ansbach", "country": "DE", "currency": "EUR"})


def _brewery_invoice(
    integration: Integration, customer: str | None = None
) -> tuple[str, str, list[Any]]:
    """Invoice 1121 of the issue in QuickBooks, for a German customer: (customer id, invoice
    id, the two items), its lines naming their tax codes only (USt 19 % is code 3, USt 7 % 4)."""
    customer = customer or _brewery(integration)
    items = integration.records("qbo", "product")[:2]
    invoice = integration.create("qbo", "invoice", {
        "number": "1121", "date": "2026-11-23", "company_id": customer, "currency": "EUR",
        "lines": [
            {"description": "Braugerste, 2 Paletten", "product_id": items[0].id,
             "quantity": "2", "unit_price": "3963.43", "vat_rate_id": "3"},
            {"description": "Hopfenpellets", "product_id": items[1].id,
             "quantity": "2", "unit_price": "2716.19", "vat_rate_id": "4"},
        ]})
    return customer, invoice, items


def _b24_id(integration: Integration, entity: str, name: str) -> int:
    """The Bitrix24 twin of a QuickBooks customer or item, found by its name."""
    [found] = [r.id for r in integration.records("b24", entity) if r.name == name]
    return int(found)


def _b24_invoice(integration: Integration, number: str) -> dict[str, Any]:
    [native] = [n for n in integration.natives("b24", "invoice") if n["accountNumber"] == number]
    return native


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def _rows(native: dict[str, Any]) -> list[dict[str, Any]]:
    """The product rows' own fields, numbers as Decimal (the JSON gives floats)."""
    return [
        {key: _money(row[key]) if isinstance(row[key], float) else row[key] for key in ROW_KEYS}
        for row in native["productRows"]
    ]


def _unreported(integration: Integration) -> list[dict[str, Any]]:
    return [r for r in json.loads(integration.cli("report", "--json", "--all").output)
            if r["reason"] != "unchanged since the last sync"]


def test_invoice_1121_arrives_in_bitrix24_with_its_vat_and_the_same_totals(
    integration: Integration,
) -> None:
    assert integration.cli("run", "-q").exit_code == 0
    _customer, invoice_id, items = _brewery_invoice(integration)
    [native] = [n for n in integration.natives("qbo", "invoice") if n["Id"] == invoice_id]
    assert (native["TotalAmt"], native["TxnTaxDetail"]["TotalTax"]) == (
        Decimal("15245.61"), Decimal("1886.37"))
    run = integration.cli("run", "-q")
    assert run.exit_code == 0, run.output

    b24 = _b24_invoice(integration, "1121")
    assert (b24["companyId"], b24["currencyId"], b24["stageId"]) == (
        _b24_id(integration, "company", "Brauhaus Ansbach GmbH"), "EUR", "DT31_1:S")
    # the portal's own sums: 15,245.61 with 1,886.37 VAT, as in QuickBooks
    assert (_money(b24["opportunity"]), _money(b24["taxValue"])) == (
        Decimal("15245.61"), Decimal("1886.37"))
    products = [_b24_id(integration, "product", item.name) for item in items]
    assert _rows(b24) == [
        {"productId": products[0], "productName": "Braugerste, 2 Paletten",
         "price": Decimal("4716.4817"), "quantity": Decimal(2), "discountTypeId": 2,
         "discountRate": Decimal(0), "discountSum": Decimal(0), "taxRate": Decimal(19),
         "taxIncluded": "N", "priceExclusive": Decimal("3963.43"),
         "priceNetto": Decimal("3963.43"), "priceBrutto": Decimal("4716.4817"), "sort": 10},
        {"productId": products[1], "productName": "Hopfenpellets",
         "price": Decimal("2906.3233"), "quantity": Decimal(2), "discountTypeId": 2,
         "discountRate": Decimal(0), "discountSum": Decimal(0), "taxRate": Decimal(7),
         "taxIncluded": "N", "priceExclusive": Decimal("2716.19"),
         "priceNetto": Decimal("2716.19"), "priceBrutto": Decimal("2906.3233"), "sort": 20},
    ]

    # both sides hold the same canonical document: lines with code (QuickBooks) and percent
    [left] = [i for i in integration.records("qbo", "invoice") if i.id == invoice_id]
    [right] = [i for i in integration.records("b24", "invoice") if i.number == "1121"]
    assert [(line.vat_rate_id, line.vat_percent) for line in left.lines] == [
        ("3", Decimal(19)), ("4", Decimal(7))]
    assert [line.model_dump(exclude={"product_id", "vat_rate_id"}) for line in left.lines] == [
        line.model_dump(exclude={"product_id", "vat_rate_id"}) for line in right.lines]
    for document in (left, right):
        assert (document.net_total, document.tax_total, document.gross_total) == (
            Decimal("13359.24"), Decimal("1886.37"), Decimal("15245.61"))
    assert left.total == Decimal("15245.61")

    # in step: the next run and a full plan find nothing to do
    again = integration.cli("run", "-q")
    assert again.exit_code == 0 and _unreported(integration) == []
    assert _b24_invoice(integration, "1121")["updatedTime"] == b24["updatedTime"]
    plan = integration.cli("plan", "-q", "--full")
    assert plan.exit_code == 0 and _unreported(integration) == []


def test_plan_full_finds_an_invoice_that_lost_its_vat_and_the_run_repairs_it(
    integration: Integration, extensions: Path,
) -> None:
    # the copy the old mapping made: QuickBooks lines read by their tax code alone
    _extend(integration, "qbo", "qbo_codes_only")
    assert integration.cli("run", "-q").exit_code == 0
    _brewery_invoice(integration)
    assert integration.cli("run", "-q").exit_code == 0
    lost = _b24_invoice(integration, "1121")
    assert [row["taxRate"] for row in lost["productRows"]] == [None, None]
    assert _money(lost["opportunity"]) == Decimal("13359.24")

    _extend(integration, "qbo", None)
    plan = integration.cli("plan", "-q", "--full")
    assert plan.exit_code == 0, plan.output
    rows = [r for r in _unreported(integration) if r["entity"] == "invoice"]
    # every invoice the old mapping copied lost its VAT (0 % ones their rate): none in step
    assert {(r["outcome"], r["reason"]) for r in rows} == {("updated", "changed on the left")}
    assert len(rows) == len(integration.records("qbo", "invoice"))
    [row] = [r for r in rows if r["target_id"] == str(lost["id"])]
    assert row["detail"]["lines"]["to"] == "right"
    assert [line["vat_percent"] for line in row["detail"]["lines"]["after"]] == ["19", "7"]
    assert _b24_invoice(integration, "1121")["updatedTime"] == lost["updatedTime"]  # a plan

    run = integration.cli("run", "-q")
    assert run.exit_code == 0, run.output
    repaired = _b24_invoice(integration, "1121")
    assert [row["taxRate"] for row in repaired["productRows"]] == [19, 7]
    assert (_money(repaired["opportunity"]), _money(repaired["taxValue"])) == (
        Decimal("15245.61"), Decimal("1886.37"))


def test_an_invoice_whose_target_cannot_carry_its_vat_fails_with_the_amounts(
    integration: Integration, extensions: Path,
) -> None:
    # the customer first: a plan prepares no write that points at a record it would create
    customer = _brewery(integration)
    assert integration.cli("run", "-q").exit_code == 0
    _brewery_invoice(integration, customer)
    _extend(integration, "b24", "b24_no_vat")
    expected = (
        "net 13359.24 -> 13359.24, tax 1886.37 -> 0.00, total 15245.61 -> 13359.24: the right "
        "cannot carry line 1 vat_percent 19 -> none, line 2 vat_percent 7 -> none; not written "
        "(document totals must not change on the way)"
    )
    for command in ("plan", "run"):  # the plan meets the failure the run meets
        result = integration.cli(command, "-q")
        assert result.exit_code == 1, result.output  # a failed record, planned or met
        rows = [r for r in _unreported(integration) if r["entity"] == "invoice"]
        assert [(r["side"], r["outcome"], r["reason"]) for r in rows] == [
            ("left", "failed", expected)]
    # nothing was written: no invoice 1121 in Bitrix24 (its customer came across)
    assert [n for n in integration.natives("b24", "invoice") if n["accountNumber"] == "1121"] == []
    assert "Brauhaus Ansbach GmbH" in [c.name for c in integration.records("b24", "company")]


def test_an_invoice_from_a_line_without_description_reads_back_as_our_own_write(
    integration: Integration,
) -> None:
    assert integration.cli("run", "-q").exit_code == 0
    customer = next(c for c in integration.records("qbo", "company") if c.currency == "EUR")
    item = integration.records("qbo", "product")[0]
    with integration.connection("qbo") as conn:
        [result] = conn.upsert("invoice", [UpsertItem(key="test-1122", record={
            "DocNumber": "1122", "TxnDate": "2026-11-24", "CurrencyRef": {"value": "EUR"},
            "CustomerRef": {"value": customer.id},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": Decimal("300.00"),
                      "SalesItemLineDetail": {"ItemRef": {"value": item.id}, "Qty": 3,
                                              "UnitPrice": Decimal("100.00"),
                                              "TaxCodeRef": {"value": "3"}}}],
        }, context={"customer": "company"})])
    assert result.ok, result.error
    [native] = [n for n in integration.natives("qbo", "invoice") if n["DocNumber"] == "1122"]
    line = native["Line"][0]
    assert "Description" not in line  # QuickBooks shows the item's name on such a line
    assert line["SalesItemLineDetail"]["ItemRef"] == {"value": item.id, "name": item.name}

    assert integration.cli("run", "-q").exit_code == 0
    created = _b24_invoice(integration, "1122")
    assert created["title"] == f"Rechnung #{created['id']}"  # the portal's own title
    assert _rows(created) == [
        {"productId": _b24_id(integration, "product", item.name), "productName": item.name,
         "price": Decimal("119"), "quantity": Decimal(3), "discountTypeId": 2,
         "discountRate": Decimal(0), "discountSum": Decimal(0), "taxRate": Decimal(19),
         "taxIncluded": "N", "priceExclusive": Decimal(100), "priceNetto": Decimal(100),
         "priceBrutto": Decimal("119"), "sort": 10},
    ]
    # our own write: the next runs, incremental and full, write nothing and report nothing
    for args in (("run", "-q"), ("run", "-q", "--full"), ("plan", "-q", "--full")):
        again = integration.cli(*args)
        assert again.exit_code == 0, again.output
        assert _unreported(integration) == [], args
    assert _b24_invoice(integration, "1122")["updatedTime"] == created["updatedTime"]
