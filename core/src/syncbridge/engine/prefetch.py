"""Fetching the next page while the current one is mapped and stored.

A read alternates between waiting for the API and working on what it returned; done one
after the other, the two add up. A thread that runs the connector's page iterator one or
two pages ahead overlaps them: the socket wait releases the interpreter lock, so the
mapping goes on meanwhile. The connector is unaware of it: its ``fetch`` generator runs as
written, only in another thread, and its errors come out where the page would have.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import TypeVar

T = TypeVar("T")

#: pages fetched ahead of the one being worked on
DEPTH = 2
_DONE = object()


def ahead(
    pages: Iterator[T], depth: int = DEPTH, each: Callable[[T], None] | None = None
) -> Generator[T, None, None]:
    """Yield ``pages`` in order while a thread fetches up to ``depth`` pages further on.

    ``each``, if given, is called in the fetching thread with every page as soon as it is
    fetched (to hand it on to a mapping worker); an error it raises ends the iteration like
    a fetch error. When the consumer stops early (an error, a closed generator) the thread
    finishes the request it is in and stops; the iterator is closed in that thread's stead.
    """
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if each is not None:
                    each(page)
                if not put((page,)):
                    return
            put(_DONE)
        except BaseException as error:
            put(error)

    worker = threading.Thread(target=produce, name="syncbridge-fetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item[0]  # type: ignore[index]
    finally:
        stop.set()
        worker.join()
        close = getattr(pages, "close", None)
        if callable(close):
            close()
