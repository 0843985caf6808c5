"""A two-way engine sync of companies between the CRM emulator and a SQLite management app."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import syncbridge_sql.connector

from syncbridge.config import Side, SyncConfig
from syncbridge.connection import Connection
from syncbridge.engine.runner import run_sync
from syncbridge.models import Company
from syncbridge.records import UpsertItem
from syncbridge.state import StateStore
from syncbridge_crmincloud import mapping

from .conftest import Crm, typed

SYNC = SyncConfig.model_validate(
    {"left": "crm", "right": "erp", "entities": {"company": {"direction": "both"}}}
)
ERP_COMPANIES: list[dict[str, Any]] = [
    {
        "name": "Ferri Arredamenti S.r.l.",
        "address": "Viale Europa 41",
        "postal_code": "37121",
        "city": "Verona",
        "province": "VR",
        "country": "IT",
        "email": "amministrazione@ferriarredamenti.it",
        "phone": "+39 045 800 1234",
        "vat_number": "IT00743110157",
        "tax_code": "00743110157",
        "website": "https://www.ferriarredamenti.it",
        "notes": "Fatturazione elettronica SDI: M5UXCR1",
    },
    {"name": "Studio Greco", "city": "Bari", "country": "IT"},
]


@pytest.fixture
def erp(tmp_path: Path) -> Iterator[Connection]:
    connection = Connection(
        "erp", syncbridge_sql.connector, {"url": f"sqlite:///{tmp_path}/erp.db"}
    )
    yield connection
    connection.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    state = StateStore(f"sqlite:///{tmp_path}/state.db")
    yield state
    state.close()


def _contents(connection: Connection) -> list[dict[str, Any]]:
    """Every company of a side as the fields both sides map, in a stable order."""
    found = []
    for page in connection.fetch("company"):
        for native in page.records:
            content = connection.map_in("company", native).content()
            found.append({key: content[key] for key in sorted(mapping.FIELDS["company"])})
    return sorted(found, key=lambda content: json.dumps(content, sort_keys=True))


def _named(contents: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [found] = [content for content in contents if content["name"] == name]
    return found


def test_two_way_company_sync_then_nothing_to_do(
    make_crm: Callable[..., Crm], erp: Connection, store: StateStore
) -> None:
    crm = make_crm(records=12)
    left = crm.connect(page_size=10)
    first = typed(
        Company, left.map_in("company", dict(crm.emulator.store.table("company").get(1) or {}))
    )
    # the CRM's company 1 under the same partita IVA, with a phone number of its own
    twin = {**first.model_dump(exclude={"id", "updated_at"}), "phone": "+39 02 8800 1100"}
    erp.upsert(
        "company",
        [
            UpsertItem(key=f"seed-{n}", record=erp.map_out("company", Company(**fields)))
            for n, fields in enumerate([twin, *ERP_COMPANIES])
        ],
    )
    connections: dict[Side, Connection] = {"left": left, "right": erp}

    summary = run_sync("main", SYNC, connections, store)

    [result] = summary.entities
    assert result.result == "ok", result.message
    assert result.counts["created"] == 11 + len(ERP_COMPANIES)
    assert not summary.failed
    crm_side, erp_side = _contents(left), _contents(erp)
    assert crm_side == erp_side
    assert len(crm_side) == 14
    # the linked pair: the CRM (priority side, both unchanged since never synced) wins
    assert _named(crm_side, first.name)["phone"] == first.phone
    # a management-app company as the CRM now stores it, field by field
    [ferri] = crm.emulator.store.table("company").list(
        lambda row: row["companyName"] == "Ferri Arredamenti S.r.l."
    )
    assert {key: ferri[key] for key in mapping.map_out("company", Company(name="x"), {})} == {
        "companyName": "Ferri Arredamenti S.r.l.",
        "address": "Viale Europa 41",
        "zipCode": "37121",
        "city": "Verona",
        "province": "VR",
        "state": "IT",
        "emails": [{"value": "amministrazione@ferriarredamenti.it"}],
        "phones": [{"value": "+39 045 800 1234"}],
        "vatId": "00743110157",
        "taxIdentificationNumber": "00743110157",
        "webSite": "https://www.ferriarredamenti.it",
        "description": "Fatturazione elettronica SDI: M5UXCR1",
    }
    assert str(ferri["FF_SYNCBRIDGE_KEY"]).startswith("sb-")

    posts = crm.emulator.requests.count("POST")
    again = run_sync("main", SYNC, connections, store)

    assert again.writes == 0 and not again.failed
    assert crm.emulator.requests.count("POST") == posts
    assert _contents(left) == crm_side and _contents(erp) == erp_side


def test_changes_flow_both_ways_on_the_next_run(
    make_crm: Callable[..., Crm], erp: Connection, store: StateStore
) -> None:
    crm = make_crm(records=12)
    left = crm.connect(page_size=10)
    connections: dict[Side, Connection] = {"left": left, "right": erp}
    run_sync("main", SYNC, connections, store)
    erp_ids = {
        typed(Company, erp.map_in("company", r)).name: r["id"]
        for p in erp.fetch("company")
        for r in p.records
    }
    table = crm.emulator.store.table("company")
    edited_in_crm = table.get(2) or {}
    table.update(2, {"city": "Pavia", "zipCode": "27100", "province": "PV"})
    erp_company = erp_ids[str(table.get(5)["companyName"])]  # type: ignore[index]
    erp.upsert(
        "company",
        [
            UpsertItem(
                key="edit",
                id=str(erp_company),
                record={"notes": "Nuovo referente: ufficio acquisti"},
                changed=frozenset({"notes"}),
            )
        ],
    )

    summary = run_sync("main", SYNC, connections, store)

    assert summary.entities[0].counts["updated"] == 2, summary.entities[0].counts
    assert _contents(left) == _contents(erp)
    assert _named(_contents(erp), edited_in_crm["companyName"])["city"] == "Pavia"
    assert table.get(5)["description"] == "Nuovo referente: ufficio acquisti"  # type: ignore[index]
    assert run_sync("main", SYNC, connections, store).writes == 0


def test_an_idle_run_sends_a_login_and_one_search_per_entity(
    make_crm: Callable[..., Crm], erp: Connection, store: StateStore
) -> None:
    """Each run opens its connection (as ``syncbridge run`` does): a run with nothing changed
    since the last one logs in and asks each search once. No ``Get`` per record, no catalog
    categories: nothing was read that names one."""
    crm = make_crm(records=30)
    erp.upsert("company", [
        UpsertItem(key=f"seed-{n}", record=erp.map_out("company", Company(**fields)))
        for n, fields in enumerate(ERP_COMPANIES)
    ])
    sync = SyncConfig.model_validate({"left": "crm", "right": "erp", "entities": {
        "company": {"direction": "both"}, "product": {"direction": "both"}}})

    def run() -> Any:
        left = crm.connect()
        summary = run_sync("main", sync, {"left": left, "right": erp}, store)
        left.close()
        assert not summary.failed
        return summary

    run()  # the first sync: 30 companies and 30 products to the management app, 2 back
    run()  # reads back what the first wrote
    crm.log.clear()
    idle = run()

    assert idle.writes == 0
    assert [(entry.method, entry.url.split("?")[0].removeprefix(crm.url)) for entry in crm.log] == [
        ("POST", "/api/v1/Auth/Login"),
        ("GET", "/api/v1/Company/SearchByODataCriteria"),
        ("GET", "/api/v1/Catalog/SearchByODataCriteria"),
    ]
    assert {result.entity: dict(result.counts) for result in idle.entities} == {
        "company": {}, "product": {}}
