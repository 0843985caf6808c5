"""Reading: every entity across pages without duplicates, incremental reads by keyset, the
cursors of older versions, and the paging that survives records changing during a read."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import orjson
import pytest

from syncbridge import Client
from syncbridge.models import Company, Invoice, Product, Quote, VatRate
from syncbridge.rest import Cursor, parse_instant
from syncbridge_fattureincloud import api
from syncbridge_fattureincloud.emulator.query import listing, select, sort_records
from syncbridge_fattureincloud.mapping import ROME
from syncbridge_fattureincloud.settings import FicSettings

PAGED = ("company", "product", "quote", "order", "invoice")


@pytest.mark.parametrize("entity", PAGED)
def test_every_record_comes_once_across_pages(serve: Any, entity: str) -> None:
    fic = serve(records=25)
    connection = fic.connect(page_size=5)
    pages = list(connection.fetch(entity))
    ids = [record["id"] for page in pages for record in page.records]
    expected = {
        "company": "clients",
        "product": "products",
    }.get(entity, "documents")
    stored = fic.emulator.table(fic.settings["company_id"], expected).list(
        None if expected != "documents" else lambda r: r["type"] == entity
    )
    assert len(ids) == len(set(ids)) == len(stored)
    assert sum(1 for page in pages if page.records) >= 3
    last = max((r["updated_at"], r["id"]) for page in pages for r in page.records)
    assert pages[-1].cursor == str(Cursor(parse_instant(last[0], ROME), str(last[1])))
    for page in pages:
        for record in page.records:
            connection.map_in(entity, record)  # every seeded record maps


def test_full_reads_ask_for_detailed_records_sorted_by_update(fic: Any) -> None:
    connection = fic.connect(page_size=10)
    list(connection.fetch("invoice"))
    first = fic.recorder.exchanges[0]
    query = parse_qs(first.query)
    assert first.path == "/c/1051/issued_documents"
    assert query["type"] == ["invoice"] and query["fieldset"] == ["detailed"]
    assert query["sort"] == ["updated_at,id"] and query["per_page"] == ["10"]
    assert "q" not in query  # a full read starts unfiltered


def test_incremental_read_returns_only_what_changed(fic: Any) -> None:
    connection = fic.connect(page_size=10)
    cursor = [page.cursor for page in connection.fetch("company")][-1]
    assert cursor is not None
    with fic.client() as http:
        changed = http.put(
            "/c/1051/entities/clients/3", json={"data": {"name": "Bianchi Trasporti S.r.l."}}
        )
        assert changed.status_code == 200
    pages = list(connection.fetch("company", since=cursor))
    assert [record["name"] for page in pages for record in page.records] == [
        "Bianchi Trasporti S.r.l."
    ]
    at, _, last_id = cursor.partition("#")
    stamp = parse_instant(at).astimezone(ROME).strftime("%Y-%m-%d %H:%M:%S")
    assert parse_qs(fic.recorder.exchanges[-1].query)["q"] == [
        f"updated_at > '{stamp}' or (updated_at = '{stamp}' and id > {last_id})"
    ]
    assert pages[-1].cursor is not None and pages[-1].cursor != cursor


def test_reference_data(fic: Any) -> None:
    connection = fic.connect()
    vat = [
        connection.map_in("vat_rate", r) for p in connection.fetch("vat_rate") for r in p.records
    ]
    assert isinstance(vat[0], VatRate)
    by_id = {record.id: record for record in vat}
    assert by_id["0"].rate == Decimal(22) and by_id["4"].exemption_code == "N2.1"
    currencies = [
        connection.map_in("currency", r) for p in connection.fetch("currency") for r in p.records
    ]
    assert {c.code for c in currencies} >= {"EUR", "USD"}
    methods = [
        connection.map_in("payment_method", r)
        for p in connection.fetch("payment_method")
        for r in p.records
    ]
    transfer = next(m for m in methods if m.name == "Bonifico bancario")
    cash = next(m for m in methods if m.name == "Contanti")
    # the IBAN comes from the method's default payment account
    assert transfer.iban == "IT60X0542811101000000123456" and cash.iban is None
    units = [connection.map_in("unit", r) for p in connection.fetch("unit") for r in p.records]
    assert {"pezzi", "kg", "ore"} <= {unit.name for unit in units}
    assert all(unit.id == unit.name for unit in units)


def test_mapped_records_are_italian_and_canonical(fic: Any) -> None:
    connection = fic.connect()
    companies = [
        connection.map_in("company", r) for p in connection.fetch("company") for r in p.records
    ]
    firm = next(c for c in companies if isinstance(c, Company) and c.vat_number)
    assert firm.country == "IT" and firm.vat_number.startswith("IT")
    assert firm.updated_at is not None and firm.updated_at.tzinfo is not None
    product = connection.map_in("product", next(iter(connection.fetch("product"))).records[0])
    assert isinstance(product, Product) and product.code and product.unit == product.unit_id
    quote = connection.map_in("quote", next(iter(connection.fetch("quote"))).records[0])
    assert isinstance(quote, Quote) and quote.company_id and quote.lines
    assert quote.lines[0].vat_rate_id is not None and quote.lines[0].vat_percent is not None
    invoices = [
        connection.map_in("invoice", r) for p in connection.fetch("invoice") for r in p.records
    ]
    assert all(isinstance(i, Invoice) for i in invoices)
    assert {i.status for i in invoices} <= {"issued", "paid", "partially_paid"}
    paid = [i for i in invoices if isinstance(i, Invoice) and i.status == "paid"]
    assert paid and all(i.balance == 0 for i in paid)


def test_fetch_by_ids(fic: Any) -> None:
    connection = fic.connect()
    pages = list(connection.fetch("company", query={"ids": ["2", "4", "999"]}))
    assert sorted(r["id"] for p in pages for r in p.records) == [2, 4]
    quotes = list(connection.fetch("quote", query={"ids": ["1"]}))
    assert [r["type"] for p in quotes for r in p.records] == ["quote"]


# -- the keyset paging, against a scripted API --------------------------------------------------


def _client(handler: Callable[[httpx.Request], httpx.Response], size: int = 100) -> Client:
    settings = FicSettings(
        company_id=1, access_token="t" * 8, base_url="http://fic.test", page_size=size
    )
    return Client(
        connection="t",
        settings=settings,
        base_url="http://fic.test",
        transport=httpx.MockTransport(handler),
    )


class Listing:
    """``/c/1/entities/clients`` over ``rows``, filtered and paged as the emulator does."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.asked: list[dict[str, str]] = []
        #: called after each answer (a test changes records there)
        self.after: Callable[[int], None] = lambda _served: None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.asked.append(params)
        ordered = sort_records(list(self.rows), params["sort"])
        rows = select(ordered, params.get("q"), params["sort"])
        page = listing(_Query(params), rows, "entities/clients")  # type: ignore[arg-type]
        self.after(len(self.asked))
        return httpx.Response(200, content=orjson.dumps(page))


class _Query:
    """What :func:`listing` reads of a request: its query parameters."""

    def __init__(self, params: dict[str, str]) -> None:
        self.query_params = params


def _read(rows: list[dict[str, Any]], since: str | None = None, size: int = 3) -> Any:
    served = Listing(rows)
    client = _client(served, size)
    return served, client, api.read(client, "company", since, None)


def test_keyset_paging_reads_a_whole_page_sharing_one_timestamp() -> None:
    rows = [{"id": i, "updated_at": "2024-05-01 10:00:00"} for i in range(1, 8)]
    rows += [{"id": i, "updated_at": f"2024-05-01 10:00:{i:02d}"} for i in range(8, 12)]
    served, client, pages = _read(rows)
    with client:
        read = list(pages)
    assert [r["id"] for p in read for r in p.records] == list(range(1, 12))
    assert len(served.asked) == 4  # ceil(11 / 3): every page asks afresh after the last one
    assert served.asked[1]["q"] == (
        "updated_at > '2024-05-01 10:00:00' or (updated_at = '2024-05-01 10:00:00' and id > 3)"
    )
    assert read[-1].cursor == str(Cursor(parse_instant("2024-05-01 10:00:11", ROME), "11"))


def test_a_record_changed_during_the_read_is_not_lost() -> None:
    rows = [{"id": i, "updated_at": f"2024-05-01 10:00:{i:02d}"} for i in range(1, 10)]
    served, client, pages = _read(rows)

    def edit(answered: int) -> None:
        if answered == 1:  # after the first page is served, record 2 is edited
            rows[1] = {"id": 2, "updated_at": "2024-05-01 10:00:59"}

    served.after = edit
    with client:
        seen = [(r["id"], r["updated_at"]) for p in pages for r in p.records]
    assert {i for i, _ in seen} == set(range(1, 10))  # plain page numbers would skip record 4
    assert (2, "2024-05-01 10:00:59") in seen  # and the new version comes too


def test_a_read_after_a_cursor_asks_only_for_what_follows_it() -> None:
    rows = [{"id": i, "updated_at": "2024-05-01 10:00:00"} for i in range(1, 6)]
    cursor = str(Cursor(parse_instant("2024-05-01 10:00:00", ROME), "3"))
    served, client, pages = _read(rows, cursor, size=100)
    with client:
        assert [r["id"] for p in pages for r in p.records] == [4, 5]
    assert [ask["q"] for ask in served.asked] == [
        "updated_at > '2024-05-01 10:00:00' or (updated_at = '2024-05-01 10:00:00' and id > 3)"
    ]


def test_an_older_versions_cursor_reads_at_or_after_its_rome_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows = [{"id": i, "updated_at": f"2024-05-01 10:00:{i:02d}"} for i in range(1, 6)]
    served, client, pages = _read(rows, "2024-05-01 10:00:03", size=100)
    with client, caplog.at_level(logging.INFO, logger="syncbridge_fattureincloud.api"):
        read = list(pages)
    assert [r["id"] for p in read for r in p.records] == [3, 4, 5]  # as that version read
    assert [ask["q"] for ask in served.asked] == ["updated_at >= '2024-05-01 10:00:03'"]
    assert read[-1].cursor == str(Cursor(parse_instant("2024-05-01 10:00:05", ROME), "5"))
    assert "an older version's" in caplog.text


def test_a_cursor_in_the_repeated_dst_hour_reads_from_the_earliest_wall_time() -> None:
    # 02:45:10 of the first pass (CEST): an edit at 02:10 of the second pass (CET) is later,
    # but its wall time is earlier
    first_pass = parse_instant("2024-10-27 02:45:10", ROME)
    start = api.start(str(Cursor(first_pass, "7")))
    assert start is not None and Cursor.parse(start).id is None
    assert api.INCREMENTAL.since_of(Cursor.parse(start)).text <= "2024-10-27 02:00:00"
    summer = str(Cursor(parse_instant("2024-05-01 02:45:10", ROME), "7"))
    assert api.start(summer) == summer
