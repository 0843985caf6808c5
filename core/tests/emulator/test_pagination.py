"""The pagination helpers: every item exactly once, in each style."""

from __future__ import annotations

import pytest

from syncbridge.emulator import BadRequest, paginate_cursor, paginate_offset, paginate_pages

ITEMS = list(range(1, 24))


def test_pages_cover_every_item_once_with_laravel_style_metadata() -> None:
    seen = []
    page = paginate_pages(ITEMS, 1, 5)
    while True:
        seen += page.items
        if page.next_page is None:
            break
        page = paginate_pages(ITEMS, page.next_page, 5)
    assert seen == ITEMS
    assert (page.page, page.last_page, page.total, page.prev_page) == (5, 5, 23, 4)
    assert (page.from_index, page.to_index) == (21, 23)
    empty = paginate_pages(list[int](), 1, 5)
    assert (empty.last_page, empty.from_index, empty.has_next) == (1, None, False)


def test_pages_clamp_the_size_and_reject_nonsense() -> None:
    assert paginate_pages(ITEMS, 1, 100, max_per_page=10).per_page == 10
    assert paginate_pages(ITEMS, 0, 10, first_page=0).items == ITEMS[:10]
    with pytest.raises(BadRequest):
        paginate_pages(ITEMS, 0, 10)
    with pytest.raises(BadRequest):
        paginate_pages(ITEMS, 1, 0)


def test_offset_windows_and_bitrix_style_next() -> None:
    seen: list[int] = []
    offset: int | None = 0
    while offset is not None:
        window = paginate_offset(ITEMS, offset, 50, max_limit=10)
        seen += window.items
        offset = window.next_offset
    assert seen == ITEMS
    assert paginate_offset(ITEMS, 30, 10).items == []
    with pytest.raises(BadRequest):
        paginate_offset(ITEMS, -1, 10)


def test_cursor_pages_survive_inserts_and_deletes_between_calls() -> None:
    items = [{"id": n} for n in ITEMS]
    first = paginate_cursor(items, None, 10, key=lambda r: r["id"])
    assert [r["id"] for r in first.items] == list(range(1, 11))
    # records before the cursor come and go: the next page neither repeats nor skips
    items = [{"id": 0}] + [r for r in items if r["id"] != 3] + [{"id": 30}]
    rest: list[int] = []
    cursor = first.next_cursor
    while cursor is not None:
        window = paginate_cursor(items, cursor, 10, key=lambda r: r["id"])
        rest += [r["id"] for r in window.items]
        cursor = window.next_cursor
    assert rest == [*range(11, 24), 30]


def test_bad_cursors_are_bad_requests() -> None:
    for cursor in ("not-a-cursor", "W3RydWVd"):  # garbage, and [true]
        with pytest.raises(BadRequest):
            paginate_cursor(ITEMS, cursor, 10, key=lambda n: n)
