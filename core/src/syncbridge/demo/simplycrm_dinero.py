"""Simply CRM <-> Dinero over HTTP, between the two emulators (seed 002).

Both emulators are started on free loopback ports: a Simply CRM with Danish organisations,
their contacts, products and invoices, and an empty Dinero organisation. The demo writes the
seed's config ("Default" mapping but the CVR number in a custom field, both ways with "send
CRM data first", Auto every three hours), checks both connections (red with a wrong API key,
then green), runs the bulk sync, books an invoice and registers a payment in Dinero to show
the payment history arriving on the CRM invoice, edits an organisation on both sides, and
shows the single-record "Sync to Dinero" of a one-way sync.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack
from decimal import Decimal
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

SYSTEMS = ("simplycrm", "dinero")
SYNC_NAME = "simply_dinero"
#: the seed's modules, in the order a run takes them
ENTITIES = ("company", "contact", "product", "invoice")
#: what each entity is called in Simply CRM and in Dinero
MODULES = {
    "company": "Organisations <-> Dinero contacts that are companies",
    "contact": "Contacts <-> Dinero contacts that are persons",
    "product": "Products <-> Dinero products",
    "invoice": "Invoices <-> Dinero invoices (payments come back as received/balance)",
}
#: the "Custom" mapping the demo and the tests use: the CVR number kept in the
#: organisations' custom field cf_853 goes to Dinero's VatNumber
CUSTOM_FIELDS = {"company": {"vat_number": "cf_853"}}


def sync_config(
    direction: str = "both",
    priority: str = "left",
    every: str = "3h",
    entities: Iterable[str] = ENTITIES,
) -> str:
    """The seed-002 sync: Simply CRM on the left, Dinero on the right.

    ``direction``: ``left-to-right`` (Simply CRM -> Dinero), ``right-to-left`` (Dinero ->
    Simply CRM) or ``both``; with both, ``priority`` ``left`` is "send CRM data first" and
    ``right`` "fetch Dinero data first". ``every``: ``"3h"`` (Auto) or ``"manual"``.
    """
    text = f'[syncs.{SYNC_NAME}]\nleft = "simply"\nright = "dinero"\n'
    for entity in entities:
        text += (f"\n[syncs.{SYNC_NAME}.entities.{entity}]        # {MODULES[entity]}\n"
                 f'direction = "{direction}"\n')
        if direction == "both":
            text += f'priority = "{priority}"\n'
        text += f'every = "{every}"\n'
        if entity == "invoice":
            # Simply CRM numbers its invoices itself, Dinero numbers them when booked
            text += 'match = [["subject", "date"]]\n'
    return text


#: the seed's settings: both ways, "send CRM data first", Auto every three hours
SYNC = sync_config()


def available() -> bool:
    return all(system in installed_emulators() for system in SYSTEMS)


def _records(connector: str, settings: dict[str, Any], entity: str) -> list[Any]:
    with Connection("demo", load_connector(connector), {**settings, "rate_limit": False}) as conn:
        return [record for page in conn.fetch(entity) for record in conn.map_page(entity, page)]


def _edit(connector: str, settings: dict[str, Any], entity: str, record_id: str,
          **changes: Any) -> str:
    """Change one record the way a user would, through the system's API."""
    with Connection("demo", load_connector(connector), {**settings, "rate_limit": False}) as conn:
        [record] = [r for page in conn.fetch(entity, None, {"ids": [record_id]})
                    for r in conn.map_page(entity, page)]
        context: dict[str, Any] = {}
        native = conn.map_out(entity, record.model_copy(update=changes), context)
        [result] = conn.upsert(entity, [UpsertItem(key=f"demo-{record_id}", id=record_id,
                                                   record=native, context=context,
                                                   changed=frozenset(changes))])
        if not result.ok:
            raise RuntimeError(result.error)
    return ", ".join(f"{k} = {v}" for k, v in changes.items())


def register_payment(settings: dict[str, Any], guid: str, amount: Decimal,
                     text: str = "Indbetaling") -> None:
    """Register a payment on the booked Dinero invoice ``guid``, as a user does in Dinero:
    a token from the password grant with the connection's settings, the invoice's current
    ``TimeStamp``, then the payment."""
    token = httpx.post(
        settings["token_url"], auth=(settings["client_id"], settings["client_secret"]),
        data={"grant_type": "password", "username": settings["api_key"],
              "password": settings["api_key"]},
    )
    token.raise_for_status()
    org = settings["organization_id"]
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    with httpx.Client(base_url=settings["base_url"], headers=headers) as client:
        invoice = client.get(f"/v1/{org}/invoices/{guid}")
        invoice.raise_for_status()
        paid = client.post(f"/v1/{org}/invoices/{guid}/payments", json={
            "Timestamp": invoice.json()["TimeStamp"], "DepositAccountNumber": 55000,
            # a JSON number: an amount in øre survives the float repr exactly
            "RemainderIsFee": False, "Description": text, "Amount": float(amount)})
        paid.raise_for_status()


def _config(folder: Path, simply: dict[str, Any], dinero: dict[str, Any], sync: str) -> Path:
    config = folder / "syncbridge.toml"
    config.write_text('[state]\nurl = "sqlite:///state.db"\n'
                      + connection_toml("simply", "simplycrm", simply)
                      + connection_toml("dinero", "dinero", dinero) + sync, encoding="utf-8")
    return config


def run_demo(folder: Path, records: int, say: Callable[[str], None],
             invoke: Callable[[list[str]], int]) -> int:
    with ExitStack() as stack:
        options = EmulatorOptions(records=records, seed=2, rate_limits=False)
        crm_emulator = load_factory("simplycrm")(options)
        dinero_emulator = load_factory("dinero")(options.model_copy(update={"records": 0}))
        crm_url = stack.enter_context(running(crm_emulator.app))
        dinero_url = stack.enter_context(running(dinero_emulator.app))
        simply = {**crm_emulator.settings_for(crm_url), "fields": CUSTOM_FIELDS}
        dinero = {**dinero_emulator.settings_for(dinero_url), "rate_limit": False}
        say(f"[bold]1.[/bold] Simply CRM emulator on {crm_url} with {records} Danish "
            f"organisations, their contacts, {records} products and {records} invoices; an "
            f"empty Dinero organisation on {dinero_url} (firma-ID "
            f"{dinero['organization_id']}). Rate limits off for the demo (Dinero's 100 "
            "requests a minute are honoured by the client otherwise).")

        wrong = {**dinero, "api_key": "not-the-key"}
        config = _config(folder, simply, wrong, SYNC)
        args = ["-c", str(config)]
        say("[bold]2.[/bold] Status red: the Dinero connection with a wrong API key.")
        invoke([*args, "check", "dinero"])
        config = _config(folder, simply, dinero, SYNC)
        say(f"[bold]3.[/bold] The config ({config.name}): Mapping Default, except the CVR "
            "number in the custom field cf_853 (Custom); both ways with \"send CRM data "
            f"first\" (priority = left); Auto every three hours (every = \"3h\"):"
            f"\n{escape(config.read_text(encoding='utf-8'))}")
        say("[bold]4.[/bold] syncbridge check: status green for both connections.")
        code = invoke([*args, "check"])

        say("[bold]5.[/bold] syncbridge run: the bulk sync (the Sync button). Organisations "
            "become Dinero contacts that are companies (with their CVR), contacts become "
            "persons, products and invoices follow with their totals.")
        code = max(code, invoke([*args, "run"]))

        say("[bold]6.[/bold] An invoice approved in Simply CRM is booked in Dinero; the "
            "customer pays half of it, registered in Dinero.")
        crm_invoices = _records("simplycrm", simply, "invoice")
        first = sorted(crm_invoices, key=lambda i: i.id)[0]
        say("   - Simply CRM: " + _edit("simplycrm", simply, "invoice", first.id,
                                        status="issued") + f" on {first.subject}")
        code = max(code, invoke([*args, "run", "-q", "--entity", "invoice"]))
        [booked] = [i for i in _records("dinero", dinero, "invoice")
                    if i.subject == first.subject]
        half = (booked.total / 2).quantize(Decimal("0.01"))
        register_payment(dinero, booked.id, half)
        say(f"   - Dinero: invoice {booked.number} booked; a payment of {half} DKK registered")
        say("[bold]7.[/bold] Edits between runs: an organisation's phone in Simply CRM, its "
            "city in both systems (the CRM's is kept: \"send CRM data first\").")
        organisation = sorted(_records("simplycrm", simply, "company"), key=lambda c: c.id)[0]
        [twin] = [c for c in _records("dinero", dinero, "company")
                  if c.name == organisation.name]
        say(f"   - Simply CRM: {organisation.name}: "
            + _edit("simplycrm", simply, "company", organisation.id, phone="+45 70 20 30 40",
                    city="Odense"))
        say(f"   - Dinero: {twin.name}: " + _edit("dinero", dinero, "company", twin.id,
                                                   city="Aalborg"))
        say("[bold]8.[/bold] syncbridge run -v: the payment reaches the CRM invoice "
            "(received, balance), the organisation's edits reach Dinero.")
        code = max(code, invoke([*args, "run", "-v"]))
        [paid] = [i for i in _records("simplycrm", simply, "invoice") if i.id == first.id]
        say(f"   - Simply CRM {paid.subject}: total {paid.total}, balance {paid.balance} "
            f"(received {paid.total - (paid.balance or 0)})")

        say("[bold]9.[/bold] syncbridge status: Auto, every three hours (`syncbridge daemon` "
            "runs each module when due).")
        invoke([*args, "status"])

        one_way = sync_config(direction="left-to-right", every="manual")
        config = _config(folder, simply, dinero, one_way)
        product = sorted(_records("simplycrm", simply, "product"), key=lambda p: p.id)[0]
        _edit("simplycrm", simply, "product", product.id, price=Decimal("1499"))
        say("[bold]10.[/bold] Single-record sync (\"Sync to Dinero\"), with the one-way "
            f"Simply CRM -> Dinero sync: product {product.name} ({product.id}) repriced in "
            "the CRM and synced alone.")
        code = max(code, invoke([*args, "run", "-v", "--sync", SYNC_NAME, "--record",
                                 product.id, "--side", "left"]))
        say("[bold]11.[/bold] syncbridge report: the last run, row by row.")
        invoke([*args, "report"])
        return code
