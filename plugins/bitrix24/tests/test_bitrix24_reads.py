"""Reading: every entity across several pages, incremental reads, reads by id, lookups."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pycountry
import pytest

from syncbridge.records import UpsertItem
from syncbridge.rest import Cursor, parse_instant
from syncbridge_bitrix24.emulator.calls import MethodError, Reply
from syncbridge_bitrix24.emulator.oldstyle import MEASURE
from syncbridge_bitrix24.reads import CHANGES, cursor_after

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


def test_an_incremental_read_after_nothing_changed_reads_nothing(
    portal: Callable[..., Portal],
) -> None:
    handle = portal(records=30)
    connection = handle.connect()
    pages = list(connection.fetch("contact"))
    newest = max(r["DATE_MODIFY"] for page in pages for r in page.records)
    cursor = pages[-1].cursor
    # the second after the newest change, without an id: all of its second was read, so
    # nothing of it comes back
    assert cursor is not None
    assert Cursor.parse(cursor) == Cursor(parse_instant(newest) + timedelta(seconds=1))
    handle.log.clear()
    again = list(connection.fetch("contact", since=cursor))
    assert [r for page in again for r in page.records] == []
    assert len(handle.log) == 1 and "%3E%3DDATE_MODIFY" in handle.log[0].url  # ">=", encoded
    assert again[-1].cursor is not None and again[-1].cursor >= cursor

    # two writes in the same second: both are returned, and nothing else
    handle.call("crm.contact.update", id=3, fields={"POST": "CTO"})
    handle.call("crm.contact.update", id=7, fields={"POST": "CEO"})
    changed = list(connection.fetch("contact", since=cursor))
    assert sorted(r["ID"] for page in changed for r in page.records) == ["3", "7"]
    new_cursor = changed[-1].cursor
    assert new_cursor is not None and new_cursor > cursor
    latest = [r for page in connection.fetch("contact", since=new_cursor) for r in page.records]
    assert {r["ID"] for r in latest} <= {"3", "7"}


def _early_in_a_second() -> None:
    """Wait for the start of a wall-clock second, so the next steps can share it."""
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


def test_a_change_in_the_second_the_read_began_is_read_next_time(
    portal: Callable[..., Portal],
) -> None:
    """The cursor never passes the second the read began: a change made later in that same
    second (after the read, so unseen) is read by the next incremental read."""
    handle = portal(records=3)
    connection = handle.connect()
    for _attempt in range(5):  # a busy machine may spill the steps into the next second
        _early_in_a_second()
        handle.call("crm.contact.update", id=1, fields={"POST": "before the read"})
        pages = list(connection.fetch("contact"))
        handle.call("crm.contact.update", id=2, fields={"POST": "after the read"})
        stamps = {r["ID"]: r["DATE_MODIFY"] for r in handle.call("crm.contact.list")}
        if stamps["1"] == stamps["2"]:
            break
    else:
        pytest.fail("could not make a read and two changes share one second")
    cursor = pages[-1].cursor
    # the read's own second, not the one after its newest change
    assert cursor is not None and Cursor.parse(cursor) == Cursor(parse_instant(stamps["2"]))
    after = {r["ID"] for page in connection.fetch("contact", since=cursor) for r in page.records}
    assert "2" in after


def test_the_cursor_is_the_second_after_the_newest_change_capped_at_the_reads_start() -> None:
    """The toolkit's cursor, past the newest second read, never past the portal's own clock
    when the read began (``time.date_start``), whatever this machine's clock says."""

    def cursor(newest: str | None, began: str | None) -> str:
        spec = replace(CHANGES["contact"], clock=lambda: datetime(2030, 1, 1, tzinfo=UTC))
        read = spec.begin(None)
        if began is not None:
            read.server_time(parse_instant(began))
        if newest is not None:
            assert read.take({"ID": "1", "DATE_MODIFY": newest})
        return cursor_after(read)

    newest, began = "2024-01-02T10:01:21+01:00", "2024-01-02T10:05:00+01:00"
    assert cursor(newest, began) == "2024-01-02T09:01:22.000000+00:00"
    assert cursor("2024-01-02T10:05:00+01:00", began) == "2024-01-02T09:05:00.000000+00:00"
    assert cursor("2024-01-02T10:04:59+01:00", began) == "2024-01-02T09:05:00.000000+00:00"
    assert cursor(None, began) == "2024-01-02T09:05:00.000000+00:00"  # an empty read
    assert cursor(newest, None) == "2024-01-02T09:01:22.000000+00:00"
    # another offset: compared as instants
    assert cursor("2024-01-02T09:01:30+00:00", began) == "2024-01-02T09:01:31.000000+00:00"


def test_a_cursor_stored_before_the_toolkit_is_read_as_its_instant(
    portal: Callable[..., Portal],
) -> None:
    """The portal's own spelling (``2024-01-02T10:01:22+01:00``), what the connector saved
    before: the read starts at that instant and saves a toolkit cursor."""
    handle = portal(records=5)
    connection = handle.connect()
    handle.call("crm.contact.update", id=2, fields={"POST": "CTO"})
    stamps = {r["ID"]: r["DATE_MODIFY"] for r in handle.call("crm.contact.list")}
    old = stamps["2"]  # a stamp as the portal spells it: the old cursor format
    assert "#" not in old and not old.endswith("+00:00")
    since = parse_instant(old)
    expected = {rid for rid, stamp in stamps.items() if parse_instant(stamp) >= since}

    pages = list(connection.fetch("contact", since=old))

    assert {r["ID"] for page in pages for r in page.records} == expected
    saved = pages[-1].cursor
    assert saved is not None and saved.endswith("+00:00") and saved != old
    assert Cursor.parse(saved).at >= parse_instant(old)  # the read's second at the latest


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


def test_a_batch_of_row_reads_is_retried_like_a_page(portal: Callable[..., Portal]) -> None:
    """The invoice rows come by a ``batch`` POST that only reads: a 500 on it is sent again
    like a list page, instead of failing the invoice read at once."""
    handle = portal(records=3)
    connection = handle.connect()
    original = handle.emulator._batch
    failures = iter([True])

    def flaky(credential: str, params: Mapping[str, Any]) -> Reply:
        if next(failures, False):
            raise MethodError("INTERNAL_SERVER_ERROR", "Internal error", 500)
        return original(credential, params)

    handle.emulator._batch = flaky  # type: ignore[method-assign]
    invoices = [r for page in connection.fetch("invoice") for r in page.records]
    assert len(invoices) == 3
    assert [e.status for e in handle.log if e.method == "POST"] == [500, 200]
