"""Pages fetched ahead: same pages in the same order, errors where they happened, no leak."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from syncbridge.engine.prefetch import ahead


def test_pages_come_in_order_and_the_fetch_runs_ahead() -> None:
    fetched: list[int] = []

    def pages() -> Iterator[int]:
        for number in range(10):
            fetched.append(number)
            yield number

    seen = []
    for page in ahead(pages(), depth=2):
        time.sleep(0.01)  # working on a page gives the fetcher time to run ahead
        seen.append(page)
        # the page being worked on, the queued ones and the one waiting to be queued
        assert len(fetched) - len(seen) <= 3
        if page == 3:
            assert len(fetched) > 4
    assert seen == list(range(10))


def test_an_error_comes_out_after_the_pages_before_it() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionError("the API went away after page 2")

    seen = []
    with pytest.raises(ConnectionError, match="after page 2"):
        for page in ahead(pages()):
            seen.append(page)
    assert seen == [1, 2]


def test_stopping_early_stops_the_fetcher_and_closes_the_pages() -> None:
    closed = threading.Event()

    def pages() -> Iterator[int]:
        try:
            number = 0
            while True:
                number += 1
                yield number
        finally:
            closed.set()

    before = threading.active_count()
    pages_ahead = ahead(pages())
    assert next(pages_ahead) == 1
    pages_ahead.close()
    assert closed.is_set()
    assert threading.active_count() == before
