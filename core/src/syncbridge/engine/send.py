"""Sending writes in the background, up to each target's concurrency.

A chunk's writes go out while the engine decides and prepares the next chunk, so neither the
API nor the machine waits for the other between chunks. Each target connection gets one
pool for the whole side's pass, with as many workers as it declares it may run requests at
once; the workers take the chunk's batches from a shared list, so a slow batch holds up one
worker, not the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from syncbridge.connection import Connection
from syncbridge.records import UpsertItem, UpsertResult


class Sender:
    """The pools of one pass over a side's chunks; use as a context manager."""

    def __init__(self, entity: str) -> None:
        self.entity = entity
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._stop = threading.Event()

    def submit(
        self,
        connection: Connection,
        items: Sequence[UpsertItem],
        before: Callable[[list[UpsertItem]], None] | None = None,
    ) -> list[Future[list[UpsertResult]]]:
        """Start upserting ``items`` in the target's batch size; one future per worker.

        ``before`` is called with each batch just before the connector gets it, in the
        sending thread: the outbox commits the intents of its creates there, so that a batch
        never handed over leaves none behind (:func:`syncbridge.engine.outbox.commit_intents`).
        """
        size = connection.info.entities[self.entity].batch_size
        batches = [list(items[start : start + size]) for start in range(0, len(items), size)]
        workers = min(connection.info.max_concurrency, len(batches))
        pool = self._pools.get(connection.name)
        if pool is None:
            pool = ThreadPoolExecutor(
                max_workers=connection.info.max_concurrency,
                thread_name_prefix=f"syncbridge-send-{connection.name}",
            )
            self._pools[connection.name] = pool
        shared = iter(batches)
        lock = threading.Lock()

        def next_batch() -> Iterator[list[UpsertItem]]:
            while not self._stop.is_set():
                with lock:
                    batch = next(shared, None)
                if batch is None:
                    return
                yield batch

        def drain() -> list[UpsertResult]:
            results: list[UpsertResult] = []
            for batch in next_batch():
                if before is not None:
                    before(batch)
                results.extend(connection.upsert(self.entity, batch))
            return results

        return [pool.submit(drain) for _ in range(workers)]

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, exc_type: object, *_rest: object) -> None:
        if exc_type is not None:
            # a failed pass: batches not started yet stay unsent, without outbox rows; those
            # in flight have theirs, and the next run finds out what they made
            self._stop.set()
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=exc_type is not None)
