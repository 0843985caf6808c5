"""Reading: every entity across pages without duplicates, incremental reads by ``q``, and the
keyset paging that survives records changing during a read."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from syncbridge.http import Client
from syncbridge.models import Company, Invoice, Product, Quote, VatRate
from syncbridge_fattureincloud.api import lower_bound, read_list
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
    assert pages[-1].cursor == max(
        record["updated_at"] for page in pages for record in page.records
    )
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
    names = {record["name"] for page in pages for record in page.records}
    assert "Bianchi Trasporti S.r.l." in names
    assert len(names) <= 2  # the record at the cursor's second may come again, nothing else
    assert any(f"q=updated_at+%3E%3D+%27{cursor[:10]}" in e.query for e in fic.recorder.exchanges)
    assert pages[-1].cursor is not None and pages[-1].cursor > cursor


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


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> Client:
    settings = FicSettings(company_id=1, access_token="t" * 8, base_url="http://fic.test")
    return Client(
        connection="t",
        settings=settings,
        base_url="http://fic.test",
        transport=httpx.MockTransport(handler),
    )


def _serve_sorted(rows: list[dict[str, Any]], log: list[dict[str, str]]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        log.append(params)
        matching = sorted(rows, key=lambda r: (r["updated_at"], r["id"]))
        if "q" in params:
            bound = params["q"].split("'")[1]
            matching = [r for r in matching if r["updated_at"] >= bound]
        page, per_page = int(params["page"]), int(params["per_page"])
        last = max(1, -(-len(matching) // per_page))
        data = matching[(page - 1) * per_page : page * per_page]
        return httpx.Response(200, json={"data": data, "current_page": page, "last_page": last})

    return handler


def test_keyset_paging_pages_within_a_timestamp_shared_by_a_whole_page() -> None:
    rows = [{"id": i, "updated_at": "2024-05-01 10:00:00"} for i in range(1, 8)]
    rows += [{"id": i, "updated_at": f"2024-05-01 10:00:{i:02d}"} for i in range(8, 12)]
    log: list[dict[str, str]] = []
    with _client(_serve_sorted(rows, log)) as client:
        pages = list(read_list(client, "/x", {}, None, 3))
    ids = [r["id"] for p in pages for r in p.records]
    assert ids == list(range(1, 12))
    assert pages[-1].cursor == "2024-05-01 10:00:11"


def test_a_record_changed_during_the_read_is_not_lost() -> None:
    rows = [{"id": i, "updated_at": f"2024-05-01 10:00:{i:02d}"} for i in range(1, 10)]
    log: list[dict[str, str]] = []
    serve_sorted = _serve_sorted(rows, log)

    def handler(request: httpx.Request) -> httpx.Response:
        response = serve_sorted(request)
        if len(log) == 1:  # after the first page is served, record 2 is edited
            rows[1] = {"id": 2, "updated_at": "2024-05-01 10:00:59"}
        return response

    with _client(handler) as client:
        pages = list(read_list(client, "/x", {}, None, 3))
    seen = [(r["id"], r["updated_at"]) for p in pages for r in p.records]
    assert {i for i, _ in seen} == set(range(1, 10))  # plain page numbers would skip record 4
    assert (2, "2024-05-01 10:00:59") in seen  # and the new version comes too


def test_a_cursor_in_the_repeated_dst_hour_reads_from_its_start() -> None:
    assert lower_bound("2024-10-27 02:45:10") == "2024-10-27 02:00:00"
    assert lower_bound("2024-10-27 03:00:00") == "2024-10-27 03:00:00"
    assert lower_bound("2024-05-01 02:45:10") == "2024-05-01 02:45:10"
