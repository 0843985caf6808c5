"""Declared resources read over real HTTP: pages, cursors, ids, and the loop each declaration
chooses (see syncbridge.rest.listing)."""

from __future__ import annotations

from typing import Any

import pytest
from changes_api import ChangesApi, Connect

from syncbridge.errors import ConnectorError
from syncbridge.http import Client
from syncbridge.records import Page
from syncbridge.rest import (
    Api,
    CursorToken,
    ErrorMap,
    Incremental,
    NextLink,
    Offset,
    PageNumber,
    Resource,
    Since,
)

ERRORS = ErrorMap(system="Changes API", message="error.message")


def listing(api: ChangesApi, size: int = 3, **options: Any) -> Resource:
    """The resource as the template declares its own: by id, pages, "strictly after"."""
    declared: dict[str, Any] = {
        "records": "data",
        "paginator": PageNumber(last_page="meta.last_page"),
        "incremental": Incremental(
            field="updated_at", since="since", inclusive=False, clock=lambda: api.now
        ),
        "params": {"sort": "id", "op": "gt"},
        "by_id": "/items/{id}",
        "record": "data",
        "total": "meta.total",
        "page_size": size,
        **options,
    }
    return Resource("/items", **declared)


def ordered(api: ChangesApi, size: int = 3, **options: Any) -> Resource:
    """Ordered by (time, id), filtered on time alone, paged by number."""
    declared: dict[str, Any] = {
        "records": "data",
        "paginator": PageNumber(last_page="meta.last_page"),
        "incremental": Incremental(
            field="updated_at", since="since", ordered=True, clock=lambda: api.now
        ),
        "params": {"sort": "time"},
        "page_size": size,
        **options,
    }
    return Resource("/items", **declared)


def ids(pages: list[Page]) -> list[int]:
    return [record["id"] for page in pages for record in page.records]


def test_a_full_read_pages_and_sets_the_cursor_on_the_last_page(
    api: ChangesApi, client: Client
) -> None:
    api.create(7)
    api.tick(10)

    pages = list(listing(api).fetch(client, ERRORS, None, {}))

    assert ids(pages) == [1, 2, 3, 4, 5, 6, 7]
    assert [page.total for page in pages] == [7, None, None]
    assert [page.cursor for page in pages] == [None, None, "2026-03-01T08:00:00.000000+00:00#7"]
    assert api.requests == 3


def test_an_incremental_read_returns_the_changes_since_the_cursor(
    api: ChangesApi, client: Client
) -> None:
    api.create(7)
    api.tick(10)
    cursor = list(listing(api).fetch(client, ERRORS, None, {}))[-1].cursor
    api.modify([2, 6])
    api.tick(10)

    pages = list(listing(api).fetch(client, ERRORS, cursor, {}))

    assert ids(pages) == [2, 6]
    assert pages[-1].cursor == "2026-03-01T08:00:10.000000+00:00#6"
    assert ids(list(listing(api).fetch(client, ERRORS, pages[-1].cursor, {}))) == []


def test_the_page_size_setting_asks_for_smaller_pages(api: ChangesApi, connect: Connect) -> None:
    api.create(5)
    small, _log = connect(page_size=2)

    pages = list(listing(api, size=100).fetch(small, ERRORS, None, {}))

    assert [len(page.records) for page in pages] == [2, 2, 1]


def test_ids_are_read_by_id_leaving_out_unknown_ones(api: ChangesApi, client: Client) -> None:
    api.create(5)

    later = "2030-01-01T00:00:00+00:00"  # a cursor plays no part in a read by ids
    pages = list(listing(api).fetch(client, ERRORS, later, {"ids": [4, "2", 99, 4]}))

    assert ids(pages) == [4, 2]
    assert all(page.cursor is None for page in pages)


def test_ids_are_read_with_a_filter_where_declared(api: ChangesApi, client: Client) -> None:
    api.create(9)

    pages = list(listing(api, ids_param="ids").fetch(client, ERRORS, None, {"ids": ["8", "3"]}))

    assert ids(pages) == [3, 8]
    assert api.requests == 1


def test_ids_per_request_bounds_the_ids_a_request_names(api: ChangesApi, client: Client) -> None:
    """A filter that names ids in the URL (``id eq 1 or id eq 2 ...``) limits how many go in
    one request; each such request asks for a whole page, so it is answered in one."""
    api.create(9)
    resource = listing(api, size=3, ids_param="ids", ids_per_request=2)

    pages = list(resource.fetch(client, ERRORS, None, {"ids": ["1", "2", "3", "4", "5"]}))

    assert ids(pages) == [1, 2, 3, 4, 5]
    assert api.requests == 3  # [1, 2], [3, 4], [5]: none of them a full page of 3


def test_ids_per_request_must_be_positive(api: ChangesApi) -> None:
    with pytest.raises(ValueError, match="ids_per_request must be at least 1"):
        listing(api, ids_param="ids", ids_per_request=0)


def test_without_a_way_to_ask_for_ids_the_listing_is_filtered(
    api: ChangesApi, client: Client
) -> None:
    api.create(5)

    pages = list(listing(api, by_id=None).fetch(client, ERRORS, None, {"ids": ["5", "1"]}))

    assert ids(pages) == [1, 5]


def test_a_bulk_import_is_paged_within_its_instant_without_loss(
    api: ChangesApi, client: Client
) -> None:
    """A record of the instant being paged is updated: the rest shift, the read notices."""
    api.create(8)  # all at 08:00:00
    api.tick(5)
    reading = ordered(api, size=2).fetch(client, ERRORS, None, {})
    first = next(reading)
    api.modify([1])  # leaves the instant: 3 slides onto the first page

    pages = [first, *reading]

    assert ids(pages) == [1, 2, 3, 4, 5, 6, 7, 8, 1]
    assert pages[-1].cursor == "2026-03-01T08:00:05.000000+00:00"  # the signpost


def test_an_ordered_read_is_resumable_from_any_page(api: ChangesApi, client: Client) -> None:
    api.create(4)
    api.tick(1)
    api.create(4)
    api.tick(5)
    pages = list(ordered(api, size=3).fetch(client, ERRORS, None, {}))
    assert ids(pages) == list(range(1, 9))

    for number, page in enumerate(pages):
        assert page.cursor is not None
        resumed = list(ordered(api, size=3).fetch(client, ERRORS, page.cursor, {}))
        read = ids(pages[: number + 1])
        assert ids(resumed) == [i for i in range(1, 9) if i not in read], page.cursor


def test_a_keyset_filter_reads_each_record_once_per_request(
    api: ChangesApi, client: Client
) -> None:
    def keyset(since: Since) -> dict[str, Any]:
        return {"since": since.exact, **({"after_id": since.id} if since.id else {})}

    api.create(10)
    api.tick(5)
    resource = ordered(
        api,
        size=4,
        incremental=Incremental(
            field="updated_at", since=keyset, ordered=True, keyset=True, clock=lambda: api.now
        ),
    )

    pages = list(resource.fetch(client, ERRORS, None, {}))

    assert ids(pages) == list(range(1, 11))
    assert api.requests == 3


@pytest.mark.parametrize(
    "paginator",
    [
        pytest.param(CursorToken(token="meta.next"), id="token"),
        pytest.param(NextLink(size_param="per_page"), id="link header"),
        pytest.param(Offset(total="meta.total"), id="offset"),
    ],
)
def test_every_paginator_reads_every_record_once(
    api: ChangesApi, client: Client, paginator: Any
) -> None:
    api.create(7)
    params = {"sort": "id"}
    if isinstance(paginator, NextLink):
        params.update(page=1, links=1)

    pages = list(listing(api, paginator=paginator, params=params).fetch(client, ERRORS, None, {}))

    assert ids(pages) == [1, 2, 3, 4, 5, 6, 7]
    assert api.requests == 3


def test_a_listing_not_in_the_declared_order_is_refused(
    api: ChangesApi, client: Client
) -> None:
    api.create(2)
    api.tick(1)
    api.modify([1])
    resource = Resource(
        "/items",
        records="data",
        paginator=CursorToken(token="meta.next"),
        incremental=Incremental(field="updated_at", since="since", ordered=True),
        params={"sort": "id"},
    )

    with pytest.raises(ConnectorError) as raised:
        list(resource.fetch(client, ERRORS, None, {}))

    assert str(raised.value) == (
        "Changes API lists /items out of (time, id) order (record 2 after a later one), "
        "though the resource is declared ordered; ask the API to sort by time then id, or "
        "declare Incremental(ordered=False)"
    )


def test_an_ordered_listing_by_numbers_needs_a_filter() -> None:
    with pytest.raises(ValueError, match="an ordered listing paged by number or offset needs"):
        Resource(
            "/items",
            paginator=PageNumber(),
            incremental=Incremental(field="updated_at", ordered=True),
        )


def test_an_api_groups_resources_by_entity(api: ChangesApi, client: Client) -> None:
    api.create(2)
    declared = Api(ERRORS, {"company": listing(api)})

    assert ids(list(declared.fetch(client, "company", None, {}))) == [1, 2]
    with pytest.raises(ConnectorError, match="Changes API has no resource for 'invoice'"):
        declared.fetch(client, "invoice", None, {})


def test_records_must_be_a_list(api: ChangesApi, client: Client) -> None:
    resource = Resource("/items", records="meta")

    with pytest.raises(ConnectorError) as raised:
        list(resource.fetch(client, ERRORS, None, {}))

    assert str(raised.value) == (
        "Changes API answered GET /items without a list of records at 'meta'"
    )
