"""Reading: full and incremental paging, VAT rates, reads by id."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from syncbridge import ConnectorError, parse_instant
from syncbridge.connection import Connection
from syncbridge.models import Product, VatRate
from syncbridge.records import NativeRecord, Page
from syncbridge.rest import Cursor
from syncbridge_crmincloud import mapping

from .conftest import Crm, typed

PAGED = ["company", "contact", "product", "quote"]
TABLES = {"company": "company", "contact": "contact", "product": "catalog", "quote": "quote"}


def records(pages: list[Page]) -> list[NativeRecord]:
    return [record for page in pages for record in page.records]


def _all(conn: Connection, entity: str, since: str | None = None) -> list[NativeRecord]:
    return [record for page in conn.fetch(entity, since) for record in page.records]


def cursor_of(record: NativeRecord) -> str:
    """The toolkit's cursor after ``record``: its instant and id."""
    return str(Cursor(parse_instant(record["lastModifiedDate"]), str(record["id"])))


def settle() -> None:
    """Let the clock pass the writes just made. A cursor never names an instant after its
    read began (the signpost), and the emulator's clock, one millisecond per write, runs a
    few milliseconds ahead under a burst: a read started within them reads them again."""
    time.sleep(0.02)


@pytest.mark.parametrize("entity", PAGED)
def test_full_read_pages_through_everything_once(crm: Crm, conn: Connection, entity: str) -> None:
    pages = list(conn.fetch(entity))

    ids = [record["id"] for record in records(pages)]
    assert len(pages) >= 3
    assert len(ids) == len(set(ids)) == 25
    assert set(ids) == {row["id"] for row in crm.table(TABLES[entity])}
    newest = max(records(pages), key=lambda r: (r["lastModifiedDate"], r["id"]))
    assert pages[-1].cursor == cursor_of(newest)
    for page in pages:  # every record maps, so the engine would take them all
        for record in page.records:
            assert conn.map_in(entity, record).id == str(record["id"])


@pytest.mark.parametrize("entity", PAGED)
def test_incremental_read_returns_exactly_the_changed_records(
    crm: Crm, conn: Connection, entity: str
) -> None:
    cursor = list(conn.fetch(entity))[-1].cursor
    table = crm.table(TABLES[entity])
    changed = [3, 17, 24]
    for record_id in changed:
        table.update(record_id, {"description": f"changed {record_id}"})
    settle()

    pages = list(conn.fetch(entity, since=cursor))

    assert [record["id"] for page in pages for record in page.records] == changed
    assert _all(conn, entity, since=pages[-1].cursor) == []


def test_the_cursor_is_the_newest_instant_and_the_id_read_at_it(conn: Connection) -> None:
    pages = list(conn.fetch("company"))

    newest = max(r["lastModifiedDate"] for p in pages for r in p.records)
    assert pages[-1].cursor == f"{parse_instant(newest).isoformat(timespec='microseconds')}#25"
    # a bare timestamp (the API's notation) is a valid cursor too: at or after that instant
    assert [r["id"] for r in _all(conn, "company", since=newest)] == [25]


def test_a_cursor_of_the_old_form_reads_exactly_what_it_did(
    crm: Crm, conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``<lastModifiedDate>|<ids read at it>``, stored by 0.1: the records of that instant it
    names are not read again, the others of that instant are, and so is every later change;
    the pages carry cursors of the new form. Nothing is skipped, nothing read twice."""
    table = crm.table("company")
    instant = datetime(2024, 6, 3, 8, 30, tzinfo=UTC)  # a bulk import: five records alike
    monkeypatch.setattr(crm.emulator.store.clock, "now", lambda: instant)
    for record_id in (21, 22, 23, 24, 25):
        table.update(record_id, {"city": "Monza"})
    monkeypatch.undo()
    table.update(4, {"city": "Lodi"})  # changed since
    settle()
    old = "2024-06-03T08:30:00.000Z|21,22,24"  # a run read 21, 22 and 24 at that instant

    pages = list(conn.fetch("company", since=old))

    read = [record for page in pages for record in page.records]
    assert [record["id"] for record in read] == [23, 25, 4]
    assert pages[-1].cursor == cursor_of(read[-1])  # the new form, stored in its place
    assert _all(conn, "company", since=pages[-1].cursor) == []
    # without ids, the old form meant the whole instant, and so it reads it
    everything = [21, 22, 23, 24, 25, 4]
    assert [r["id"] for r in _all(conn, "company", since="2024-06-03T08:30:00.000Z|")] == everything


def test_a_cursor_of_the_old_form_that_is_no_cursor_says_so(conn: Connection) -> None:
    with pytest.raises(ConnectorError, match=r"cannot read changes since 'yesterday\|3'"):
        _all(conn, "company", since="yesterday|3")


def test_a_page_of_records_sharing_one_instant_is_stepped_over(
    crm: Crm, conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk import may stamp many records alike: more of them than a page must still pass."""
    table = crm.table("company")
    instant = datetime(2024, 6, 3, 8, 30, tzinfo=UTC)
    monkeypatch.setattr(crm.emulator.store.clock, "now", lambda: instant)
    for record_id in range(5, 20):
        table.update(record_id, {"city": "Monza"})
    monkeypatch.undo()

    pages = list(conn.fetch("company"))

    ids = [record["id"] for record in records(pages)]
    assert sorted(ids) == list(range(1, 26)) and len(ids) == 25
    assert any("%24skip=10" in entry.url for entry in crm.log)  # stepped over the tie


def test_records_modified_during_a_read_are_neither_lost_nor_stop_it(
    crm: Crm, conn: Connection
) -> None:
    """A record changed between two pages moves to the end; no other record may slide past."""
    seen: list[int] = []
    for number, page in enumerate(conn.fetch("company")):
        seen.extend(record["id"] for record in page.records)
        if number == 0:
            crm.table("company").update(page.records[0]["id"], {"city": "Pavia"})
            crm.table("company").update(page.records[1]["id"], {"city": "Lodi"})

    assert set(seen) == set(range(1, 26))
    assert seen[-2:] == seen[:2]  # read again with their new values


def test_product_records_carry_their_category_description(conn: Connection) -> None:
    pages = list(conn.fetch("product"))

    categories = {
        typed(Product, product).category
        for page in pages
        for product in conn.map_page("product", page)
    }
    assert categories <= {"Servizi", "Hardware", "Software", "Materiali di consumo", "Formazione"}
    assert len(categories) > 1


def test_categories_are_read_one_by_one_only_as_records_name_them(
    crm: Crm, conn: Connection
) -> None:
    """The API has no list of categories, only their ids and a GET each (A11): a read asks
    for the categories its records name, once a connection, and never lists them all."""
    catalog = crm.table("catalog")
    named = {row["category"] for row in catalog.list()}
    assert len(named) > 1
    cursor = list(crm.connect().fetch("product"))[-1].cursor  # another connection's read
    first = catalog.list()[0]
    catalog.update(first["id"], {"productName": "Cavo HDMI 2 m"})  # the one change
    crm.log.clear()

    changed = _all(conn, "product", since=cursor)
    gets = [e.url for e in crm.log if "/CatalogCategories" in e.url]
    assert [r["id"] for r in changed] == [first["id"]]
    assert gets == [f"{crm.url}/api/v1/CatalogCategories/{first['category']}"]

    crm.log.clear()
    everything = list(conn.fetch("product"))  # the rest read once; the first is known by now
    gets = sorted(e.url.rsplit("/", 1)[-1] for e in crm.log if "/CatalogCategories" in e.url)
    assert gets == sorted(str(c) for c in named - {first["category"]})
    assert {
        page.context_of(r["id"])[mapping.CATEGORY] for page in everything for r in page.records
    } == {crm.table("catalogcategories").get(c)["description"] for c in named}


def test_vat_rates_are_read_in_full_by_code(conn: Connection) -> None:
    mapped = [typed(VatRate, conn.map_in("vat_rate", record)) for record in _all(conn, "vat_rate")]
    rates = {rate.id: rate for rate in mapped}

    assert set(rates) == {"22", "10", "5", "4", "N4"}
    assert str(rates["22"].rate) == "22" and rates["22"].name == "Iva 22%"
    assert str(rates["N4"].rate) == "0"


def test_fetch_by_ids_reads_only_those(conn: Connection) -> None:
    pages: list[Any] = list(conn.fetch("product", query={"ids": ["2", "7", "999"]}))

    assert [record["id"] for record in pages[0].records] == [2, 7]
    assert all(pages[0].context_of(r["id"]).get(mapping.CATEGORY) for r in pages[0].records)
    assert [
        r["taxCode"] for r in next(iter(conn.fetch("vat_rate", query={"ids": ["22"]}))).records
    ] == ["22"]


def test_an_empty_tenant_reads_nothing(make_crm: Callable[..., Crm]) -> None:
    conn = make_crm(records=0).connect()

    assert _all(conn, "company") == []
    assert _all(conn, "company", since="2024-01-01T00:00:00.000Z") == []
