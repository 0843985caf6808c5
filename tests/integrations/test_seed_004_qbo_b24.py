"""Seed 004: QuickBooks Online -> Bitrix24, end to end over HTTP between the emulators.

Customers become Bitrix24 companies or contacts by their type, invoices arrive linked to
them with product rows and the stage their QuickBooks state calls for (sent -> the second
kanban stage, paid -> paid), new records follow within the daemon's interval, a Bitrix24
invoice can be pushed to QuickBooks explicitly ("Create invoice"), and revoking the
QuickBooks connection stops the sync with a clear message.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
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
            return [conn.map_in(entity, native) for page in conn.fetch(entity)
                    for native in page.records]

    def create(self, side: str, entity: str, data: dict[str, Any]) -> str:
        with self.connection(side) as conn:
            native = conn.map_out(entity, model_for(entity).model_validate(data))
            [result] = conn.upsert(entity, [UpsertItem(key=f"test-{entity}-{data}",
                                                       record=native)])
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
        assert Counter((r["outcome"], r["reason"]) for r in rows) == {
            ("skipped", "already in step"): len(rows)}


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
