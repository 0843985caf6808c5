"""Stage 3: carry out a chunk of decisions, crash-safely.

Creates go through the outbox: the intent (with its idempotency key) is committed before the
request, and the link, snapshot and report row are committed together after the response.
A run killed in between leaves an outbox row that the next run reconciles (see
:mod:`syncbridge.engine.outbox`) instead of creating the record a second time.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete

from syncbridge.engine.context import SIDES, EntityContext, Side, other
from syncbridge.engine.db import OUTBOX, SnapshotRow, chunks, insert_rows
from syncbridge.engine.decide import UNCHANGED, Decision
from syncbridge.engine.read import describe_error
from syncbridge.engine.report import Item
from syncbridge.engine.send import Sender
from syncbridge.engine.values import idempotency_key
from syncbridge.errors import ConnectorError, SkipRecord
from syncbridge.records import UpsertItem, UpsertResult


def _prepare(ctx: EntityContext, decision: Decision) -> UpsertItem | None:
    """Validate and map out a write; on failure mark the decision failed and return None."""
    assert decision.winner is not None and decision.payload is not None
    target = other(decision.winner)
    try:
        record = ctx.model.model_validate({**decision.payload, "id": decision.target_id})
        native = ctx.connections[target].map_out(ctx.entity, record)
    except SkipRecord as skip:
        decision.outcome, decision.reason, decision.write = "skipped", str(skip), None
        return None
    except (ValidationError, ConnectorError, ValueError, TypeError) as error:
        _fail(decision, f"cannot be written to the {target}: {describe_error(error)}")
        return None
    if decision.write == "create":
        key = idempotency_key(ctx.sync, ctx.entity, decision.side, decision.record_id)
        return UpsertItem(key=key, record=native, id=None, changed=decision.changed)
    return UpsertItem(
        key=f"update-{decision.target_id}",
        record=native,
        id=decision.target_id,
        changed=decision.changed,
    )


def _fail(decision: Decision, reason: str) -> None:
    decision.outcome = "failed"
    decision.reason = reason
    decision.write = None
    decision.pending = ("failed", reason)


def _stored(
    ctx: EntityContext, target: Side, decision: Decision, result: UpsertResult
) -> SnapshotRow:
    """(id, hash, JSON) of the record as the target now holds it."""
    assert result.id is not None
    if result.record is not None:
        try:
            record = ctx.connections[target].map_in(ctx.entity, result.record)
            return (result.id, *record.snapshot())
        except (ValidationError, ConnectorError, ValueError, TypeError):
            pass  # fall back to what we sent
    assert decision.payload is not None
    record = ctx.model.model_validate({**decision.payload, "id": result.id})
    return (result.id, *record.snapshot())


@dataclass
class InFlight:
    """A chunk whose writes are on their way: what finishing it needs."""

    side: Side
    decisions: list[Decision]
    items: dict[int, UpsertItem]
    futures: list[Future[list[UpsertResult]]]
    now: datetime
    #: already recorded (a dry run has nothing to wait for)
    recorded: bool = False


def start_chunk(
    ctx: EntityContext, side: Side, decisions: list[Decision], sender: Sender
) -> InFlight:
    """Prepare the chunk's writes, commit the intents of its creates, start sending.

    A dry run only records the decisions (here, at once).
    """
    now = datetime.now(UTC)
    if ctx.dry_run:
        for decision in decisions:
            if decision.write == "create" or decision.new_link is not None:
                ctx.planned.add((ctx.entity, decision.side, decision.record_id))
                if decision.target_id is not None:
                    ctx.planned.add((ctx.entity, other(decision.side), decision.target_id))
        with ctx.engine.begin() as db:
            _record(ctx, db, side, decisions)
        return InFlight(side, decisions, {}, [], now, recorded=True)
    items: dict[int, UpsertItem] = {}
    for index, decision in enumerate(decisions):
        if decision.write is not None:
            item = _prepare(ctx, decision)
            if item is not None:
                items[index] = item
    creates = [(i, item) for i, item in items.items() if item.is_create]
    if creates:
        with ctx.engine.begin() as db:
            insert_rows(
                db,
                OUTBOX,
                [
                    {
                        "key": item.key,
                        "sync": ctx.sync,
                        "entity": ctx.entity,
                        "target_side": other(decisions[i].winner or side),
                        "source_id": decisions[i].record_id,
                        "created_at": now,
                    }
                    for i, item in creates
                ],
            )
    futures: list[Future[list[UpsertResult]]] = []
    for target in SIDES:
        batch = [item for i, item in items.items() if other(decisions[i].winner or side) == target]
        if batch:
            futures += sender.submit(ctx.connections[target], batch)
            ctx.result.writes += len(batch)
    return InFlight(side, decisions, items, futures, now)


def finish_chunk(ctx: EntityContext, chunk: InFlight) -> None:
    """Wait for the chunk's writes, then commit links, snapshots and report rows together."""
    if chunk.recorded:
        return
    side, decisions, items, now = chunk.side, chunk.decisions, chunk.items, chunk.now
    run_id = ctx.recorder.run_id
    results = {result.key: result for future in chunk.futures for result in future.result()}
    creates = [item for item in items.values() if item.is_create]
    with ctx.engine.begin() as db:
        new_links: list[dict[str, Any]] = []
        stored: dict[Side, list[SnapshotRow]] = {}
        rehash: list[tuple[int, str, str]] = []
        for index, decision in enumerate(decisions):
            item = items.get(index)
            if item is not None:
                result = results.get(item.key)
                if result is None or not result.ok or result.id is None:
                    message = (
                        result.error
                        if result is not None and result.error
                        else "the connector returned no result for this record"
                    )
                    target = other(decision.winner or side)
                    _fail(decision, f"the {target} rejected it: {message}")
                else:
                    _commit_write(ctx, decision, result, new_links, stored, rehash, now)
            elif decision.new_link is not None and decision.outcome == "linked":
                assert decision.hashes is not None
                left_id, right_id = decision.new_link
                new_links.append(
                    {
                        "left_id": left_id,
                        "right_id": right_id,
                        "left_hash": decision.hashes[0],
                        "right_hash": decision.hashes[1],
                        "synced_at": now,
                    }
                )
            elif (
                decision.outcome == "skipped"
                and decision.link_id is not None
                and decision.hashes is not None
                and decision.reason == "already in step"
            ):
                rehash.append((decision.link_id, *decision.hashes))
        ctx.links.set_hashes_many(db, rehash, now)
        ctx.links.add(db, new_links)
        for target, rows in stored.items():
            # no match keys: a record just written is linked, and matching looks for
            # unlinked records only (its keys are rebuilt if the link goes: SideStore.rekey)
            ctx.stores[target].save_snapshots(db, rows, run_id, [], done=True)
        if creates:
            keys = [item.key for item in creates]
            for part in chunks(keys):
                db.execute(delete(OUTBOX).where(OUTBOX.c.key.in_(part)))
        _record(ctx, db, side, decisions)
        store = ctx.stores[side]
        store.clear_pending(db, [d.record_id for d in decisions if d.pending is None])
        store.set_pending(
            db,
            [
                (d.record_id, d.pending[0], d.pending[1], None)
                for d in decisions
                if d.pending is not None
            ],
            now,
        )


def _commit_write(
    ctx: EntityContext,
    decision: Decision,
    result: UpsertResult,
    new_links: list[dict[str, Any]],
    stored: dict[Side, list[SnapshotRow]],
    rehash: list[tuple[int, str, str]],
    now: datetime,
) -> None:
    """Collect the link and target snapshot of one successful write (stored in bulk)."""
    assert decision.winner is not None and decision.hashes is not None
    target = other(decision.winner)
    row = _stored(ctx, target, decision, result)
    stored.setdefault(target, []).append(row)
    stored_id, stored_hash = row[0], row[1]
    decision.target_id = stored_id
    left_hash, right_hash = decision.hashes
    if target == "left":
        left_hash = stored_hash
    else:
        right_hash = stored_hash
    if decision.write == "create":
        source_id = decision.record_id
        pair = (source_id, stored_id) if decision.side == "left" else (stored_id, source_id)
        new_links.append(
            {
                "left_id": pair[0],
                "right_id": pair[1],
                "left_hash": left_hash,
                "right_hash": right_hash,
                "synced_at": now,
            }
        )
    elif decision.new_link is not None:
        new_links.append(
            {
                "left_id": decision.new_link[0],
                "right_id": decision.new_link[1],
                "left_hash": left_hash,
                "right_hash": right_hash,
                "synced_at": now,
            }
        )
    elif decision.link_id is not None:
        rehash.append((decision.link_id, left_hash, right_hash))


def _record(ctx: EntityContext, db: Any, side: Side, decisions: list[Decision]) -> None:
    run_id = ctx.recorder.run_id
    ctx.stores[side].mark_done(db, [d.record_id for d in decisions], run_id)
    handled = [h for d in decisions for h in d.handled]
    if handled:
        ctx.stores[other(side)].mark_done(db, handled, run_id)
    # records identical to their last sync (mostly echoes of our own writes) are counted, as
    # unchanged, but get no report row: a full run over 100k linked records must not write
    # 100k rows, and a summary counting them as skipped sent readers to rows that are not there
    ctx.recorder.items(
        db,
        [
            Item(ctx.entity, side, d.record_id, d.outcome, d.reason, d.target_id, d.detail)
            for d in decisions
            if d.reason != UNCHANGED
        ],
    )
    for decision in decisions:
        ctx.result.counts["unchanged" if decision.reason == UNCHANGED else decision.outcome] += 1
