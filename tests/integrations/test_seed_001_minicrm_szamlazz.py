"""Seed 001: Számlázz.könnyen <-> MiniCRM, end to end over HTTP between the emulators.

The invoicing application's customers are a SQLite table in the ``szamlazz-konnyen`` layout
(``vevok``), synced both ways with MiniCRM's "Customer" companies: pass 1 matches each of
MiniCRM's customers by the seed's cascade (MiniCRM id, name + city + address, name + mailing
city + mailing address, address) and inserts or updates it locally with MiniCRM's data; pass
2 creates in MiniCRM the local customers it lacks. Invoices and proformas issued through
Számlázz.hu (the buyer named by the local customer id) arrive on the customer's card in
MiniCRM with the same totals. A demo account refuses every write before a request is sent,
an address off MiniCRM's IP list gets MiniCRM's refusal, and the 60 requests a minute are
kept (on a clock 20 times faster) without a single 429.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

import syncbridge_minicrm.connector
from syncbridge import RateLimit
from syncbridge.cli import main
from syncbridge.connection import Connection
from syncbridge.demo import minicrm_szamlazz as seed
from syncbridge.emulator import EmulatorOptions
from syncbridge.emulator.server import running
from syncbridge.plugins import load_connector
from syncbridge_minicrm.emulator import MiniCrmEmulator
from syncbridge_szamlazz.emulator.app import SzamlazzEmulator

#: MiniCRM's limit runs on a clock this much faster, on both sides (emulator and client)
FAST = 20
#: beside the demo's data: a MiniCRM customer and a local one with a tax number that does
#: not check out (the törzsszám's check digit is wrong)
BAD_IN_MINICRM = seed.Business(
    "Rossz Adószám Kft.", "Customer", ("2000", "Szentendre", "Fő tér 1"), tax_number="12345678-2-41"
)
BAD_LOCALLY = {
    "nev": "Hibás Adószám Bt.",
    "orszag": "HU",
    "varos": "Vác",
    "cim": "Széchenyi utca 3",
    "adoszam": "12345678-2-41",
}


@dataclass
class Seed001:
    folder: Path
    config: Path
    crm: MiniCrmEmulator
    agent: SzamlazzEmulator
    crm_settings: dict[str, Any]
    agent_settings: dict[str, Any]
    app: sa.Engine
    #: MiniCRM ids of the seeded companies, by name
    ids: dict[str, int]

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["-c", str(self.config), *args], env={"COLUMNS": "200"})

    def report(self, run: str | None = None) -> list[dict[str, Any]]:
        result = self.cli("report", *([run] if run else []), "--json")
        assert result.exit_code == 0, result.output
        rows: list[dict[str, Any]] = json.loads(result.output)
        return rows

    def customers(self) -> list[tuple[Any, ...]]:
        return seed.customers(self.app)

    def minicrm(self) -> Connection:
        """A connection to MiniCRM counting in the sync's own rate budget (as the CLI does)."""
        budget = self.folder / "state.db.rates"
        assert budget.is_file()  # the budget the CLI's runs count in
        return Connection(
            "minicrm",
            load_connector("minicrm"),
            {**self.crm_settings, **seed.CUSTOMER_FILTER},
            rate_budget=budget,
        )

    def contact(self, contact_id: int) -> tuple[Any, ...]:
        """A MiniCRM company as stored: name, tax number, phone; its addresses (type, postal
        code, city, street, country); its cards' (module, status)."""
        row = self.crm.store.table("contact").get(contact_id)
        assert row is not None
        addresses = sorted(
            (a["Type"], a["PostalCode"], a["City"], a["Address"], a["CountryId"])
            for a in self.crm.store.table("address").list(lambda a: a["ContactId"] == contact_id)
        )
        cards = sorted(
            (p["CategoryId"], p["StatusId"])
            for p in self.crm.store.table("project").list(lambda p: p["ContactId"] == contact_id)
        )
        return (row["Name"], row["VatNumber"], row["Phone"], addresses, cards)


def _emulators(**minicrm: Any) -> tuple[MiniCrmEmulator, SzamlazzEmulator]:
    crm = MiniCrmEmulator(
        EmulatorOptions(records=0, seed=1, rate_limits=True),
        rate_clock=lambda: time.monotonic() * FAST,
        **minicrm,
    )
    return crm, SzamlazzEmulator(EmulatorOptions(records=0, seed=1, rate_limits=False))


@pytest.fixture
def fast_minicrm_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client keeps MiniCRM's 60 a minute on the emulator's fast clock."""
    monkeypatch.setattr(
        syncbridge_minicrm.connector, "RATE_LIMITS", (RateLimit(requests=60, seconds=60 / FAST),)
    )
    monkeypatch.setenv("SYNCBRIDGE_RETRY_BACKOFF", "0.01")


def _start(
    tmp_path: Path,
    crm: MiniCrmEmulator,
    agent: SzamlazzEmulator,
    crm_url: str,
    agent_url: str,
    businesses: tuple[seed.Business, ...],
    locals_: tuple[dict[str, str], ...],
) -> Seed001:
    ids = {business.name: seed.add_business(crm, business) for business in businesses}
    db_url = f"sqlite:///{tmp_path / 'szkh.db'}"
    app = seed.create_invoicing_app(db_url, locals_, ids)
    crm_settings, agent_settings = crm.settings_for(crm_url), agent.settings_for(agent_url)
    config = tmp_path / "syncbridge.toml"
    config.write_text(seed.config_text(db_url, crm_settings, agent_settings), encoding="utf-8")
    return Seed001(tmp_path, config, crm, agent, crm_settings, agent_settings, app, ids)


@pytest.fixture
def integration(tmp_path: Path, fast_minicrm_limit: None) -> Iterator[Seed001]:
    crm, agent = _emulators()
    with running(crm.app) as crm_url, running(agent.app) as agent_url:
        found = _start(
            tmp_path,
            crm,
            agent,
            crm_url,
            agent_url,
            (*seed.BUSINESSES, BAD_IN_MINICRM),
            (*seed.LOCAL_CUSTOMERS, BAD_LOCALLY),
        )
        yield found
        found.app.dispose()


def _outcomes(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(left id, right id, outcome) of each reported record ("" for no record)."""
    pairs = []
    for row in rows:
        ids = (row["record_id"] or "", row["target_id"] or "")
        left, right = ids if row["side"] == "left" else ids[::-1]
        pairs.append((left, right, row["outcome"]))
    return sorted(pairs)


# -- the customers, both ways -----------------------------------------------------------------
def test_customers_both_ways_then_invoices_and_proformas_on_their_cards(
    integration: Seed001,
) -> None:
    ids = integration.ids
    first = integration.cli("run", "-v", "--sync", "szkh_minicrm")
    # the two bad tax numbers fail their records; every other customer goes through
    assert first.exit_code == 1, first.output + first.stderr
    rows = integration.report()
    # MiniCRM's customers found (updated with MiniCRM's data: a "conflict" where both sides
    # had a value, MiniCRM's kept) or inserted; the local ones MiniCRM lacks created there
    eta, theta = max(ids.values()) + 1, max(ids.values()) + 2
    zeta, bad = ids["Zéta Kft."], ids["Rossz Adószám Kft."]
    assert _outcomes(rows) == sorted(
        [
            ("1", str(ids["Alfa Kft."]), "conflict"),
            ("2", str(ids["Béta Bt."]), "updated"),
            ("3", str(ids["Gamma Zrt."]), "conflict"),
            ("4", str(ids["Delta Kft."]), "conflict"),
            ("10", str(ids["Epszilon Kft."]), "created"),
            ("7", str(eta), "created"),
            ("8", str(theta), "created"),
            ("5", "", "ambiguous"),
            ("6", "", "ambiguous"),
            ("", str(zeta), "ambiguous"),
            ("9", "", "failed"),
            ("", str(bad), "failed"),
        ]
    )
    by_record = {(r["side"], r["record_id"]): r for r in rows}
    # each level of the cascade found its own customer, and says on which key
    assert [by_record[("left", str(n))]["reason"].split(";")[0] for n in (1, 2, 3, 4)] == [
        f"matched right {ids['Alfa Kft.']} on external_id",
        f"matched right {ids['Béta Bt.']} on name+city+address",
        f"matched right {ids['Gamma Zrt.']} on name+mailing_city+mailing_address",
        f"matched right {ids['Delta Kft.']} on address",
    ]
    # two local customers equally like MiniCRM's Zéta Kft.: ambiguous, nothing guessed
    assert {
        (k, r["outcome"], r["reason"])
        for k, r in by_record.items()
        if k[1] in ("5", "6", str(zeta)) and r["outcome"] == "ambiguous"
    } == {
        (
            ("left", "5"),
            "ambiguous",
            f"1 right record matches on name+city+address: {zeta}, as "
            "do left 6; link one in the config (links) or make the records distinguishable",
        ),
        (
            ("left", "6"),
            "ambiguous",
            f"1 right record matches on name+city+address: {zeta}, as "
            "do left 5; link one in the config (links) or make the records distinguishable",
        ),
        (
            ("right", str(zeta)),
            "ambiguous",
            "2 left records match on name+city+address: 5, 6; "
            "link one in the config (links) or make the records distinguishable",
        ),
    }
    # a bad tax number is reported naming the field, on either side
    assert by_record[("right", str(bad))]["outcome"] == "failed"
    assert by_record[("right", str(bad))]["reason"].startswith(
        "VatNumber: '12345678-2-41' is not a valid Hungarian tax number (adószám): "
    )
    assert (by_record[("left", "9")]["outcome"], by_record[("left", "9")]["reason"]) == (
        "failed",
        "tax_code: '12345678-2-41' is not a valid Hungarian tax number (adószám): "
        "its check digit is wrong",
    )

    # pass 1: found customers carry MiniCRM's data and id, the new one is inserted (tax
    # number as 8-1-2), the Lead and the bad one are not
    assert integration.customers() == [
        (
            1,
            "Alfa Kft.",
            "12345676-2-41",
            "HU",
            "1051",
            "Budapest",
            "Nádor utca 1",
            None,
            None,
            None,
            None,
            "+36 1 555 0101",
            str(ids["Alfa Kft."]),
        ),
        (
            2,
            "Béta Bt.",
            None,
            "HU",
            "4024",
            "Debrecen",
            "Piac utca 1",
            None,
            None,
            None,
            None,
            "+36 52 000 000",
            str(ids["Béta Bt."]),
        ),
        (
            3,
            "Gamma Zrt.",
            None,
            "HU",
            "6720",
            "Szeged",
            "Kárász utca 3",
            "7621",
            "Pécs",
            "Király utca 5",
            None,
            None,
            str(ids["Gamma Zrt."]),
        ),
        (
            4,
            "Delta Kft.",
            None,
            "HU",
            "9021",
            "Győr",
            "Baross út 10",
            None,
            None,
            None,
            None,
            None,
            str(ids["Delta Kft."]),
        ),
        (
            5,
            "Zéta Kft.",
            None,
            None,
            None,
            "Székesfehérvár",
            "Fő utca 9",
            None,
            None,
            None,
            "a@zeta.hu",
            None,
            None,
        ),
        (
            6,
            "Zéta Kft.",
            None,
            None,
            None,
            "Székesfehérvár",
            "Fő utca 9",
            None,
            None,
            None,
            "b@zeta.hu",
            None,
            None,
        ),
        (
            7,
            "Éta Kft.",
            "11111111242",
            "HU",
            "1111",
            "Budapest",
            "Bartók Béla út 5",
            None,
            None,
            None,
            None,
            None,
            None,
        ),
        (
            8,
            "Théta Bt.",
            None,
            "HU",
            "6000",
            "Kecskemét",
            "Rákóczi út 8",
            "6001",
            "Kecskemét",
            "Pf. 12",
            None,
            None,
            None,
        ),
        (
            9,
            "Hibás Adószám Bt.",
            "12345678-2-41",
            "HU",
            None,
            "Vác",
            "Széchenyi utca 3",
            None,
            None,
            None,
            None,
            None,
            None,
        ),
        (
            10,
            "Epszilon Kft.",
            "13579131-2-42",
            "HU",
            "3525",
            "Miskolc",
            "Széchenyi utca 7",
            None,
            None,
            None,
            None,
            None,
            str(ids["Epszilon Kft."]),
        ),
    ]
    # pass 2: the local customers MiniCRM lacks are there now, with their addresses, the tax
    # number as 8-1-2, and a Customer card (so that MiniCRM's filter reads them back)
    assert [integration.contact(n) for n in (eta, theta)] == [
        (
            "Éta Kft.",
            "11111111-2-42",
            "",
            [("Székhely", "1111", "Budapest", "Bartók Béla út 5", "HU")],
            [(23, 2501)],
        ),
        (
            "Théta Bt.",
            "",
            "",
            [
                ("Levelezési cím", "6001", "Kecskemét", "Pf. 12", ""),
                ("Székhely", "6000", "Kecskemét", "Rákóczi út 8", "HU"),
            ],
            [(23, 2501)],
        ),
    ]
    assert len(integration.crm.store.table("contact")) == len(ids) + 2  # no other create
    # a field only the application had went to MiniCRM; MiniCRM's own data stayed
    assert integration.contact(ids["Béta Bt."])[:3] == ("Béta Bt.", "", "+36 52 000 000")
    assert integration.contact(ids["Alfa Kft."])[:3] == (
        "Alfa Kft.",
        "12345676241",
        "+36 1 555 0101",
    )

    # the next run stores the MiniCRM ids of the customers pass 2 created; nothing else moves
    second = integration.cli("run", "-v", "--sync", "szkh_minicrm")
    assert second.exit_code == 1, second.output
    assert _outcomes(integration.report()) == sorted(
        [
            ("5", "", "ambiguous"),
            ("6", "", "ambiguous"),
            ("", str(zeta), "ambiguous"),
            ("9", "", "failed"),
            ("", str(bad), "failed"),
            ("7", str(eta), "updated"),
            ("8", str(theta), "updated"),
        ]
    )
    after = integration.customers()
    assert [(row[0], row[-1]) for row in after[6:8]] == [(7, str(eta)), (8, str(theta))]
    assert len(integration.crm.store.table("contact")) == len(ids) + 2

    # invoices and proformas issued through Számlázz.hu, the buyer being the local customer
    today = date.today()
    alfa, zeta_a, theta_row, epszilon = after[0], after[4], after[7], after[9]
    numbers = {
        "alfa": seed.issue(integration.agent_settings, "invoice", alfa, today),
        "epszilon": seed.issue(integration.agent_settings, "quote", epszilon, today),
        "theta": seed.issue(integration.agent_settings, "invoice", theta_row, today),
        "zeta": seed.issue(integration.agent_settings, "invoice", zeta_a, today),
    }
    documents = integration.cli("run", "-v", "--sync", "szamlazz_minicrm")
    assert documents.exit_code == 0, documents.output + documents.stderr
    # each on its customer's card, under its Számlázz.hu number, with the same totals
    ledger = integration.agent.ledger.documents
    expected = [
        (ids["Alfa Kft."], "Invoice", numbers["alfa"]),
        (ids["Epszilon Kft."], "Proforma", numbers["epszilon"]),
        (theta, "Invoice", numbers["theta"]),
    ]
    assert sorted(seed.documents(integration.crm), key=lambda d: d[2]) == sorted(
        (
            (
                *key,
                f"{ledger[key[2]].net:.2f}",
                f"{ledger[key[2]].vat:.2f}",
                f"{ledger[key[2]].gross:.2f}",
            )
            for key in expected
        ),
        key=lambda d: d[2],
    )
    assert (
        ledger[numbers["alfa"]].net,
        ledger[numbers["alfa"]].vat,
        ledger[numbers["alfa"]].gross,
    ) == (Decimal("42490.00"), Decimal("10374.50"), Decimal("52864.50"))
    for row in integration.crm.store.table("invoice").list():  # on a card of its customer
        card = integration.crm.store.table("project").get(row["ProjectId"])
        assert card is not None and card["ContactId"] == row["CustomerId"]
    # the canonical documents agree on both sides: net, VAT and gross
    with Connection("szamlazz-test", load_connector("szamlazz"), integration.agent_settings) as sz:
        issued = {
            d.number: d
            for entity in ("invoice", "quote")
            for page in sz.fetch(entity)
            for d in sz.map_page(entity, page)
        }
    with integration.minicrm() as crm:
        arrived = {
            d.number: d
            for entity in ("invoice", "quote")
            for page in crm.fetch(entity)
            for d in crm.map_page(entity, page)
        }
    assert set(arrived) == {numbers["alfa"], numbers["epszilon"], numbers["theta"]}
    for number, document in arrived.items():
        source = issued[number]
        assert (document.net_total, document.tax_total, document.gross_total) == (
            source.net_total,
            source.tax_total,
            source.gross_total,
        ), number
        assert document.date == source.date
    # the invoice of the ambiguous customer waits for its customer to be linked
    report = {r["record_id"]: r for r in integration.report()}
    assert (report[numbers["zeta"]]["outcome"], report[numbers["zeta"]]["reason"]) == (
        "waiting",
        "waiting on company 5 (left), not linked yet",
    )

    # once the duplicate is resolved (the second Zéta merged away), it follows
    with integration.app.begin() as connection:
        connection.execute(sa.text("DELETE FROM vevok WHERE vevo_id = 6"))
    fixed = integration.cli("run", "-q", "--sync", "szkh_minicrm", "--full")
    assert fixed.exit_code == 1  # the bad tax numbers still fail
    assert integration.customers()[4][-1] == str(zeta)
    follows = integration.cli("run", "-v", "--sync", "szamlazz_minicrm")
    assert follows.exit_code == 0, follows.output
    assert [d[:3] for d in seed.documents(integration.crm) if d[2] == numbers["zeta"]] == [
        (zeta, "Invoice", numbers["zeta"])
    ]

    # in step: another run of everything writes nothing to MiniCRM
    writes = integration.crm.requests.count("PUT") + integration.crm.requests.count("POST")
    again = integration.cli("run", "-q")
    assert again.exit_code == 1
    assert integration.crm.requests.count("PUT") + integration.crm.requests.count("POST") == writes

    # MiniCRM's limit was in play (more than 60 R3 requests) and never answered 429
    assert integration.crm.requests.count(path_prefix="/Api/R3/") > 60
    assert integration.crm.requests.count(status=429) == 0


# -- the demo account -------------------------------------------------------------------------
@pytest.fixture
def demo_account(tmp_path: Path, fast_minicrm_limit: None) -> Iterator[Seed001]:
    crm, agent = _emulators(demo=True)
    with running(crm.app) as crm_url, running(agent.app) as agent_url:
        found = _start(
            tmp_path, crm, agent, crm_url, agent_url, seed.BUSINESSES, seed.LOCAL_CUSTOMERS
        )
        yield found
        found.app.dispose()


def test_a_demo_account_is_read_and_every_write_refused_before_sending(
    demo_account: Seed001,
) -> None:
    integration = demo_account
    assert integration.crm_settings["demo_account"] is True
    check = integration.cli("check", "minicrm")
    assert check.exit_code == 0, check.output
    assert (
        "ok — MiniCRM system 12345 (a demo account: it can be read, and every write to it is "
        "refused before anything is sent)"
    ) in " ".join(check.output.split())

    # the seed's config writes both ways: the first write to MiniCRM stops the entity, with
    # nothing sent
    refused = integration.cli("run", "-q", "--sync", "szkh_minicrm")
    assert refused.exit_code == 1
    message = (
        "MiniCRM system 12345 is a MiniCRM demo account, which can only be read: 1 company "
        "write(s) refused before anything was sent; sync from MiniCRM only, or connect a "
        "subscribed system (demo_account = false)"
    )
    status = json.loads(integration.cli("status", "--json").output)
    assert [
        (row["sync"], row["entity"], row["message"])
        for row in status
        if row["sync"] == "szkh_minicrm"
    ] == [("szkh_minicrm", "company", f"ConnectorError: {message}")]
    assert integration.crm.requests.count("PUT") == integration.crm.requests.count("POST") == 0

    # reads work: downloading customers (the seed: a demo system can only be downloaded)
    text = integration.config.read_text(encoding="utf-8")
    assert text.count('direction = "both"') == 1
    integration.config.write_text(
        text.replace('direction = "both"', 'direction = "right-to-left"'), encoding="utf-8"
    )
    download = integration.cli("run", "-v", "--sync", "szkh_minicrm")
    assert download.exit_code == 0, download.output
    names = [row[1] for row in integration.customers()]
    assert names[:4] == ["Alfa Kft.", "Béta Bt.", "Gamma Zrt.", "Delta Kft."]
    assert "Epszilon Kft." in names and "Lead Kft." not in names

    # a document issued through Számlázz.hu cannot be uploaded to a demo system
    alfa = integration.customers()[0]
    seed.issue(integration.agent_settings, "invoice", alfa, date.today())
    upload = integration.cli("run", "-q", "--sync", "szamlazz_minicrm")
    assert upload.exit_code == 1
    status = json.loads(integration.cli("status", "--json").output)
    [invoice] = [row for row in status if row["entity"] == "invoice"]
    assert invoice["message"] == f"ConnectorError: {message}".replace("1 company", "1 invoice")
    assert integration.crm.requests.count("PUT") == integration.crm.requests.count("POST") == 0
    assert integration.crm.requests.count(status=429) == 0


# -- the IP allow-list ------------------------------------------------------------------------
def test_an_address_off_the_ip_list_gets_minicrms_refusal_readably(
    tmp_path: Path,
    fast_minicrm_limit: None,
) -> None:
    crm, agent = _emulators(allowed_ips={"203.0.113.7"})
    with running(crm.app) as crm_url, running(agent.app) as agent_url:
        integration = _start(
            tmp_path, crm, agent, crm_url, agent_url, seed.BUSINESSES, seed.LOCAL_CUSTOMERS
        )
        before = integration.customers()
        check = integration.cli("check", "minicrm", "--json")
        assert check.exit_code == 1
        [entry] = json.loads(check.output)["connections"]
        refusal = (
            "HTTP 403 Forbidden: {entity} (GET): Az API hozzáférés nem engedélyezett erről az "
            "IP címről: 127.0.0.1; this machine's address (127.0.0.1) is not on the system's "
            "list of API allowed IP addresses: add it there (MiniCRM: Settings -> System), or "
            "run from a listed address (allowed_ips in the connection's settings)"
        )
        assert entry["reason"] == "MiniCRM answered GET /Api/R3/Category with " + (
            refusal.format(entity="Category")
        )
        run = integration.cli("run", "-q", "--sync", "szkh_minicrm")
        assert run.exit_code == 1
        status = json.loads(integration.cli("status", "--json").output)
        [company] = [row for row in status if row["entity"] == "company"]
        assert company["message"] == (
            "ConnectorError: MiniCRM answered GET /Api/R3/Schema/Project/23 with "
            + refusal.format(entity="Schema")
        )
        assert integration.customers() == before  # nothing half-done
        assert crm.requests.count(status=200) == 0 and crm.requests.count(status=429) == 0
        integration.app.dispose()


# -- the demo ---------------------------------------------------------------------------------
def test_the_seed_001_demo_runs_the_integration_and_says_what_it_did(tmp_path: Path) -> None:
    assert seed.available()
    said: list[str] = []
    commands: list[tuple[str, ...]] = []

    def invoke(args: list[str]) -> int:
        commands.append(tuple(args[2:]))
        result = CliRunner().invoke(main, args, env={"COLUMNS": "200"})
        said.append(result.output)
        return result.exit_code

    code = seed.run_demo(tmp_path, 4, said.append, invoke)
    assert code == 0, "\n".join(said)
    assert commands == [
        ("check",),
        ("plan", "--sync", "szkh_minicrm"),
        ("run", "-v", "--sync", "szkh_minicrm"),
        ("run", "-v", "--sync", "szamlazz_minicrm"),
        ("run", "-v"),
        ("log", "minicrm", "--last", "8"),
    ]
    text = "\n".join(said)
    for phrase in (
        "matched right 9 on external_id",
        "on name+city+address",
        "on name+mailing_city+mailing_address",
        "on address",
        "ambiguous",
        "created — new on the left",
        "created — new on the right",
        "quote left D-SBT-",
        "invoice left SBT-",
        "Proforma | D-SBT-",
        "| 42490.00 | 10374.50 | 52864.50",
    ):
        assert phrase in text, phrase
    assert "emulated-minicrm-api-key" not in "\n".join(said[-1:])  # the log is redacted
