"""Seed 002: Simply CRM <-> Dinero, end to end over HTTP between the emulators.

Every setting of Simply CRM's Dinero module, as syncbridge configuration:

* the connection's status, red with a wrong API key (and the reason) and green;
* "Default" mapping (the connectors' presets) and "Custom" (a canonical field re-mapped to
  a Simply CRM custom field, ``cf_853``, the organisations' CVR number);
* direction Simply -> Dinero, Dinero -> Simply, or both with "send CRM data first"
  (``priority = "left"``) or "fetch Dinero data first" (``priority = "right"``), with a field
  edited on both sides between runs;
* Contacts, Organisations, Products, Invoices; invoices to Organisations or to Contacts (the
  "Priority module", Simply CRM's ``invoice_party``) with equal net, VAT and gross totals;
* the payment history: a payment registered in Dinero shows on the CRM invoice;
* the single-record "Sync to Dinero" of a one-way Simply -> Dinero sync;
* Auto, every three hours, under ``syncbridge daemon`` (a fast clock: an hour is a second);
* Dinero's 100 requests a minute honoured: not one 429.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from apscheduler.triggers.interval import IntervalTrigger
from click.testing import CliRunner, Result

import syncbridge.engine.schedule
from syncbridge.cli import main
from syncbridge.connection import Connection
from syncbridge.demo import simplycrm_dinero as demo
from syncbridge.demo.simplycrm_dinero import CUSTOM_FIELDS, SYNC, register_payment, sync_config
from syncbridge.describe import RateLimit
from syncbridge.emulator import EmulatorOptions
from syncbridge.emulator.config import connection_toml
from syncbridge.emulator.server import running
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from syncbridge_dinero.emulator import ORGANIZATION_ID, DineroEmulator
from syncbridge_simplycrm.emulator import SimplyCrmEmulator
from syncbridge_simplycrm.emulator.modules import INVOICE, MODULES

CENT = Decimal("0.01")
WRONG_KEY = "not-the-dinero-key-0042"


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Integration:
    folder: Path
    config: Path
    simply: SimplyCrmEmulator
    dinero: DineroEmulator
    simply_url: str
    dinero_url: str
    simply_settings: dict[str, Any]
    dinero_settings: dict[str, Any]

    def configure(
        self, sync: str = SYNC, simply: dict[str, Any] | None = None,
        dinero: dict[str, Any] | None = None,
    ) -> None:
        """Write the config: the emulators' settings with ``simply`` and ``dinero`` over them
        (the state store stays: links and cursors survive a change of settings)."""
        self.simply_settings = {**self.simply.settings_for(self.simply_url), **(simply or {})}
        self.dinero_settings = {**self.dinero.settings_for(self.dinero_url),
                                "rate_limit": False, **(dinero or {})}
        self.config.write_text('[state]\nurl = "sqlite:///state.db"\n'
                               + connection_toml("simply", "simplycrm", self.simply_settings)
                               + connection_toml("dinero", "dinero", self.dinero_settings)
                               + sync, encoding="utf-8")

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["-c", str(self.config), *args],
                                  env={"COLUMNS": "200"})

    def run(self, *args: str) -> Result:
        result = self.cli("run", "-q", *args)
        assert result.exit_code == 0, result.output + result.stderr
        return result

    def report(self) -> list[dict[str, Any]]:
        return list(json.loads(self.cli("report", "--json").output))

    def connection(self, side: str) -> Connection:
        # the test's own connections: their own budget, never the sync's
        if side == "simply":
            return Connection("simply-test", load_connector("simplycrm"),
                              {**self.simply_settings, "rate_limit": False})
        return Connection("dinero-test", load_connector("dinero"),
                          {**self.dinero_settings, "rate_limit": False})

    def records(self, side: str, entity: str) -> list[Any]:
        with self.connection(side) as conn:
            return [record for page in conn.fetch(entity)
                    for record in conn.map_page(entity, page)]

    def record(self, side: str, entity: str, record_id: str) -> Any:
        [found] = [r for r in self.records(side, entity) if r.id == record_id]
        return found

    def edit(self, side: str, entity: str, record_id: str, **changes: Any) -> None:
        """Change a record as a user would, through the system's API."""
        record = self.record(side, entity, record_id)
        with self.connection(side) as conn:
            context: dict[str, Any] = {}
            native = conn.map_out(entity, record.model_copy(update=changes), context)
            [result] = conn.upsert(entity, [UpsertItem(
                key=f"edit-{record_id}", id=record_id, record=native, context=context,
                changed=frozenset(changes))])
        assert result.ok, result.error

    def dinero_http(self) -> httpx.Client:
        return httpx.Client(base_url=self.dinero_url, headers={
            "Authorization": f"Bearer {self.dinero.issue_token()}"})

    def dinero_rows(self, kind: str) -> list[dict[str, Any]]:
        """Dinero's records as its API gives them whole (``contacts``, ``products``,
        ``invoices``)."""
        key = {"contacts": "ContactGuid", "products": "ProductGuid", "invoices": "Guid"}[kind]
        with self.dinero_http() as client:
            listing = client.get(f"/v1/{ORGANIZATION_ID}/{kind}",
                                 params={"fields": key}).json()["Collection"]
            # money as Decimal, as Dinero writes it (never a float in between)
            return [json.loads(client.get(f"/v1/{ORGANIZATION_ID}/{kind}/{row[key]}").text,
                               parse_float=Decimal) for row in listing]

    def crm_rows(self, module: str) -> list[dict[str, Any]]:
        """Simply CRM's records as ``retrieve`` gives them."""
        found = MODULES[module]
        return [self.simply.retrieved(found, row) for row in self.simply.rows(found)]

    def links(self, entity: str) -> dict[str, str]:
        """Simply CRM id -> Dinero id of every pair the sync linked, from its state store."""
        with closing(sqlite3.connect(self.folder / "state.db")) as db:
            return dict(db.execute(
                "SELECT left_id, right_id FROM link WHERE sync = ? AND entity = ?",
                ("simply_dinero", entity)).fetchall())


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., Integration]]:
    """``make(simply_records=3, dinero_records=0, limit=None)``: both emulators on loopback
    and a config of the seed's sync (``limit``: Dinero's rate limit, enforced)."""
    with ExitStack() as stack:
        def start(simply_records: int = 3, dinero_records: int = 0,
                  limit: RateLimit | None = None) -> Integration:
            simply = SimplyCrmEmulator(EmulatorOptions(records=simply_records, seed=2,
                                                       rate_limits=False))
            dinero = DineroEmulator(
                EmulatorOptions(records=dinero_records, seed=2, rate_limits=limit is not None),
                booked_every=0, limit=limit)
            simply_url = stack.enter_context(running(simply.app))
            dinero_url = stack.enter_context(running(dinero.app))
            integration = Integration(tmp_path, tmp_path / "syncbridge.toml", simply, dinero,
                                      simply_url, dinero_url, {}, {})
            integration.configure()
            return integration

        yield start


@pytest.fixture
def integration(make: Callable[..., Integration]) -> Integration:
    return make()


def _expected_totals(lines: list[dict[str, Any]]) -> tuple[Decimal, Decimal, Decimal]:
    """Net, VAT and gross of CRM line items, each line's net and VAT in øre (as booked)."""
    net = vat = Decimal(0)
    for line in lines:
        amount = cents(Decimal(line["quantity"]) * Decimal(line["listprice"]))
        net += amount
        vat += cents(amount * Decimal(line["tax1"] or 0) / 100)
    return net, vat, net + vat


# -- the connection's status -------------------------------------------------------------------
def test_check_is_red_with_a_wrong_api_key_naming_the_reason_and_green_with_the_right_one(
    integration: Integration,
) -> None:
    integration.configure(dinero={"api_key": WRONG_KEY})
    red = integration.cli("check")
    assert red.exit_code == 1
    assert (
        "● dinero: failing — dinero: the token endpoint refused the credentials (invalid_grant: "
        "The user name or password is incorrect.); check api_key, client_id and client_secret "
        "in connections.dinero.settings"
    ) in red.output
    assert "● simply: ok — admin" in red.output
    assert WRONG_KEY not in red.output + red.stderr

    integration.configure(simply={"access_key": WRONG_KEY})
    red = integration.cli("check", "simply")
    assert red.exit_code == 1
    assert (
        "● simply: failing — simply: Simply CRM refused the login of 'admin' "
        "(INVALID_USER_CREDENTIALS: Invalid username or password)"
    ) in red.output
    assert WRONG_KEY not in red.output + red.stderr

    integration.configure()
    green = integration.cli("check")
    assert green.exit_code == 0, green.output
    assert "● simply: ok — admin" in green.output
    assert "● dinero: ok — Nordlys Rådgivning ApS (48213)" in green.output


# -- Default mapping, Simply CRM -> Dinero ----------------------------------------------------
def test_the_default_mapping_moves_every_module_to_dinero(integration: Integration) -> None:
    integration.configure(sync_config(direction="left-to-right", every="manual"))
    integration.run()

    accounts = integration.crm_rows("Accounts")
    companies = [c for c in integration.dinero_rows("contacts") if not c["IsPerson"]]
    assert sorted((c["Name"], c["Street"], c["ZipCode"], c["City"], c["CountryKey"],
                   c["Email"], c["Phone"], c["Webpage"]) for c in companies) == sorted(
        (a["accountname"], a["bill_street"], a["bill_code"], a["bill_city"], "DK",
         a["email1"], a["phone"], a["website"]) for a in accounts)
    # Default: the CVR number stays in the CRM's custom field, Dinero's VatNumber is not set
    assert all(a["cf_853"] for a in accounts)
    assert [c["VatNumber"] for c in companies] == [None] * len(accounts)

    persons = [c for c in integration.dinero_rows("contacts") if c["IsPerson"]]
    assert sorted((p["Name"], p["Email"], p["Phone"]) for p in persons) == sorted(
        (f"{c['firstname']} {c['lastname']}", c["email"], c["phone"])
        for c in integration.crm_rows("Contacts"))

    products = integration.dinero_rows("products")
    assert sorted((p["Name"], p["ProductNumber"], p["BaseAmountValue"], p["Unit"],
                   p["AccountNumber"]) for p in products) == sorted(
        (p["productname"], p["productcode"], Decimal(p["unit_price"]), "parts", 1000)
        for p in integration.crm_rows("Products"))

    # invoices: to the organisation's twin, each line to its product's twin, same totals
    company_links = integration.links("company")
    product_links = integration.links("product")
    invoices = {i["Description"]: i for i in integration.dinero_rows("invoices")}
    crm_invoices = integration.crm_rows("Invoice")
    assert sorted(invoices) == sorted(i["subject"] for i in crm_invoices) and crm_invoices
    for crm in crm_invoices:
        dinero = invoices[crm["subject"]]
        assert dinero["ContactGuid"] == company_links[crm["account_id"]]
        assert (dinero["Status"], dinero["Date"]) == ("Draft", crm["invoicedate"])
        assert [(line["ProductGuid"], Decimal(line["Quantity"]), line["BaseAmountValue"],
                 line["AccountNumber"]) for line in dinero["ProductLines"]] == [
            (product_links[line["productid"]], Decimal(line["quantity"]),
             Decimal(line["listprice"]), 1000) for line in crm["LineItems"]]
        net, vat, gross = _expected_totals(crm["LineItems"])
        assert (dinero["TotalExclVat"], dinero["TotalVat"], dinero["TotalInclVat"]) == (
            net, vat, gross)
        [ours] = [i for i in integration.records("simply", "invoice") if i.id == crm["id"]]
        [theirs] = [i for i in integration.records("dinero", "invoice")
                    if i.id == dinero["Guid"]]
        assert ours.total == theirs.total == gross  # what is owed, in øre, on both sides
        assert ours.balance == theirs.balance == gross
        for document in (ours, theirs):  # the lines make the same amounts on both sides
            assert abs(document.net_total - net) <= CENT and abs(document.tax_total - vat) <= CENT

    # nothing written twice: the next run reads its own writes back and writes nothing
    writes = sum(n for hit, n in integration.dinero.requests.hits.items()
                 if hit.method in ("POST", "PUT") and "/oauth/" not in hit.path)
    assert writes == len(accounts) + len(persons) + len(products) + len(crm_invoices)
    integration.run()
    assert sum(n for hit, n in integration.dinero.requests.hits.items()
               if hit.method in ("POST", "PUT") and "/oauth/" not in hit.path) == writes
    assert [r for r in integration.report() if r["outcome"] != "skipped"] == []


# -- Custom mapping ---------------------------------------------------------------------------
def test_the_custom_mapping_moves_the_cvr_number_kept_in_a_custom_field_both_ways(
    integration: Integration,
) -> None:
    # "Custom": company.vat_number = "cf_853", the organisations' CVR-nummer field
    integration.configure(simply={"fields": CUSTOM_FIELDS})
    integration.run()
    accounts = {a["accountname"]: a for a in integration.crm_rows("Accounts")}
    companies = {c["Name"]: c for c in integration.dinero_rows("contacts") if not c["IsPerson"]}
    assert sorted(companies) == sorted(accounts)
    for name, account in accounts.items():
        # a bare Danish CVR, as the CRM's users type it, and as Dinero keeps it
        assert account["cf_853"].isdigit() and len(account["cf_853"]) == 8
        assert companies[name]["VatNumber"] == account["cf_853"]

    # back: a CVR corrected in Dinero, and a company created there, land in cf_853
    name = sorted(accounts)[0]
    integration.edit("dinero", "company", companies[name]["ContactGuid"],
                     vat_number="DK13585628")
    with integration.dinero_http() as client:
        made = client.post(f"/v1/{ORGANIZATION_ID}/contacts", json={
            "Name": "Fjordhuset ApS", "CountryKey": "DK", "City": "Vejle", "Street": "Havnen 1",
            "ZipCode": "7100", "VatNumber": "29403473", "IsPerson": False, "IsMember": False,
            "UseCvr": False})
        assert made.status_code == 200, made.text
    integration.run()
    accounts = {a["accountname"]: a for a in integration.crm_rows("Accounts")}
    assert accounts[name]["cf_853"] == "DK13585628"
    assert (accounts["Fjordhuset ApS"]["cf_853"], accounts["Fjordhuset ApS"]["bill_city"]) == (
        "DK29403473", "Vejle")
    # the preset fields are still mapped: the organisation's billing address came across
    assert accounts["Fjordhuset ApS"]["bill_street"] == "Havnen 1"


# -- direction and data priority --------------------------------------------------------------
@pytest.mark.parametrize(
    ("direction", "priority", "winner"),
    [
        ("left-to-right", None, "simply"),      # Simply CRM -> Dinero
        ("right-to-left", None, "dinero"),      # Dinero -> Simply CRM
        ("both", "left", "simply"),             # both: "send CRM data first"
        ("both", "right", "dinero"),            # both: "fetch Dinero data first"
    ],
)
def test_each_direction_and_data_priority_decides_which_edit_wins_on_both_sides(
    make: Callable[..., Integration], direction: str, priority: str | None, winner: str,
) -> None:
    integration = make(simply_records=2, dinero_records=2)
    entities = ("company", "contact", "product")
    integration.configure(sync_config(direction=direction, priority=priority or "left",
                                      every="manual", entities=entities))
    crm_names = {a["accountname"] for a in integration.crm_rows("Accounts")}
    dinero_names = {c["Name"] for c in integration.dinero_rows("contacts") if not c["IsPerson"]}
    assert len(crm_names) == len(dinero_names) == 2 and not crm_names & dinero_names
    integration.run()

    # the bulk sync moves records the chosen way only
    flows_right = direction in ("left-to-right", "both")
    flows_left = direction in ("right-to-left", "both")
    assert {a["accountname"] for a in integration.crm_rows("Accounts")} == crm_names | (
        dinero_names if flows_left else set())
    assert {c["Name"] for c in integration.dinero_rows("contacts") if not c["IsPerson"]} == (
        dinero_names | (crm_names if flows_right else set()))
    dinero_kinds = Counter("contact" if c["IsPerson"] else "company"
                           for c in integration.dinero_rows("contacts"))
    dinero_counts = {**dinero_kinds, "product": len(integration.dinero_rows("products"))}
    for entity in entities:  # every module the same way, each record once
        crm = [{"company": lambda r: r.name, "product": lambda r: r.code,
                "contact": lambda r: (r.first_name, r.last_name)}[entity](r)
               for r in integration.records("simply", entity)]
        assert len(crm) == len(set(crm)) == 2 + (2 if flows_left else 0), entity
        assert dinero_counts[entity] == 2 + (2 if flows_right else 0), entity

    # the same organisation edited in both systems between runs
    [(crm_id, dinero_id)] = list(integration.links("company").items())[:1]
    assert integration.record("simply", "company", crm_id).city not in ("Odense NV", "Aalborg SØ")
    integration.edit("simply", "company", crm_id, city="Odense NV")
    integration.edit("dinero", "company", dinero_id, city="Aalborg SØ")
    result = integration.cli("run", "-v")
    assert result.exit_code == 0, result.output
    expected = "Odense NV" if winner == "simply" else "Aalborg SØ"
    assert integration.record("simply", "company", crm_id).city == expected
    assert integration.record("dinero", "company", dinero_id).city == expected
    [row] = [r for r in integration.report() if r["entity"] == "company"]
    side = "left" if winner == "simply" else "right"
    assert (row["outcome"], row["reason"]) == (
        "conflict", f"changed on both sides; {side} wins by priority")
    assert row["detail"]["city"] == {
        "to": "right" if side == "left" else "left", "winner": side,
        "left": "Odense NV", "right": "Aalborg SØ",
        "before": "Aalborg SØ" if side == "left" else "Odense NV", "after": expected}
    # the run after writes nothing: both sides hold the winner's value
    integration.run()
    assert [r for r in integration.report() if r["outcome"] not in ("skipped",)] == []


# -- invoices: the "Priority module" ----------------------------------------------------------
def _crm_invoice(integration: Integration, subject: str, **extra: Any) -> str:
    """An invoice entered in Simply CRM for its first organisation (and that organisation's
    contact), two lines at 25 % VAT: 3 x 333.33 and 1 x 99.95."""
    [account] = [a for a in integration.crm_rows("Accounts") if a["id"] == "11x2"]
    products = sorted(integration.crm_rows("Products"), key=lambda p: p["id"])
    made = integration.simply.add(INVOICE, {
        "subject": subject, "account_id": "11x2", "contact_id": "12x3",
        "invoicedate": "2026-11-20", "duedate": "2026-12-04", "invoicestatus": "Created",
        "currency_id": "21x1", "hdnTaxType": "individual",
        "bill_street": account["bill_street"], "ship_street": account["bill_street"],
        "LineItems": [
            {"productid": products[0]["id"], "quantity": "3", "listprice": "333.33",
             "tax1": "25.000", "comment": "Rådgivning, timer"},
            {"productid": products[1]["id"], "quantity": "1", "listprice": "99.95",
             "tax1": "25.000", "comment": ""},
        ], **extra})
    return f"16x{made['crmid']}"


@pytest.mark.parametrize("party", ["organisation", "contact"])
def test_invoices_go_to_organisations_or_to_contacts_with_the_same_totals(
    integration: Integration, party: str,
) -> None:
    integration.configure(simply={"invoice_party": party})
    integration.run()
    invoice_id = _crm_invoice(integration, "Faktura 2026-77")
    integration.run()

    [dinero] = [i for i in integration.dinero_rows("invoices")
                if i["Description"] == "Faktura 2026-77"]
    # Organisations: the invoice goes to the organisation's Dinero contact (a company);
    # Contacts: to the person's (a personal invoice)
    customer = (integration.links("company")["11x2"] if party == "organisation"
                else integration.links("contact")["12x3"])
    assert dinero["ContactGuid"] == customer
    [contact] = [c for c in integration.dinero_rows("contacts") if c["ContactGuid"] == customer]
    assert contact["IsPerson"] is (party == "contact")
    # net 999.99 + 99.95, VAT 250.00 + 24.99 (each line's in øre), gross 1374.93
    assert (dinero["TotalExclVat"], dinero["TotalVat"], dinero["TotalInclVat"]) == (
        Decimal("1099.94"), Decimal("274.99"), Decimal("1374.93"))
    crm = integration.record("simply", "invoice", invoice_id)
    theirs = integration.record("dinero", "invoice", dinero["Guid"])
    assert crm.total == theirs.total == Decimal("1374.93")
    # the canonical lines make the same net and VAT on both sides (the models sum them
    # unrounded: 274.985, within the half øre a line that rounding may take)
    assert (crm.net_total, crm.tax_total) == (theirs.net_total, theirs.tax_total) == (
        Decimal("1099.94"), Decimal("274.985"))
    assert [(line.description, line.quantity, line.unit_price, line.vat_percent)
            for line in theirs.lines] == [
        ("Rådgivning, timer", 3, Decimal("333.33"), 25), ("", 1, Decimal("99.95"), 25)]

    # from Dinero: a personal invoice made there reaches the CRM with the person, under the
    # person's organisation (every Simply CRM invoice has one)
    product_links = integration.links("product")
    with integration.dinero_http() as client:
        made = client.post(f"/v1/{ORGANIZATION_ID}/invoices", json={
            "ContactGuid": integration.links("contact")["12x3"], "Date": "2026-11-25",
            "Currency": "DKK", "Description": "Dinero faktura 9",
            "ProductLines": [{"ProductGuid": product_links[sorted(product_links)[0]],
                              "Description": "Support", "Quantity": 2, "Unit": "hours",
                              "AccountNumber": 1000, "BaseAmountValue": 412.5,
                              "LineType": "Product", "Discount": 0}]})
        assert made.status_code == 200, made.text
    integration.run()
    [crm_row] = [i for i in integration.crm_rows("Invoice") if i["subject"] == "Dinero faktura 9"]
    assert (crm_row["contact_id"], crm_row["account_id"]) == ("12x3", "11x2")
    crm = integration.record("simply", "invoice", crm_row["id"])
    assert crm.total == Decimal("1031.25") == integration.record(
        "dinero", "invoice", made.json()["Guid"]).total  # 825.00 + 206.25 VAT
    assert [(line.product_id, line.quantity, line.unit_price, line.vat_percent)
            for line in crm.lines] == [(sorted(product_links)[0], 2, Decimal("412.5"), 25)]
    # in step: the next run writes nothing on either side
    integration.run()
    assert [r for r in integration.report() if r["outcome"] != "skipped"] == []


# -- payment history --------------------------------------------------------------------------
def test_payments_registered_in_dinero_show_on_the_crm_invoice(integration: Integration) -> None:
    integration.run()
    invoice_id = _crm_invoice(integration, "Faktura 2026-78")
    integration.run()
    # approved in the CRM: booked in Dinero (only a booked invoice can be paid)
    integration.edit("simply", "invoice", invoice_id, status="issued")
    integration.run()
    guid = integration.links("invoice")[invoice_id]
    [dinero] = [i for i in integration.dinero_rows("invoices") if i["Guid"] == guid]
    assert (dinero["Status"], dinero["Number"], dinero["TotalInclVat"]) == (
        "Booked", 1, Decimal("1374.93"))

    register_payment(integration.dinero_settings, guid, Decimal("1000.00"), "Delbetaling")
    integration.run()
    # the CRM invoice: received 1000.00, balance 374.93 (the CRM's own balance field keeps
    # its unrounded grand total's 374.925), still approved
    [crm] = [i for i in integration.crm_rows("Invoice") if i["id"] == invoice_id]
    assert (Decimal(crm["received"]), cents(Decimal(crm["balance"])), crm["invoicestatus"]) == (
        Decimal("1000.00"), Decimal("374.93"), "Approved")
    read = integration.record("simply", "invoice", invoice_id)
    assert (read.total, read.balance) == (Decimal("1374.93"), Decimal("374.93"))
    row = next(r for r in integration.report() if r["entity"] == "invoice")
    assert (row["outcome"], row["detail"]["balance"]) == ("updated", {
        "to": "left", "before": "1374.93", "after": "374.93"})

    register_payment(integration.dinero_settings, guid, Decimal("374.93"), "Restbeløb")
    integration.run()
    [crm] = [i for i in integration.crm_rows("Invoice") if i["id"] == invoice_id]
    assert (Decimal(crm["received"]), crm["invoicestatus"]) == (Decimal("1374.93"), "Paid")
    read = integration.record("simply", "invoice", invoice_id)
    assert (read.total, read.balance, read.status.value) == (Decimal("1374.93"), 0, "paid")
    # the payments are Dinero's: both are there, and the CRM's totals never changed
    with integration.dinero_http() as client:
        history = client.get(f"/v2/{ORGANIZATION_ID}/invoices/{guid}/payments").json()
    assert [(p["Description"], p["Amount"]) for p in history["Payments"]] == [
        ("Delbetaling", 1000), ("Restbeløb", 374.93)]
    assert Decimal(crm["hdnGrandTotal"]) == Decimal("1374.925")
    integration.run()
    assert [r for r in integration.report() if r["outcome"] != "skipped"] == []


# -- single-record sync: "Sync to Dinero" -----------------------------------------------------
def test_sync_to_dinero_of_one_record_with_the_one_way_sync(integration: Integration) -> None:
    integration.configure(sync_config(direction="left-to-right", every="manual"))
    for record_id in ("11x2", "12x3", "14x4"):  # an organisation, a contact, a product
        result = integration.cli("run", "-v", "--sync", "simply_dinero", "--record", record_id,
                                 "--side", "left")
        assert result.exit_code == 0, result.output + result.stderr
        assert f"left {record_id} -> right" in result.output and "created" in result.output
    # an invoice: its second product is not in Dinero yet, so it is pushed first
    pushed = integration.cli("push", "simply_dinero", "invoice", "--from", "left",
                             "--record", "16x11")
    assert pushed.exit_code == 0, pushed.output + pushed.stderr

    [account] = [a for a in integration.crm_rows("Accounts") if a["id"] == "11x2"]
    [person] = [c for c in integration.crm_rows("Contacts") if c["id"] == "12x3"]
    contacts = integration.dinero_rows("contacts")
    assert sorted((c["Name"], c["IsPerson"]) for c in contacts) == sorted([
        (account["accountname"], False), (f"{person['firstname']} {person['lastname']}", True)])
    names = {p["id"]: p["productname"] for p in integration.crm_rows("Products")}
    assert sorted(p["Name"] for p in integration.dinero_rows("products")) == sorted(
        [names["14x4"], names["14x7"]])  # 14x10 stayed in the CRM
    [invoice] = integration.dinero_rows("invoices")
    [crm_invoice] = [i for i in integration.crm_rows("Invoice") if i["id"] == "16x11"]
    assert (invoice["Description"], invoice["ContactGuid"]) == (
        crm_invoice["subject"], integration.links("company")["11x2"])
    assert invoice["TotalInclVat"] == _expected_totals(crm_invoice["LineItems"])[2]
    # a record changed since is synced again, alone
    integration.edit("simply", "product", "14x4", price=Decimal("1499.00"))
    again = integration.cli("run", "-v", "--sync", "simply_dinero", "--record", "14x4",
                            "--side", "left")
    assert again.exit_code == 0
    assert "product left 14x4 -> right" in again.output and "updated" in again.output
    assert {p["Name"]: p["BaseAmountValue"] for p in integration.dinero_rows("products")}[
        names["14x4"]] == Decimal("1499")


def test_sync_of_one_record_is_refused_where_the_record_does_not_flow(
    integration: Integration,
) -> None:
    integration.configure(sync_config(direction="right-to-left", every="manual"))
    refused = integration.cli("run", "--sync", "simply_dinero", "--record", "11x2",
                              "--side", "left")
    assert refused.exit_code == 2
    assert (
        "config error: --record: no entity of sync simply_dinero flows from the left (their "
        "directions: company right-to-left, contact right-to-left, product right-to-left, "
        "invoice right-to-left)"
    ) in refused.output + refused.stderr
    # from Dinero in the one-way Simply CRM -> Dinero sync: refused the same way
    integration.configure(sync_config(direction="left-to-right", every="manual"))
    with integration.dinero_http() as client:
        made = client.post(f"/v1/{ORGANIZATION_ID}/contacts", json={
            "Name": "Kun i Dinero ApS", "CountryKey": "DK", "IsPerson": False,
            "IsMember": False, "UseCvr": False})
    refused = integration.cli("run", "--sync", "simply_dinero", "--record",
                              made.json()["ContactGuid"], "--side", "right")
    assert refused.exit_code == 2
    assert "no entity of sync simply_dinero flows from the right" in (
        refused.output + refused.stderr)
    assert "Kun i Dinero ApS" not in {a["accountname"] for a in integration.crm_rows("Accounts")}
    assert [c["Name"] for c in integration.dinero_rows("contacts")] == ["Kun i Dinero ApS"]


def test_sync_of_one_record_is_refused_in_a_two_way_sync(integration: Integration) -> None:
    integration.configure(sync_config(direction="both", every="manual"))
    result = integration.cli("run", "--sync", "simply_dinero", "--record", "11x2",
                             "--side", "left")
    assert result.exit_code == 2
    assert (
        "--record: company syncs both ways in simply_dinero; a single record is synced only "
        "by a one-way rule. Run the whole sync, or send this record one way with `syncbridge "
        "push simply_dinero company --from left --record 11x2`"
    ) in " ".join((result.output + result.stderr).split())
    assert integration.dinero_rows("contacts") == []


# -- Auto: every three hours ------------------------------------------------------------------
def test_auto_syncs_every_three_hours_under_the_daemon(
    integration: Integration, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a fast clock for the daemon's scheduler: its hours last a second each
    def fast(seconds: float, **options: Any) -> IntervalTrigger:
        return IntervalTrigger(seconds=seconds / 3600, **options)

    monkeypatch.setattr(syncbridge.engine.schedule, "IntervalTrigger", fast)
    integration.configure(SYNC)  # every = "3h" on every module
    crm_names = {a["accountname"] for a in integration.crm_rows("Accounts")}

    def add_while_running() -> None:
        # once the first turn has brought the organisations over, one more is entered in
        # the CRM: the turn three (fast) hours later brings it
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(
            [c for c in integration.dinero.contacts.list() if not c["IsPerson"]]
        ) < len(crm_names):
            time.sleep(0.05)
        integration.simply.add(MODULES["Accounts"], {
            "accountname": "Tre Timer ApS", "bill_city": "Horsens", "bill_country": "Denmark"})

    adder = threading.Thread(target=add_while_running)
    adder.start()
    daemon = integration.cli("daemon", "--for", "5")
    adder.join()
    assert daemon.exit_code == 0, daemon.output
    for entity in ("company", "contact", "product", "invoice"):
        assert f"scheduled simply_dinero/{entity} every 10800 s" in daemon.output
    ticks = [line.split(": ", 1)[1] for line in daemon.output.splitlines()
             if " simply_dinero/company: " in line]
    # the turn at start, and the one three hours later: nothing in between
    assert len(ticks) == 2, daemon.output
    assert ticks[0].startswith("ok") and f"created {len(crm_names)}" in ticks[0]
    assert ticks[1].startswith("ok") and "created 1" in ticks[1]
    assert "Tre Timer ApS" in {c["Name"] for c in integration.dinero_rows("contacts")}
    assert daemon.output.rstrip().endswith("daemon stopped")
    # and the status says when each module is due next: three hours after its last run
    for row in json.loads(integration.cli("status", "--json").output):
        finished = datetime.fromisoformat(row["finished"])
        assert datetime.fromisoformat(row["next_due"]) - finished == timedelta(hours=3), row


# -- Dinero's rate limit ----------------------------------------------------------------------
def test_dinero_s_100_requests_a_minute_are_honoured_without_a_single_429(
    make: Callable[..., Integration],
) -> None:
    # Dinero allows 100 requests a minute per organisation; the connector declares it
    with Connection("declared", load_connector("dinero"),
                    {**DineroEmulator().settings_for("http://127.0.0.1:1")}) as declared:
        assert declared.info.rate_limits == (RateLimit(requests=100, seconds=60),)
    # the same budget on a fast clock: 100 requests per 3 s, enforced by the emulator, and
    # a first sync that needs well over 100 requests
    integration = make(simply_records=30, limit=RateLimit(requests=100, seconds=3))
    integration.configure(dinero={"rate_limit": True, "requests_per_minute": 100,
                                  "rate_window_seconds": 3})
    started = time.monotonic()
    integration.run()
    elapsed = time.monotonic() - started
    answers = Counter(hit.status for hit, n in integration.dinero.requests.hits.items()
                      for _ in range(n))
    assert answers[429] == 0 and set(answers) == {200}, answers
    # 120 records created (30 organisations, contacts, products, invoices), the reads
    # around them: more than the window allows, so the run had to pace itself
    assert sum(answers.values()) > 120
    assert elapsed >= 3  # the client waited for the window instead of being refused
    integration.dinero.limiter.enabled = False  # the test's own reads are no sync's
    assert len(integration.dinero_rows("invoices")) == 30


# -- the demo ---------------------------------------------------------------------------------
def test_the_seed_002_demo_runs_between_the_emulators(tmp_path: Path) -> None:
    assert demo.available()
    said: list[str] = []
    shown: list[str] = []

    def invoke(args: list[str]) -> int:
        result = CliRunner().invoke(main, args, env={"COLUMNS": "200"})
        shown.append(result.output)
        return result.exit_code

    assert demo.run_demo(tmp_path, 5, said.append, invoke) == 0
    out = "\n".join(shown)
    assert "● dinero: failing" in shown[0] and "invalid_grant" in shown[0]
    assert "● simply: ok — admin" in shown[1] and "● dinero: ok" in shown[1]
    assert "conflict — changed on both sides; left wins by priority" in out
    assert "city: left 'Odense' / right 'Aalborg', left wins" in out
    assert "balance -> left: '2401.74' -> '1200.87'" in out
    assert "   - Simply CRM Faktura 1: total 2401.74, balance 1200.87 (received 1200.87)" in said
    assert "product left 14x10 -> right" in shown[-2] and "price -> right" in shown[-2]
    assert "dinero-emulator-api-key-7f3e" not in out  # no secret in what the commands print
