"""Stage 3: carry out a chunk of decisions, crash-safely.

Creates go through the outbox: the intent (with its idempotency key) is committed before the
request, and the link, snapshot and report row are committed together after the response.
A run killed in between leaves an outbox row that the next run reconciles (see
:mod:`syncbridge.engine.outbox`) instead of creating the record a second time.
"""

from __future__ import annotations

from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import delete

from syncbridge.engine.context import SIDES, EntityContext, Side, other
from syncbridge.engine.db import OUTBOX, SnapshotRow, chunks, link_row, loads
from syncbridge.engine.decide import Decision, Write
from syncbridge.engine.invariants import check_write
from syncbridge.engine.mapin import describe_error
from syncbridge.engine.outbox import commit_intents, held_creates, intent
from syncbridge.engine.report import Item
from syncbridge.engine.send import Sender
from syncbridge.engine.translate import PLANNED
from syncbridge.engine.values import idempotency_key
from syncbridge.errors import SkipRecord
from syncbridge.outcomes import Outcome
from syncbridge.records import UpsertItem, UpsertResult


def _prepare(ctx: EntityContext, decision: Decision, write: Write) -> UpsertItem | None:
    """Validate and map out a write; on failure mark the decision failed and return None.

    ``plan`` calls it too (and sends nothing), so a record the target's mapping refuses is
    skipped or failed in the plan exactly as in the run.
    """
    target = write.target
    context: dict[str, Any] = {}  # what map(out) notes for upsert beside the record
    try:
        record = ctx.model.model_validate({**write.payload, "id": write.target_id})
        native = ctx.connections[target].map_out(ctx.entity, record, context)
    except SkipRecord as skip:
        decision.outcome, decision.reason, decision.writes = Outcome.SKIPPED, str(skip), []
        decision.pending = None
        return None
    except Exception as error:
        _fail(decision, f"cannot be written to the {target}: {describe_error(error)}")
        return None
    # document totals are invariants: what the target's mapping cannot carry is not written
    lost = check_write(
        ctx.connections[target], ctx.entity, record, native, target, write.target_id, context
    )
    if lost is not None:
        _fail(decision, lost)
        return None
    if write.kind == "create":
        key = idempotency_key(
            ctx.sync, ctx.entity, decision.side, decision.record_id, ctx.recorder.run_id
        )
        return UpsertItem(
            key=key, record=native, id=None, changed=write.changed, context=context
        )
    return UpsertItem(
        key=f"update-{target}-{write.target_id}",
        record=native,
        id=write.target_id,
        changed=write.changed,
        context=context,
    )


def _fail(decision: Decision, reason: str) -> None:
    decision.outcome = Outcome.FAILED
    decision.reason = reason
    decision.writes = []
    decision.new_link = None
    decision.settle = False
    decision.pending = (Outcome.FAILED, reason)


def _hold(decision: Decision, reason: str) -> None:
    """A create held by the outbox: written nothing, reported unknown and kept pending, so
    it is reported again every run until settled (see :mod:`syncbridge.engine.outbox`)."""
    _fail(decision, reason)
    decision.outcome = Outcome.UNKNOWN
    decision.pending = (Outcome.UNKNOWN, reason)


def _stored(ctx: EntityContext, write: Write, result: UpsertResult) -> SnapshotRow:
    """(id, hash, JSON) of the record as the target now holds it.

    The record the target returned, mapped in, is what its next read will show (its own
    defaults and normalisation included), so it is both the snapshot and the new merge base
    of that side: our own write then reads back as unchanged, never as a foreign change.
    """
    assert result.id is not None
    if result.record is not None:
        # a returned record the mapping cannot read: what we sent stands for it
        with suppress(Exception):
            record = ctx.connections[write.target].map_in(
                ctx.entity, result.record, result.context
            )
            return (result.id, *record.snapshot())
    record = ctx.model.model_validate({**write.payload, "id": result.id})
    return (result.id, *record.snapshot())


@dataclass
class InFlight:
    """A chunk whose writes are on their way: what finishing it needs."""

    side: Side
    decisions: list[Decision]
    #: (decision index, write index) -> the item sent
    items: dict[tuple[int, int], UpsertItem]
    futures: list[Future[list[UpsertResult]]]
    now: datetime
    #: already recorded (a dry run has nothing to wait for)
    recorded: bool = False


def _prepare_all(
    ctx: EntityContext, decisions: list[Decision]
) -> dict[tuple[int, int], UpsertItem]:
    """Map out every write of the chunk; a decision any of whose writes fails writes nothing."""
    items: dict[tuple[int, int], UpsertItem] = {}
    for index, decision in enumerate(decisions):
        prepared: dict[tuple[int, int], UpsertItem] = {}
        for number, write in enumerate(list(decision.writes)):
            if ctx.dry_run and _planned(write.payload):
                # it references a record the plan only means to create: there is no id to
                # map out yet, and the run will have one
                continue
            item = _prepare(ctx, decision, write)
            if item is None:
                prepared = {}
                break
            prepared[(index, number)] = item
        items.update(prepared)
    return items


def _planned(value: Any) -> bool:
    """Whether ``value`` holds a reference a dry run gave to a record it plans to create."""
    if isinstance(value, dict):
        return any(_planned(item) for item in value.values())
    if isinstance(value, list):
        return any(_planned(item) for item in value)
    return isinstance(value, str) and value == PLANNED


def start_chunk(
    ctx: EntityContext, side: Side, decisions: list[Decision], sender: Sender
) -> InFlight:
    """Prepare the chunk's writes, commit the intents of its creates, start sending.

    A dry run prepares the writes too (so the plan meets what the run would meet), then only
    records the decisions (here, at once).
    """
    now = datetime.now(UTC)
    items = _prepare_all(ctx, decisions)
    creates = [(key, item) for key, item in items.items() if item.is_create]
    # a create an interrupted run may have made is not sent again until that is settled
    sources = [decisions[i].record_id for (i, _n), _item in creates]
    held = held_creates(ctx, ctx.entity, other(side), sources) if creates else {}
    for (i, _n), _item in creates:
        rid = decisions[i].record_id
        suspect = ctx.suspects.get((decisions[i].side, rid))
        if rid in held or suspect is not None:
            _hold(decisions[i], held.get(rid) or suspect or "")
    items = {at: item for at, item in items.items() if decisions[at[0]].outcome != Outcome.UNKNOWN}
    if ctx.dry_run:
        for decision in decisions:
            if decision.new_link is not None or any(
                write.kind == "create" for write in decision.writes
            ):
                ctx.planned.add((ctx.entity, decision.side, decision.record_id))
                if decision.target_id is not None:
                    ctx.planned.add((ctx.entity, other(decision.side), decision.target_id))
        with ctx.engine.begin() as db:
            _record(ctx, db, side, decisions)
        return InFlight(side, decisions, {}, [], now, recorded=True)
    # each intent is committed right before its batch is handed to the connector
    intents = {
        item.key: intent(
            ctx,
            item.key,
            decisions[i].writes[n].target,
            decisions[i].record_id,
            decisions[i].writes[n].payload,
        )
        for (i, n), item in creates
        if (i, n) in items
    }
    futures: list[Future[list[UpsertResult]]] = []
    for target in SIDES:
        batch = [
            item for (i, n), item in items.items() if decisions[i].writes[n].target == target
        ]
        if batch:
            futures += sender.submit(
                ctx.connections[target], batch, partial(commit_intents, ctx, intents)
            )
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
        taken = _taken(ctx, db, decisions, items, results)
        kept_rows: set[str] = set()
        new_links: list[dict[str, Any]] = []
        stored: dict[Side, list[SnapshotRow]] = {}
        settled: list[tuple[int, str, str, str | None, str | None]] = []
        revived: list[int] = []
        retombstoned: dict[str, list[int]] = {}
        for index, decision in enumerate(decisions):
            if not decision.writes:
                _settle(decision, new_links, settled, now)
            else:
                _commit_writes(
                    ctx, index, decision, items, results, stored, new_links, settled, now,
                    taken, kept_rows,
                )
            failed = decision.outcome == Outcome.FAILED
            if decision.revive and decision.link_id is not None and not failed:
                revived.append(decision.link_id)
            if decision.tombstone is not None and decision.link_id is not None:
                retombstoned.setdefault(decision.tombstone, []).append(decision.link_id)
        ctx.links.settle_many(db, settled, now)
        ctx.links.revive(db, revived)
        for deleted, link_ids in retombstoned.items():
            ctx.links.tombstone(db, link_ids, deleted)
        ctx.links.drop_tombstones(
            db, [row["left_id"] for row in new_links], [row["right_id"] for row in new_links]
        )
        ctx.links.add(db, new_links)
        for target, rows in stored.items():
            # no match keys: a record just written is linked, and matching looks for
            # unlinked records only (its keys are rebuilt if the link goes: SideStore.rekey)
            ctx.stores[target].save_snapshots(db, rows, run_id, [], done=True)
        if creates:
            # a create whose outcome is unknown keeps its row: the next run looks for it
            keys = [
                item.key
                for item in creates
                if not ((result := results.get(item.key)) is not None and result.unknown)
                and item.key not in kept_rows
            ]
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


def _settle(
    decision: Decision,
    new_links: list[dict[str, Any]],
    settled: list[tuple[int, str, str, str | None, str | None]],
    now: datetime,
) -> None:
    """A decision without writes: link a match, or record a pair found in step as it is."""
    if decision.outcome == Outcome.FAILED or decision.hashes is None or decision.bases is None:
        return
    if decision.new_link is not None and decision.outcome == Outcome.LINKED:
        new_links.append(link_row(decision.new_link, decision.hashes, decision.bases, now))
    elif decision.settle and decision.link_id is not None:
        settled.append((decision.link_id, *decision.hashes, *decision.bases))


def _taken(
    ctx: EntityContext,
    db: Any,
    decisions: list[Decision],
    items: dict[tuple[int, int], UpsertItem],
    results: dict[str, UpsertResult],
) -> set[tuple[Side, str]]:
    """The ids the chunk's creates were answered with that a live link holds already."""
    answered: dict[Side, list[str]] = {"left": [], "right": []}
    for (index, number), item in items.items():
        result = results.get(item.key)
        if item.is_create and result is not None and result.ok and result.id is not None:
            answered[decisions[index].writes[number].target].append(str(result.id))
    return {
        (target, rid)
        for target, ids in answered.items()
        if ids
        for rid, link in ctx.links.by_side(db, target, ids).items()
        if link.deleted is None
    }


def _commit_writes(
    ctx: EntityContext,
    index: int,
    decision: Decision,
    items: dict[tuple[int, int], UpsertItem],
    results: dict[str, UpsertResult],
    stored: dict[Side, list[SnapshotRow]],
    new_links: list[dict[str, Any]],
    settled: list[tuple[int, str, str, str | None, str | None]],
    now: datetime,
    taken: set[tuple[Side, str]],
    kept_rows: set[str],
) -> None:
    """Collect the link, snapshots and merge bases of a decision's writes (stored in bulk).

    A decision any of whose writes failed is failed as a whole and keeps its old base: the
    writes that did go through are echoes next run (in step), the failed one is decided
    again. A create answered with the id of a record linked already (``taken``: a garbled
    answer) is not believed: its outcome is unknown, its outbox row stays (``kept_rows``).
    """
    if decision.outcome == Outcome.FAILED or decision.hashes is None or decision.bases is None:
        return
    hashes = list(decision.hashes)
    bases = list(decision.bases)
    ids: dict[Side, str] = {}
    rows: list[tuple[Side, SnapshotRow]] = []
    problems: list[str] = []
    unknown = False
    for number, write in enumerate(decision.writes):
        item = items.get((index, number))
        result = results.get(item.key) if item is not None else None
        if result is None or not result.ok or result.id is None:
            message = (
                result.error
                if result is not None and result.error
                else "the connector returned no result for this record"
            )
            if result is not None and result.unknown and write.kind == "create":
                unknown = True
                problems.append(
                    f"the {write.target} may have made it ({message}); the next run looks "
                    "for it there before creating it again"
                )
            else:
                problems.append(f"the {write.target} rejected it: {message}")
            continue
        if write.kind == "create" and item is not None:
            if (write.target, str(result.id)) in taken:
                unknown = True
                kept_rows.add(item.key)
                problems.append(
                    f"the {write.target} answered the create with id {result.id}, which "
                    "another record is linked to; the next run looks for the record it made "
                    "there before creating it again"
                )
                continue
            taken.add((write.target, str(result.id)))
        row = _stored(ctx, write, result)
        rows.append((write.target, row))
        at = 0 if write.target == "left" else 1
        ids[write.target] = row[0]
        hashes[at], bases[at] = _written_base(ctx, write, row, bases[at])
    for target, row in rows:  # what went through is stored either way: it is there
        stored.setdefault(target, []).append(row)
    if problems:
        (_hold if unknown else _fail)(decision, "; ".join(problems))
        return
    pair_hashes = (hashes[0], hashes[1])
    pair_bases = (bases[0], bases[1])
    create = next((w for w in decision.writes if w.kind == "create"), None)
    if create is not None:
        decision.target_id = ids[create.target]
        pair = _pair_ids(decision.side, decision.record_id, ids[create.target])
        new_links.append(link_row(pair, pair_hashes, pair_bases, now))
    elif decision.new_link is not None:
        new_links.append(link_row(decision.new_link, pair_hashes, pair_bases, now))
    elif decision.link_id is not None:
        settled.append((decision.link_id, *pair_hashes, *pair_bases))


def _written_base(
    ctx: EntityContext, write: Write, stored: SnapshotRow, read: str | None
) -> tuple[str, str]:
    """(hash, JSON) of the new merge base of a side just written.

    The fields written are taken as the system returned them (its own normalisation of our
    values is no change of its user's), the others as they were read before the write: a
    field a user changed on that side while the run was writing is then still a change next
    run, not silently part of the base. A create wrote every field.
    """
    if write.kind == "create" or read is None:
        return stored[1], stored[2]
    returned = loads(stored[2])
    base = {**loads(read), **{name: returned.get(name) for name in write.changed}}
    if base == returned:
        return stored[1], stored[2]
    try:
        return ctx.model.model_validate(base).snapshot()
    except Exception:  # a base that no longer validates: the record as returned
        return stored[1], stored[2]


def _pair_ids(side: Side, mine: str, theirs: str) -> tuple[str, str]:
    return (mine, theirs) if side == "left" else (theirs, mine)


def _record(ctx: EntityContext, db: Any, side: Side, decisions: list[Decision]) -> None:
    run_id = ctx.recorder.run_id
    ctx.stores[side].mark_done(db, [d.record_id for d in decisions], run_id)
    handled = [h for d in decisions for h in d.handled]
    if handled:
        ctx.stores[other(side)].mark_done(db, handled, run_id)
    # a pair the outbox recovered in this run was reported and counted as created then
    decisions = [
        d
        for d in decisions
        if not (
            (d.outcome == Outcome.UNCHANGED or d.in_step) and (side, d.record_id) in ctx.recovered
        )
    ]
    # records identical to their last sync (mostly echoes of our own writes) are counted, as
    # unchanged, but get no report row: a full run over 100k linked records must not write
    # 100k rows, and a summary counting them as skipped sent readers to rows that are not there
    ctx.recorder.items(
        db,
        [
            Item(ctx.entity, side, d.record_id, d.outcome, d.reason, d.target_id, d.detail)
            for d in decisions
            if d.outcome != Outcome.UNCHANGED
        ],
    )
    for decision in decisions:
        ctx.result.counts[decision.outcome] += 1
