"""CRM in Cloud <-> Fatture in Cloud over HTTP, between the two emulators (seed 000).

Both emulators are started on free loopback ports with seeded Italian data; the demo writes
a config, shows the plan, runs the sync, then edits a company in each system (and one in
both, to show a conflict resolved by priority) and runs again.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from rich.markup import escape

from syncbridge.connection import Connection
from syncbridge.emulator import EmulatorOptions
from syncbridge.emulator.config import connection_toml
from syncbridge.emulator.loading import installed_emulators, load_factory
from syncbridge.emulator.server import running
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem

SYSTEMS = ("crmincloud", "fattureincloud")

#: the seed-000 sync: what the CRM in Cloud <-> Fatture in Cloud integration does
SYNC = """
[syncs.crm_fic]
left = "crm"
right = "fic"

[syncs.crm_fic.entities.vat_rate]        # "Aliquote": linked by value, checked daily
direction = "both"
every = "1d"

[syncs.crm_fic.entities.company]         # "Aziende": both ways, clients every 10 minutes
direction = "both"
priority = "left"
every = "10m"
match = [["vat_number"], ["name", "city"]]

[syncs.crm_fic.entities.product]         # the catalog, by article code
direction = "both"
every = "10m"
match = [["code"]]

[syncs.crm_fic.entities.quote]           # "Preventivi": CRM -> FiC on the next short poll
direction = "left-to-right"
every = "1m"

[[syncs.crm_fic.entities.quote.derive]]  # an accepted quote becomes an order in FiC
when = { status = "accepted" }
create = "order"
link_field = "quote_id"
"""


#: the Fatture in Cloud article the demo adds without a code
UNCODED = "Sopralluogo tecnico"


def available() -> bool:
    return all(system in installed_emulators() for system in SYSTEMS)


def _edit(connector: str, settings: dict[str, Any], name: str, **changes: Any) -> str:
    """Change a company the way a user would, through the system's API."""
    with Connection("demo", load_connector(connector), settings) as conn:
        record = next(company for page in conn.fetch("company") for native in page.records
                      if (company := conn.map_in("company", native)).content()["name"] == name)
        updated = record.model_copy(update=changes)
        [result] = conn.upsert("company", [UpsertItem(
            key=f"demo-{name}", id=record.id, record=conn.map_out("company", updated),
            changed=frozenset(changes))])
        if not result.ok:
            raise RuntimeError(result.error)
    return ", ".join(f"{k} = {v}" for k, v in changes.items())


def _add_uncoded_article(settings: dict[str, Any], name: str) -> None:
    """An article without a code, entered in Fatture in Cloud as users do for one-off
    services: seed 000 leaves such articles out of the catalog sync. Posted over the API
    itself, since the connector refuses to write one."""
    response = httpx.post(
        f"{settings['base_url']}/c/{settings['company_id']}/products",
        json={"data": {"name": name, "net_price": 80.0}},
        headers={"Authorization": f"Bearer {settings['access_token']}"},
    )
    response.raise_for_status()


def _companies(connector: str, settings: dict[str, Any]) -> list[str]:
    with Connection("demo", load_connector(connector), settings) as conn:
        return sorted(str(conn.map_in("company", native).content()["name"])
                      for page in conn.fetch("company") for native in page.records)


def run_demo(folder: Path, records: int, say: Callable[[str], None],
             invoke: Callable[[list[str]], int]) -> int:
    with ExitStack() as stack:
        options = EmulatorOptions(records=records, seed=7, rate_limits=False)
        emulators = {system: load_factory(system)(options) for system in SYSTEMS}
        urls = {system: stack.enter_context(running(emulator.app))
                for system, emulator in emulators.items()}
        crm = emulators["crmincloud"].settings_for(urls["crmincloud"])
        fic = emulators["fattureincloud"].settings_for(urls["fattureincloud"])
        _add_uncoded_article(fic, UNCODED)
        say(f"[bold]1.[/bold] CRM in Cloud emulator on {urls['crmincloud']}, Fatture in Cloud "
            f"emulator on {urls['fattureincloud']}, each with {records} Italian companies, "
            f"products and quotes, and in Fatture in Cloud one article without a code "
            f"({UNCODED!r}); rate limits off for the demo.")
        config = folder / "syncbridge.toml"
        config.write_text('[state]\nurl = "sqlite:///state.db"\n'
                          + connection_toml("crm", "crmincloud", crm)
                          + connection_toml("fic", "fattureincloud", fic) + SYNC,
                          encoding="utf-8")
        say(f"[bold]2.[/bold] The config ({config.name}), credentials of the emulators included:"
            f"\n{escape(config.read_text())}")
        args = ["-c", str(config)]
        say("[bold]3.[/bold] syncbridge check — both connections answer.")
        invoke([*args, "check"])
        say("[bold]4.[/bold] syncbridge plan — the dry run: nothing is written.")
        invoke([*args, "plan"])
        say("[bold]5.[/bold] syncbridge run — VAT rates linked by value, companies and products "
            "both ways (the article without a code is left out: skipped, \"no product code\"), "
            "quotes to Fatture in Cloud, "
            "and the accepted quote turned into an order.")
        code = invoke([*args, "run"])
        say("[bold]6.[/bold] Edits, through each system's API:")
        crm_names, fic_names = _companies("crmincloud", crm), _companies("fattureincloud", fic)
        shared = sorted(set(crm_names) & set(fic_names))
        phone = _edit("crmincloud", crm, shared[0], phone="+39 02 1111111")
        say(f"   - CRM: {shared[0]}: {phone}")
        say(f"   - Fatture in Cloud: {shared[1]}: "
            + _edit("fattureincloud", fic, shared[1], email="amministrazione@example.it"))
        say(f"   - both: {shared[2]}: CRM " + _edit("crmincloud", crm, shared[2], city="Bergamo")
            + ", Fatture in Cloud " + _edit("fattureincloud", fic, shared[2], city="Brescia")
            + " (the CRM has priority)")
        say("[bold]7.[/bold] syncbridge run -v — only the edited companies move, both ways.")
        code = max(code, invoke([*args, "run", "-v"]))
        say("[bold]8.[/bold] syncbridge report — the last run, row by row.")
        invoke([*args, "report"])
        say("[bold]9.[/bold] syncbridge log crm — the last requests to the CRM, secrets redacted.")
        invoke([*args, "log", "crm", "--last", "8"])
        return code
