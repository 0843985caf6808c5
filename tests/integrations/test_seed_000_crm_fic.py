"""Seed 000: CRM in Cloud <-> Fatture in Cloud, end to end over HTTP between the emulators.

Companies both ways (matched on VAT number, then name + city), the catalog (FiC articles
without a code are left out), VAT rates linked by value, quotes from the CRM to FiC, and an
accepted quote turned into an order in FiC, once.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from syncbridge.cli import main
from syncbridge.connection import Connection
from syncbridge.demo.crm_fic import SYNC  # the demo's config is the integration's
from syncbridge.emulator import EmulatorOptions
from syncbridge.emulator.config import connection_toml
from syncbridge.emulator.server import running
from syncbridge.models import DocumentStatus
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from syncbridge_crmincloud.emulator import create_app as crm_app
from syncbridge_fattureincloud.emulator import MAIN_COMPANY
from syncbridge_fattureincloud.emulator import create_app as fic_app


@dataclass
class Integration:
    folder: Path
    config: Path
    crm: Any
    fic: Any
    crm_settings: dict[str, Any]
    fic_settings: dict[str, Any]

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["-c", str(self.config), *args],
                                  env={"COLUMNS": "200"})

    def connection(self, side: str) -> Connection:
        if side == "crm":
            return Connection("crm-test", load_connector("crmincloud"), self.crm_settings)
        return Connection("fic-test", load_connector("fattureincloud"), self.fic_settings)

    def records(self, side: str, entity: str) -> list[Any]:
        with self.connection(side) as conn:
            return [conn.map_in(entity, native) for page in conn.fetch(entity)
                    for native in page.records if _maps(conn, entity, native)]


def _maps(conn: Connection, entity: str, native: dict[str, Any]) -> bool:
    try:
        conn.map_in(entity, native)
    except ValueError:
        return False
    return True


@pytest.fixture
def integration(tmp_path: Path) -> Iterator[Integration]:
    crm = crm_app(EmulatorOptions(records=8, seed=3, rate_limits=False))
    fic = fic_app(EmulatorOptions(records=8, seed=3, rate_limits=False))
    with running(crm.app) as crm_url, running(fic.app) as fic_url:
        crm_settings, fic_settings = crm.settings_for(crm_url), fic.settings_for(fic_url)
        config = tmp_path / "syncbridge.toml"
        config.write_text('[state]\nurl = "sqlite:///state.db"\n'
                          + connection_toml("crm", "crmincloud", crm_settings)
                          + connection_toml("fic", "fattureincloud", fic_settings) + SYNC)
        yield Integration(tmp_path, config, crm, fic, crm_settings, fic_settings)


def test_the_crm_and_fatture_in_cloud_stay_in_step(integration: Integration) -> None:
    # an article without a code in FiC: the seed says it is not synced
    products = integration.fic.table(MAIN_COMPANY, "products")
    template = dict(products.list()[0])
    for key in ("id", "code", "created_at", "updated_at"):
        template.pop(key, None)
    products.insert({**template, "name": "Articolo senza codice", "code": ""})

    first = integration.cli("run", "-q")
    assert first.exit_code == 0, first.output + first.stderr
    def companies(side: str) -> Counter[tuple[str, str | None, str | None]]:
        return Counter((c.name, c.city, c.vat_number) for c in integration.records(side, "company"))

    assert companies("crm") == companies("fic")  # the same companies, each once
    assert max(companies("crm").values()) == 1
    crm_codes = sorted(p.code for p in integration.records("crm", "product"))
    fic_codes = sorted(p.code for p in integration.records("fic", "product"))
    assert crm_codes == fic_codes
    assert "Articolo senza codice" not in {p.name for p in integration.records("crm", "product")}
    report = integration.cli("report", "--json")
    rows = json.loads(report.output)
    assert {"entity": "product", "outcome": "skipped", "reason": "no product code"}.items() <= \
        next(r for r in rows if r["reason"] == "no product code").items()

    crm_quotes = {q.number for q in integration.records("crm", "quote")}
    fic_quotes = {q.number for q in integration.records("fic", "quote")}
    assert crm_quotes <= fic_quotes

    again = integration.cli("run", "-q")  # what the first run wrote is recognised as ours
    assert again.exit_code == 0
    summary = integration.cli("report", "--json")
    assert [r for r in json.loads(summary.output)
            if r["outcome"] not in ("skipped",)] == []


def test_an_accepted_quote_becomes_one_order_in_fatture_in_cloud(
    integration: Integration,
) -> None:
    assert integration.cli("run", "-q").exit_code == 0
    before = {o.id for o in integration.records("fic", "order")}
    quote = next(q for q in integration.records("crm", "quote") if q.status.value == "sent")
    with integration.connection("crm") as crm:
        accepted = quote.model_copy(update={"status": DocumentStatus.ACCEPTED})
        [result] = crm.upsert("quote", [UpsertItem(key="accept", id=quote.id,
                                                   record=crm.map_out("quote", accepted),
                                                   changed=frozenset({"status"}))])
        assert result.ok, result.error
    assert integration.cli("run", "-q").exit_code == 0
    [order] = [o for o in integration.records("fic", "order") if o.id not in before]
    fic_quote = next(q for q in integration.records("fic", "quote") if q.number == quote.number)
    assert order.company_id == fic_quote.company_id  # the quote's client, as linked in FiC
    assert [(line.description, line.quantity, line.unit_price) for line in order.lines] == [
        (line.description, line.quantity, line.unit_price) for line in quote.lines]
    report = json.loads(integration.cli("report", "--json").output)
    assert [r["reason"] for r in report if r["entity"] == "order"] == [
        f"derived from quote {quote.id} (status = accepted)"]
    assert integration.cli("run", "-q", "--full").exit_code == 0  # never a second order
    assert len(integration.records("fic", "order")) == len(before) + 1


def test_a_full_run_after_the_first_writes_nothing(integration: Integration) -> None:
    # CRM quote rows carry no VAT percentage and no unit, FiC's lines do: those parts of a
    # line are neither compared nor written, so "sync all" finds every quote in step
    assert integration.cli("run", "-q").exit_code == 0
    full = integration.cli("run", "-q", "--full")
    assert full.exit_code == 0, full.output + full.stderr
    rows = json.loads(integration.cli("report", "--json", "--all").output)
    assert {r["outcome"] for r in rows} <= {"skipped"}
    # pairs in step are counted as unchanged, without a report row
    assert [r for r in rows if r["entity"] == "quote"] == []
    status = json.loads(integration.cli("status", "--json").output)
    [quote] = [e for e in status if e["entity"] == "quote"]
    assert quote["counts"] == {"unchanged": len(integration.records("crm", "quote"))}


def test_a_change_on_both_sides_goes_to_the_crm_and_is_reported(
    integration: Integration,
) -> None:
    assert integration.cli("run", "-q").exit_code == 0
    name = sorted(c.name for c in integration.records("crm", "company"))[0]
    for side, city in (("crm", "Bergamo"), ("fic", "Brescia")):
        company = next(c for c in integration.records(side, "company") if c.name == name)
        with integration.connection(side) as conn:
            changed = company.model_copy(update={"city": city})
            [result] = conn.upsert("company", [UpsertItem(
                key=f"edit-{side}", id=company.id, record=conn.map_out("company", changed),
                changed=frozenset({"city"}))])
            assert result.ok, result.error
    run = integration.cli("run", "-v", "--entity", "company")
    assert run.exit_code == 0, run.output
    assert "conflict — changed on both sides; left wins by priority" in run.output
    for side in ("crm", "fic"):
        [company] = [c for c in integration.records(side, "company") if c.name == name]
        assert company.city == "Bergamo"


def test_the_request_log_and_status_show_the_connection_and_its_schedules(
    integration: Integration,
) -> None:
    assert integration.cli("run", "-q").exit_code == 0
    log = integration.cli("log", "crm", "--json")
    assert log.exit_code == 0
    entries = json.loads(log.output)
    assert 0 < len(entries) <= 50
    assert all(entry["status"] for entry in entries)
    assert str(integration.crm_settings["password"]) not in log.output
    assert integration.fic_settings["access_token"] not in integration.cli("log", "fic").output
    status = json.loads(integration.cli("status", "--json").output)
    due = {row["entity"]: row["next_due"] for row in status}
    assert set(due) == {"vat_rate", "company", "product", "quote"}
    assert all(value not in ("manual", "now") for value in due.values())


@pytest.mark.skipif(os.environ.get("SYNCBRIDGE_SKIP_SLOW") == "1", reason="slow")
def test_the_daemon_pushes_crm_changes_on_the_next_short_poll(integration: Integration) -> None:
    text = integration.config.read_text().replace('every = "1m"', 'every = "1s"')
    integration.config.write_text(text)
    assert integration.cli("run", "-q").exit_code == 0
    company = integration.records("crm", "company")[0]
    [quote] = [q for q in integration.records("crm", "quote")][:1]
    with integration.connection("crm") as crm:
        renamed = quote.model_copy(update={"subject": "Offerta rivista"})
        [result] = crm.upsert("quote", [UpsertItem(key="poll", id=quote.id,
                                                   record=crm.map_out("quote", renamed),
                                                   changed=frozenset({"subject"}))])
        assert result.ok
    daemon = integration.cli("daemon", "--for", "3")
    assert daemon.exit_code == 0, daemon.output
    assert "crm_fic/quote: ok" in daemon.output
    fic_quote = next(q for q in integration.records("fic", "quote") if q.number == quote.number)
    assert fic_quote.subject == "Offerta rivista"
    assert company.name in {c.name for c in integration.records("fic", "company")}
