"""Stage 1: read one side's changes into snapshots, a page at a time."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Generator
from contextlib import closing, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select, update

from syncbridge.describe import Capability
from syncbridge.engine import mapworker
from syncbridge.engine.context import EntityContext, Side
from syncbridge.engine.db import SNAPSHOT, SideStore, SnapshotRow, chunks
from syncbridge.engine.mapin import Failure, Mapped, map_records
from syncbridge.engine.mapworker import MapWorker, WorkerGone
from syncbridge.engine.prefetch import ahead
from syncbridge.engine.report import Item
from syncbridge.outcomes import Outcome
from syncbridge.records import Context, Page

#: records stored per transaction while reading
SAVE_EVERY = 5000


@dataclass
class ReadResult:
    side: Side
    count: int = 0
    cursor: str | None = None
    #: the read covered every record of the side (no cursor, no id filter, no filter
    #: pushed down): a record it did not see is gone
    complete: bool = False
    #: the filter pushed down to the read (its JSON; "" for none): a cursor belongs to it
    scope: str = ""
    deleted: list[str] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)


def record_skips(ctx: EntityContext, side: Side, skipped: list[tuple[str, str]]) -> None:
    if skipped:
        with ctx.engine.begin() as db:
            ctx.recorder.items(
                db,
                [Item(ctx.entity, side, rid, Outcome.SKIPPED, why) for rid, why in skipped],
            )
        ctx.result.counts[Outcome.SKIPPED] += len(skipped)


def map_page(
    ctx: EntityContext, side: Side, records: list[dict[str, Any]], context: dict[str, Context]
) -> tuple[list[SnapshotRow], list[Failure]]:
    """Map natives in here and now, recording skips: ``(rows, failures)``."""
    mapped = map_records(ctx.connections[side], ctx.entity, records, context)
    record_skips(ctx, side, mapped.skipped)
    return mapped.rows, mapped.failures


def save_failures(ctx: EntityContext, db: Any, side: Side, failures: list[Failure]) -> None:
    """Keep failed records for the next run: the native record as read, and its context."""
    if not failures:
        return
    now = datetime.now(UTC)
    ctx.stores[side].set_pending(
        db,
        [
            (rid, Outcome.FAILED, reason, orjson.dumps(native, default=str).decode())
            for rid, reason, native, _context in failures
        ],
        now,
        contexts={
            rid: orjson.dumps(context, default=str).decode()
            for rid, _reason, _native, context in failures
            if context
        },
    )
    ctx.recorder.items(
        db, [Item(ctx.entity, side, rid, Outcome.FAILED, why) for rid, why, *_kept in failures]
    )
    ctx.result.counts[Outcome.FAILED] += len(failures)


def read_side(ctx: EntityContext, side: Side, ids: list[str] | None = None) -> ReadResult:
    """Fetch changes (or ``ids``) of ``side``, store snapshots seen in this run."""
    store = ctx.stores[side]
    run_id = ctx.recorder.run_id
    pushed = None if ids else pushed_filter(ctx, side)
    scope = "" if pushed is None else json.dumps(pushed, sort_keys=True, default=str)
    with ctx.engine.connect() as db:
        since = None if (ctx.full or ids) else store.cursor(db)
        if since is not None and (filter_scope(ctx, side).cursor(db) or "") != scope:
            since = None  # a cursor of another filter: records it left out may match now
    result = ReadResult(
        side=side, complete=since is None and ids is None and pushed is None, scope=scope
    )
    query: dict[str, Any] = {"ids": ids} if ids else {"filter": pushed} if pushed else {}
    levels = ctx.keys_of(side)
    pending_rows: list[SnapshotRow] = []
    pending_failures: list[Failure] = []

    def save() -> None:
        # pages are stored a few at a time: a commit costs more than a page of rows, and
        # what is not stored yet is simply read again if the run dies
        with ctx.engine.begin() as db:
            store.save_snapshots(db, pending_rows, run_id, levels)
            save_failures(ctx, db, side, pending_failures)
        pending_rows.clear()
        pending_failures.clear()

    # closed on the way out, error or not: the fetching thread and any worker stop then
    with closing(_pages(ctx, side, since, query)) as pages:
        for page, mapped in pages:
            record_skips(ctx, side, mapped.skipped)
            pending_rows.extend(mapped.rows)
            pending_failures.extend(mapped.failures)
            if len(pending_rows) + len(pending_failures) >= SAVE_EVERY:
                save()
            result.failed.update(failure[0] for failure in mapped.failures)
            result.count += len(page.records)
            result.deleted.extend(page.deleted)
            if page.cursor is not None:
                result.cursor = page.cursor
            ctx.progress(f"read {side}", len(page.records))
            ctx.renew()
    save()
    return result


def pushed_filter(ctx: EntityContext, side: Side) -> dict[str, Any] | None:
    """The entity's filter, to push down to ``side``'s read, if that is safe and possible.

    Only to the source of a one-way sync: the other side's records outside the filter are
    still its records' twins, which matching must see (else a twin would be created again);
    and in a two-way sync each side is the other's target. Only to a connector that can
    filter (``Capability.FILTER``). Records a filtered read leaves out are not gone: such a
    read infers no deletion (:attr:`ReadResult.complete` is false).
    """
    rule = ctx.rule
    if not rule.filter or rule.direction == "both" or not rule.allows(side):
        return None
    if not ctx.connections[side].can(ctx.entity, Capability.FILTER):
        return None
    return dict(rule.filter)


def filter_scope(ctx: EntityContext, side: Side) -> SideStore:
    """Where the filter a side's cursor was read with is kept (beside its cursor)."""
    return SideStore(ctx.sync, ctx.entity, f"{side}:filter")


def _pages(
    ctx: EntityContext, side: Side, since: str | None, query: dict[str, Any]
) -> Generator[tuple[Page, Mapped], None, None]:
    """Each page fetched with its mapping, the next page fetched meanwhile.

    Pages are mapped here until the read proves long enough for a worker to pay off (see
    :func:`syncbridge.engine.mapworker.worth_it`); from then on, where a worker may be
    forked, pages fetched later are mapped by it while this process fetches and stores
    (see :mod:`syncbridge.engine.mapworker`). A page is mapped here whenever the worker is
    behind or gone.
    """
    connection = ctx.connections[side]
    worker: MapWorker | None = None
    gone = False
    #: for each page in fetch order: whether the worker maps it
    routes: deque[bool] = deque()

    def hand_on(page: Page) -> None:  # in the fetching thread, as soon as a page is in
        live = worker
        routes.append(
            live is not None
            and not gone
            and live.backlog < mapworker.BACKLOG
            and live.submit(page.records, page.context)
        )

    mapped_here = 0
    expected: int | None = None  # the read's size, if the first page told
    pages = ahead(iter(connection.fetch(ctx.entity, since, query)), each=hand_on)
    try:
        with closing(pages):
            for page in pages:
                if routes.popleft() and worker is not None and not gone:
                    try:
                        yield page, worker.result()
                        continue
                    except WorkerGone:
                        gone = True
                yield page, map_records(connection, ctx.entity, page.records, page.context)
                if expected is None and mapped_here == 0:
                    expected = page.total
                mapped_here += len(page.records)
                if (
                    worker is None
                    and mapworker.worth_it(mapped_here, expected)
                    and mapworker.available()
                ):
                    with suppress(OSError):  # no fork (memory, process limit): map here
                        worker = MapWorker(connection, ctx.entity)
    finally:
        if worker is not None:
            worker.close()


def retry_pending(ctx: EntityContext, side: Side, read: ReadResult) -> None:
    """Bring last run's failed and waiting records of ``side`` back as candidates.

    A record read again in this run is already a candidate with fresh data; the others come
    back from their snapshot, or (if they never mapped) from the native record and context
    kept with the failure, so that a fixed mapping or config lets them through.
    """
    store = ctx.stores[side]
    run_id = ctx.recorder.run_id
    with ctx.engine.begin() as db:
        pending = store.pending(db)
        if not pending:
            return
        fresh: set[str] = set()
        known: set[str] = set()
        for part in chunks(list(pending)):
            for rid, seen_run in db.execute(
                select(SNAPSHOT.c.record_id, SNAPSHOT.c.seen_run).where(
                    SNAPSHOT.c.sync == ctx.sync,
                    SNAPSHOT.c.entity == ctx.entity,
                    SNAPSHOT.c.side == side,
                    SNAPSHOT.c.record_id.in_(part),
                )
            ):
                known.add(rid)
                if seen_run == run_id:
                    fresh.add(rid)
        skip = fresh | read.failed
        natives: list[dict[str, Any]] = []
        contexts: dict[str, Context] = {}
        for rid, (_kind, _reason, native, context) in pending.items():
            if native is None or rid in skip:
                continue
            natives.append(orjson.loads(native))
            if context is not None:
                contexts[rid] = orjson.loads(context)
        rows, failures = map_page(ctx, side, natives, contexts)
        store.save_snapshots(db, rows, run_id, ctx.keys_of(side))
        save_failures(ctx, db, side, failures)
        again = [rid for rid in pending if rid in known and rid not in skip]
        for part in chunks(again):
            db.execute(
                update(SNAPSHOT)
                .where(
                    SNAPSHOT.c.sync == ctx.sync,
                    SNAPSHOT.c.entity == ctx.entity,
                    SNAPSHOT.c.side == side,
                    SNAPSHOT.c.record_id.in_(part),
                )
                .values(seen_run=run_id, done_run=0)
            )
