"""The connector under the engine: config-time refusal of units, a one-way import into SQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from syncbridge.connection import Connection
from syncbridge.emulator.config import connection_toml
from syncbridge.engine.runner import run_sync
from syncbridge.errors import ConfigError
from syncbridge.plugins import load_connector
from syncbridge.workspace import Workspace

if TYPE_CHECKING:
    from conftest import Served

ENTITIES = ("company", "contact", "product", "invoice")


def write_config(folder: Path, qbo: dict[str, Any], entities: dict[str, dict[str, Any]]) -> Path:
    parts = [
        f'[state]\nurl = "sqlite:///{folder / "state.db"}"\n',
        connection_toml("qbo", "quickbooks", qbo),
        connection_toml("erp", "sql", {"url": f"sqlite:///{folder / 'erp.db'}"}),
        '[syncs.import]\nleft = "qbo"\nright = "erp"\n',
    ]
    for entity, rule in entities.items():
        parts.append(f"[syncs.import.entities.{entity}]")
        parts += [f"{key} = {json.dumps(value)}" for key, value in rule.items()]
        parts.append("")
    path = folder / "syncbridge.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def test_a_sync_asking_quickbooks_for_units_fails_at_config_time(tmp_path: Path) -> None:
    settings = {"client_id": "AB123", "client_secret": "not-used-here"}
    config = write_config(tmp_path, settings, {"unit": {"direction": "left-to-right"}})
    with Workspace.load(config) as workspace, pytest.raises(ConfigError) as error:
        workspace.sync_connections("import")
    assert str(error.value) == (
        "syncs.import.entities.unit: quickbooks does not support 'unit': "
        "QuickBooks Online has no units of measure"
    )


def rows(conn: Connection, entity: str) -> list[dict[str, Any]]:
    return [record for page in conn.fetch(entity) for record in page.records]


def test_a_one_way_import_into_sql_lands_exact_records_and_then_writes_nothing(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    served = serve(records=8)
    books = served.emulator.books
    config = write_config(
        tmp_path, served.settings(), {e: {"direction": "left-to-right"} for e in ENTITIES}
    )
    with Workspace.load(config) as workspace:
        workspace.store.credentials("qbo").save(served.emulator.issue_tokens())
        sync = workspace.config.syncs["import"]
        first = run_sync("import", sync, workspace.sync_connections("import"), workspace.store)
        assert not first.failed, [(e.entity, e.message, dict(e.counts)) for e in first.entities]
        second = run_sync("import", sync, workspace.sync_connections("import"), workspace.store)

    assert second.writes == 0
    assert served.count("GET", "/cdc") == 4  # the second run read changes only

    customers = {c["Id"]: c for c in books.rendered("Customer")}
    with Connection(
        "erp", load_connector("sql"), {"url": f"sqlite:///{tmp_path / 'erp.db'}"}
    ) as erp:
        companies = {row["name"]: row for row in rows(erp, "company")}
        contacts = {(row["first_name"], row["last_name"]): row for row in rows(erp, "contact")}
        products = {row["code"]: row for row in rows(erp, "product")}
        invoices = {row["number"]: row for row in rows(erp, "invoice")}

    expected_companies = {
        c.get("CompanyName") or c["FullyQualifiedName"]
        for c in customers.values()
        if not c.get("GivenName")
    }
    assert set(companies) == expected_companies and len(companies) == 8 + 2
    people = [c for c in customers.values() if c.get("GivenName")]
    assert set(contacts) == {(p["GivenName"], p["FamilyName"]) for p in people}
    for person in people:
        contact = contacts[(person["GivenName"], person["FamilyName"])]
        assert contact["email"] == person["PrimaryEmailAddr"]["Address"]
        parent = customers.get((person.get("ParentRef") or {}).get("value", ""))
        expected = companies[parent["CompanyName"]]["id"] if parent else None
        assert contact["company_id"] == expected
    items = books.rendered("Item")
    assert set(products) == {i["Sku"] for i in items}
    for item in items:
        assert products[item["Sku"]]["name"] == item["Name"]
        assert products[item["Sku"]]["price"] == item["UnitPrice"]

    product_codes = {i["Id"]: i["Sku"] for i in items}
    assert set(invoices) == {i["DocNumber"] for i in books.rendered("Invoice")}
    for invoice in books.rendered("Invoice"):
        row = invoices[invoice["DocNumber"]]
        customer = customers[invoice["CustomerRef"]["value"]]
        if customer.get("GivenName"):  # a person: the invoice goes to the contact
            contact = contacts[(customer["GivenName"], customer["FamilyName"])]
            assert (row["contact_id"], row["company_id"]) == (contact["id"], None)
        else:  # the right company, jobs included
            name = customer.get("CompanyName") or customer["FullyQualifiedName"]
            assert (row["company_id"], row["contact_id"]) == (companies[name]["id"], None)
        assert row["total"] == invoice["TotalAmt"] and row["balance"] == invoice["Balance"]
        assert row["currency"] == invoice["CurrencyRef"]["value"]
        sold = [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]
        assert [(line["product_id"], Decimal(line["quantity"])) for line in row["lines"]] == [
            (
                products[product_codes[line["SalesItemLineDetail"]["ItemRef"]["value"]]]["id"],
                line["SalesItemLineDetail"]["Qty"],
            )
            for line in sold
        ]


def test_an_idle_run_asks_change_data_capture_once_per_entity(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    """A run with nothing changed in QuickBooks sends one CDC request per entity (company and
    contact both ask for Customer) and nothing else: no query, no token refresh, no tax codes."""
    served = serve(records=30)
    config = write_config(
        tmp_path, served.settings(), {e: {"direction": "left-to-right"} for e in ENTITIES}
    )
    with Workspace.load(config) as workspace:
        workspace.store.credentials("qbo").save(served.emulator.issue_tokens())
        sync = workspace.config.syncs["import"]

        def run() -> Any:
            summary = run_sync("import", sync, workspace.sync_connections("import"),
                               workspace.store)
            assert not summary.failed
            return summary

        run()  # the first import
        run()  # reads back what it wrote to the management database
        served.emulator.requests.reset()
        idle = run()

    assert idle.writes == 0
    assert {(hit.method, hit.path, hit.status): n
            for hit, n in served.emulator.requests.hits.items()} == {
        ("GET", served.api + "/cdc", 200): 4
    }
    assert {result.entity: dict(result.counts) for result in idle.entities} == {
        entity: {} for entity in ENTITIES
    }
