"""``links_from``: a sync translating references with another sync's links.

The seed 001 shape, on three SQLite databases: an invoicing app keeps the customers
(``app``), a documents system names each invoice's buyer by the app's customer id and keeps
no customers of its own (``docs``, Számlázz.hu in the seed), and a CRM gets both (``crm``).
``app_crm`` links the customers; ``docs_crm`` sends the invoices and takes the customer links
from ``app_crm``, whichever side of it the CRM is on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from syncbridge.cli import main
from syncbridge.config.loader import parse
from syncbridge.connection import Connection
from syncbridge.errors import ConfigError
from syncbridge.models import Company, Invoice, model_for
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem


def _config(folder: Path, crm_left_in_app_sync: bool) -> str:
    pair = ('"crm"', '"app"') if crm_left_in_app_sync else ('"app"', '"crm"')
    direction = "right-to-left" if crm_left_in_app_sync else "left-to-right"
    return f"""
[state]
url = "sqlite:///{folder / 'state.db'}"
[connections.app]
connector = "sql"
settings = {{ url = "sqlite:///{folder / 'app.db'}" }}
[connections.crm]
connector = "sql"
settings = {{ url = "sqlite:///{folder / 'crm.db'}" }}
[connections.docs]
connector = "sql"
settings = {{ url = "sqlite:///{folder / 'docs.db'}" }}

[syncs.app_crm]
left = {pair[0]}
right = {pair[1]}
[syncs.app_crm.entities.company]
direction = "{direction}"

[syncs.docs_crm]
left = "docs"
right = "crm"
links_from = {{ company = "app_crm" }}
[syncs.docs_crm.entities.invoice]
direction = "left-to-right"
"""


def _connection(folder: Path, name: str) -> Connection:
    return Connection(name, load_connector("sql"), {"url": f"sqlite:///{folder / name}.db"})


def _put(folder: Path, name: str, entity: str, records: list[dict[str, Any]]) -> list[str]:
    with _connection(folder, name) as connection:
        items = [
            UpsertItem(
                key=f"{name}-{index}",
                record=connection.map_out(entity, model_for(entity).model_validate(record)),
            )
            for index, record in enumerate(records)
        ]
        results = connection.upsert(entity, items)
    assert all(result.ok for result in results), [result.error for result in results]
    return [str(result.id) for result in results]


def _read(folder: Path, name: str, entity: str) -> list[Any]:
    with _connection(folder, name) as connection:
        return [
            connection.map_in(entity, record)
            for page in connection.fetch(entity)
            for record in page.records
        ]


def _invoice(company_id: str, number: str) -> dict[str, Any]:
    return {
        "number": number,
        "date": "2026-12-01",
        "currency": "HUF",
        "company_id": company_id,
        "lines": [{"description": "Tanácsadás", "quantity": "1", "unit_price": "10000"}],
    }


@pytest.mark.parametrize("crm_left_in_app_sync", [False, True], ids=["same-side", "flipped"])
def test_invoices_find_their_customer_through_the_other_syncs_links(
    tmp_path: Path, crm_left_in_app_sync: bool
) -> None:
    config = tmp_path / "syncbridge.toml"
    config.write_text(_config(tmp_path, crm_left_in_app_sync), encoding="utf-8")
    kovacs, szabo = _put(
        tmp_path, "app", "company", [{"name": "Kovács Kft."}, {"name": "Szabó Bt."}]
    )
    _put(tmp_path, "docs", "invoice", [_invoice(szabo, "E-1"), _invoice(kovacs, "E-2")])

    def run(sync: str) -> int:
        result = CliRunner().invoke(main, ["-c", str(config), "run", "--sync", sync, "-q"])
        return result.exit_code

    # the customers are not linked yet: the invoices wait, and are retried by the next run
    assert run("docs_crm") == 0
    assert _read(tmp_path, "crm", "invoice") == []
    assert run("app_crm") == 0
    assert run("docs_crm") == 0

    crm_companies = {c.id: c.name for c in _read(tmp_path, "crm", "company")}
    crm_invoices = _read(tmp_path, "crm", "invoice")
    assert all(isinstance(c, Company) for c in _read(tmp_path, "crm", "company"))
    assert all(isinstance(i, Invoice) for i in crm_invoices)
    assert sorted((i.number, crm_companies[i.company_id]) for i in crm_invoices) == [
        ("E-1", "Szabó Bt."),
        ("E-2", "Kovács Kft."),
    ]

    # a CRM customer's documents on both sides, paired (syncbridge documents)
    szabo_crm = next(cid for cid, name in crm_companies.items() if name == "Szabó Bt.")
    [crm_e1] = [i.id for i in crm_invoices if i.number == "E-1"]
    [docs_e1] = [i.id for i in _read(tmp_path, "docs", "invoice") if i.number == "E-1"]
    shown = CliRunner().invoke(
        main,
        ["-c", str(config), "documents", szabo_crm, "--side", "right", "--sync", "docs_crm",
         "--json"],
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == [
        {"entity": "invoice", "number": "E-1", "date": "2026-12-01", "total": "10000.00",
         "currency": "HUF", "left_id": docs_e1, "right_id": crm_e1, "where": "both"}
    ]


def test_links_from_must_name_a_sync_sharing_a_connection(tmp_path: Path) -> None:
    text = _config(tmp_path, False)
    with pytest.raises(ConfigError) as raised:
        parse(text.replace('links_from = { company = "app_crm" }',
                           'links_from = { company = "app_crms" }'))
    assert str(raised.value) == (
        "syncs.docs_crm.links_from.company: no other sync named 'app_crms' (syncs: app_crm)"
    )
    with pytest.raises(ConfigError) as raised:
        parse(text.replace('links_from = { company = "app_crm" }',
                           'links_from = { contact = "app_crm" }'))
    assert str(raised.value) == (
        "syncs.docs_crm.links_from.contact: sync app_crm does not sync contact"
    )
    assert parse(text).syncs["docs_crm"].borrowed == {"company": ("app_crm", False)}


def test_one_run_of_every_sync_runs_the_lender_first(tmp_path: Path) -> None:
    """By name, the invoice sync ("a_docs") would run before the customer sync ("b_app") and
    its invoices would wait a run; a sync taking another's links runs after it."""
    text = (
        _config(tmp_path, False)
        .replace("app_crm", "b_app")
        .replace("docs_crm", "a_docs")
    )
    config = tmp_path / "syncbridge.toml"
    config.write_text(text, encoding="utf-8")
    assert parse(text).sync_order() == ["b_app", "a_docs"]
    [kovacs] = _put(tmp_path, "app", "company", [{"name": "Kovács Kft."}])
    _put(tmp_path, "docs", "invoice", [_invoice(kovacs, "E-1")])

    result = CliRunner().invoke(main, ["-c", str(config), "run", "-q"])

    assert result.exit_code == 0, result.output
    assert [i.number for i in _read(tmp_path, "crm", "invoice")] == ["E-1"]
    cycle = text.replace(
        "[syncs.b_app.entities.company]", 'links_from = { contact = "a_docs" }\n'
        "[syncs.b_app.entities.company]"
    ) + "[syncs.a_docs.entities.contact]\n"
    with pytest.raises(ConfigError) as raised:
        parse(cycle)
    assert str(raised.value).splitlines() == [
        "syncs.b_app.links_from.contact: a_docs takes links from b_app in turn; one of the "
        "two must sync the entity itself",
        "syncs.a_docs.links_from.company: b_app takes links from a_docs in turn; one of the "
        "two must sync the entity itself",
    ]
