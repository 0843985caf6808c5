"""Reading: every entity across several pages, incremental reads, reads by id, lookups."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pycountry

from syncbridge.records import UpsertItem
from syncbridge_bitrix24.emulator.oldstyle import MEASURE

if TYPE_CHECKING:
    from conftest import Portal

PAGED = {  # entity -> native id field
    "contact": "ID",
    "company": "ID",
    "product": "ID",
    "invoice": "id",
    "vat_rate": "ID",
    "currency": "CURRENCY",
    "unit": "ID",
}


def _add_reference_data(handle: Portal) -> None:
    """Enough VAT rates, currencies and units for three pages of each (the seed has a few)."""
    seeded = {"EUR", "USD", "GBP", "CHF"}
    codes = sorted(c.alpha_3 for c in pycountry.currencies if c.alpha_3 not in seeded)
    for index, code in enumerate(codes[:110]):
        handle.call("crm.vat.add", fields={"NAME": f"Satz {index}", "RATE": str(index % 30)})
        handle.call("crm.currency.add", fields={"CURRENCY": code, "AMOUNT_CNT": 1, "AMOUNT": 2})
        handle.emulator.portal.old.seed(
            MEASURE, {"CODE": str(900 + index), "MEASURE_TITLE": f"Unit {index}"}
        )


def test_every_entity_reads_across_pages_without_duplicates(
    portal: Callable[..., Portal],
) -> None:
    handle = portal(records=120)
    _add_reference_data(handle)
    connection = handle.connect()
    for entity, id_field in PAGED.items():
        pages = list(connection.fetch(entity))
        ids = [record[id_field] for page in pages for record in page.records]
        assert len([page for page in pages if page.records]) >= 3, entity
        assert len(ids) == len(set(ids)), f"{entity}: duplicates"
        expected = {"vat_rate": 113, "currency": 114, "unit": 120}.get(entity, 120)
        assert len(ids) == expected, entity
        for record in (record for page in pages for record in page.records):
            connection.map_in(entity, record)  # every seeded record maps
    # big lists page by id (start=-1), reference lists by start/next
    urls = [entry.url for entry in handle.log]
    assert any("crm.contact.list" in url and "start=-1" in url and "%3EID" in url for url in urls)
    assert any("crm.vat.list" in url and "start=100" in url for url in urls)


def test_invoices_come_with_rows_and_status(portal: Callable[..., Portal]) -> None:
    handle = portal(records=60)
    connection = handle.connect()
    invoices = [record for page in connection.fetch("invoice") for record in page.records]
    assert len(invoices) == 60
    for native in invoices:
        rows = handle.call(
            "crm.item.productrow.list", filter={"=ownerType": "SI", "=ownerId": native["id"]}
        )["productRows"]
        invoice = connection.map_in("invoice", native)
        assert len(invoice.lines) == len(rows) > 0
        assert invoice.status.value in {"draft", "sent", "paid"}
        assert (invoice.company_id is None) != (invoice.contact_id is None)


def test_incremental_reads_use_ge_and_return_same_second_changes(
    portal: Callable[..., Portal],
) -> None:
    handle = portal(records=30)
    connection = handle.connect()
    pages = list(connection.fetch("contact"))
    cursor = pages[-1].cursor
    assert cursor is not None and cursor.endswith("+01:00")  # the portal's own spelling
    # nothing changed: only the record(s) of the cursor's own second come back
    again = [r for page in connection.fetch("contact", since=cursor) for r in page.records]
    assert [r["DATE_MODIFY"] for r in again] == [cursor]
    assert any("%3E%3DDATE_MODIFY" in entry.url for entry in handle.log)  # ">=", encoded

    # two writes in the same second: both are returned, and so is everything after the cursor
    handle.call("crm.contact.update", id=3, fields={"POST": "CTO"})
    handle.call("crm.contact.update", id=7, fields={"POST": "CEO"})
    changed = list(connection.fetch("contact", since=cursor))
    ids = {r["ID"] for page in changed for r in page.records}
    assert {"3", "7"} <= ids and len(ids) <= 3
    new_cursor = changed[-1].cursor
    assert new_cursor is not None and new_cursor > cursor
    latest = [r for page in connection.fetch("contact", since=new_cursor) for r in page.records]
    assert {r["ID"] for r in latest} <= {"3", "7"}


def test_fetch_by_ids(portal: Callable[..., Portal]) -> None:
    handle = portal(records=70)
    connection = handle.connect()
    pages = list(connection.fetch("company", query={"ids": ["2", "55", "999"]}))
    assert sorted(r["ID"] for page in pages for r in page.records) == ["2", "55"]
    assert all(page.cursor is None for page in pages)


def test_lookup_finds_creates_by_their_key(portal: Callable[..., Portal]) -> None:
    handle = portal(records=3)
    connection = handle.connect()
    items = [
        UpsertItem(key=f"sb-key-{index}", record={"NAME": f"Person {index}"}) for index in range(60)
    ]
    results = connection.upsert("contact", items)
    created = {result.key: result.id for result in results}
    wanted = [f"sb-key-{index}" for index in (0, 17, 59)] + ["sb-never-written"]
    assert connection.lookup("contact", wanted) == {key: created[key] for key in wanted[:3]}
    # someone else's record with the same ORIGIN_ID is not ours
    handle.call("crm.contact.add", fields={"NAME": "X", "ORIGINATOR_ID": "other", "ORIGIN_ID": "k"})
    assert connection.lookup("contact", ["k"]) == {}
