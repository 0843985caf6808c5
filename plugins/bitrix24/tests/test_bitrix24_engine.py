"""A one-way engine sync from a management database (sql, SQLite) into Bitrix24."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import syncbridge_sql.connector
from syncbridge.config import EntityRule, SyncConfig
from syncbridge.connection import Connection
from syncbridge.engine.runner import run_sync
from syncbridge.models import Company, Contact
from syncbridge.records import UpsertItem
from syncbridge.state import StateStore

if TYPE_CHECKING:
    from conftest import Portal

COMPANIES = [
    Company(name="Müller Bau GmbH", city="München", country="DE", email="info@mueller-bau.de"),
    Company(name="Smith Logistics LLC", city="Austin", country="US", phone="+1 512 555 0100"),
    Company(name="Weber Beratung KG", city="Köln", country="DE", website="https://weber.de"),
]


def _contacts(company_ids: list[str]) -> list[Contact]:
    return [
        Contact(
            first_name="Anna",
            last_name="Müller",
            email="anna@mueller-bau.de",
            company_id=company_ids[0],
            job_title="Geschäftsführerin",
        ),
        Contact(
            first_name="James",
            last_name="Smith",
            mobile="+1 512 555 0199",
            company_id=company_ids[1],
        ),
        Contact(last_name="Becker", city="Hamburg", country="DE"),
    ]


def _put(connection: Connection, entity: str, records: list[Any]) -> list[str]:
    items = [
        UpsertItem(key=f"seed-{entity}-{i}", record=connection.map_out(entity, record))
        for i, record in enumerate(records)
    ]
    results = connection.upsert(entity, items)
    assert all(result.ok for result in results)
    return [str(result.id) for result in results]


def test_sql_to_bitrix24_companies_and_contacts(
    portal: Callable[..., Portal], tmp_path: Path
) -> None:
    handle = portal()
    erp = Connection("erp", syncbridge_sql.connector, {"url": f"sqlite:///{tmp_path}/erp.db"})
    company_ids = _put(erp, "company", COMPANIES)
    _put(erp, "contact", _contacts(company_ids))
    bitrix = handle.connect()
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    sync = SyncConfig(
        left="erp",
        right="b24",
        entities={"company": EntityRule(), "contact": EntityRule()},
    )
    connections = {"left": erp, "right": bitrix}

    first = run_sync("erp-to-b24", sync, connections, store)  # type: ignore[arg-type]

    assert not first.failed
    assert {r.entity: dict(r.counts)["created"] for r in first.entities} == {
        "company": 3,
        "contact": 3,
    }
    companies = {
        c["TITLE"]: c
        for c in handle.call("crm.company.list", select=["*", "EMAIL", "PHONE", "WEB"])
    }
    assert set(companies) == {company.name for company in COMPANIES}
    mueller = companies["Müller Bau GmbH"]
    assert (mueller["ADDRESS_CITY"], mueller["ADDRESS_COUNTRY_CODE"]) == ("München", "DE")
    assert [e["VALUE"] for e in mueller["EMAIL"]] == ["info@mueller-bau.de"]
    assert [e["VALUE"] for e in companies["Smith Logistics LLC"]["PHONE"]] == ["+1 512 555 0100"]
    assert [e["VALUE"] for e in companies["Weber Beratung KG"]["WEB"]] == ["https://weber.de"]
    assert mueller["ORIGINATOR_ID"] == "syncbridge" and mueller["ORIGIN_ID"].startswith("sb-")

    contacts = {
        c["LAST_NAME"]: c for c in handle.call("crm.contact.list", select=["*", "EMAIL", "PHONE"])
    }
    assert set(contacts) == {"Müller", "Smith", "Becker"}
    assert contacts["Müller"]["COMPANY_ID"] == mueller["ID"]  # the link, in Bitrix24's ids
    assert contacts["Müller"]["POST"] == "Geschäftsführerin"
    assert contacts["Smith"]["COMPANY_ID"] == companies["Smith Logistics LLC"]["ID"]
    assert contacts["Smith"]["PHONE"][0]["VALUE_TYPE"] == "MOBILE"
    assert (contacts["Becker"]["NAME"], contacts["Becker"]["COMPANY_ID"]) == (None, None)
    assert contacts["Becker"]["ADDRESS_CITY"] == "Hamburg"

    posts = handle.emulator.requests.count("POST")
    second = run_sync("erp-to-b24", sync, connections, store)  # type: ignore[arg-type]

    assert not second.failed and second.writes == 0
    assert handle.emulator.requests.count("POST") == posts  # not one batch sent
    assert len(handle.call("crm.company.list")) == 3 and len(handle.call("crm.contact.list")) == 3
    erp.close()


def test_an_idle_run_sends_one_list_request_per_entity(
    portal: Callable[..., Portal], tmp_path: Path
) -> None:
    """After the first run and the one that reads its writes back, a run with nothing changed
    asks each list once and gets nothing: not the records that share the newest second (a
    batch of 50 creates shares one), which the cursor used to send back on every run."""
    handle = portal()
    erp = Connection("erp", syncbridge_sql.connector, {"url": f"sqlite:///{tmp_path}/erp.db"})
    company_ids = _put(erp, "company", [
        Company(name=f"Firma {i:03d} GmbH", city="Berlin", country="DE") for i in range(100)
    ])
    _put(erp, "contact", _contacts(company_ids))
    bitrix = handle.connect()
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    sync = SyncConfig(left="erp", right="b24", entities={
        "company": EntityRule(direction="left-to-right"),
        "contact": EntityRule(direction="left-to-right"),
    })
    connections = {"left": erp, "right": bitrix}
    assert not run_sync("erp-to-b24", sync, connections, store).failed  # type: ignore[arg-type]
    # the portal stamps whole seconds: a read that begins in the second of the last writes
    # cannot tell them from a change made after it began, and reads that second once more
    # (as it must). Runs minutes apart never meet that; this one waits for the next second.
    time.sleep(1.01 - time.time() % 1.0)
    assert not run_sync("erp-to-b24", sync, connections, store).failed  # type: ignore[arg-type]
    handle.log.clear()

    idle = run_sync("erp-to-b24", sync, connections, store)  # type: ignore[arg-type]

    assert not idle.failed and idle.writes == 0
    assert [entry.url.split("?")[0] for entry in handle.log] == [
        "***crm.company.list",
        "***crm.contact.list",
    ]
    assert {result.entity: dict(result.counts) for result in idle.entities} == {
        "company": {},
        "contact": {},
    }  # nothing read: not even "unchanged"
    store.close()
    erp.close()
