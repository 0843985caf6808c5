"""One entity of one sync, from reading to recording: the stages in order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Connection

from syncbridge.describe import Capability
from syncbridge.engine.apply import InFlight, finish_chunk, start_chunk
from syncbridge.engine.context import BOTH, SIDES, EntityContext, Side, other
from syncbridge.engine.db import SideStore, SnapshotRow
from syncbridge.engine.decide import Decider
from syncbridge.engine.derive import derive_all
from syncbridge.engine.outbox import recover
from syncbridge.engine.read import ReadResult, filter_scope, read_side, retry_pending
from syncbridge.engine.report import EntityResult, Item
from syncbridge.engine.selection import Selection, check_unchanged
from syncbridge.engine.send import Sender
from syncbridge.errors import ConnectorError
from syncbridge.outcomes import Outcome

#: candidate records decided and applied together
CHUNK = 500


def _chunk_sizes() -> Iterator[int]:
    """A tenth of :data:`CHUNK`, two fifths, then whole chunks.

    Nothing is being sent while the first chunk is decided and prepared, so a small one
    gets the first writes out sooner; from then on the next chunk is decided while one is
    sent.
    """
    yield max(1, CHUNK // 10)
    yield max(1, CHUNK * 2 // 5)
    while True:
        yield CHUNK


def _keyed_sides(ctx: EntityContext, db: Connection) -> None:
    """Decide which sides keep match keys, and (re)build those that lack them.

    Only a side that the other side's records are matched against needs keys: the target of
    a one-way sync, both sides of a two-way one. Keys are a row per record and level, so a
    one-way full read saves a third of its writes by not keeping them for its source. Once a
    side has keys they are kept up to date (a ``push`` against the direction builds them
    once, not at every push); a changed cascade rebuilds them all.
    """
    meta = SideStore(ctx.sync, ctx.entity, "match")
    stored = meta.cursor(db)
    levels = ctx.match_levels
    try:
        state = json.loads(stored) if stored else None
    except ValueError:
        state = None
    if isinstance(state, list):  # written before keys were kept per side: both have them
        state = {"levels": state, "keyed": list(SIDES)}
    if isinstance(state, dict) and state.get("levels") == levels:
        keyed: set[Side] = {side for side in SIDES if side in state.get("keyed", [])}
    else:  # first run, or the cascade changed: whatever keys exist are stale
        for side in SIDES:
            ctx.stores[side].drop_match_keys(db)
        keyed = set()
    for side in SIDES:
        if side in keyed or not ctx.rule.allows(other(side)):
            continue
        store = ctx.stores[side]
        batch: list[SnapshotRow] = []
        for row in store.all_snapshots(db):
            batch.append(row)
            if len(batch) >= CHUNK:
                store.save_match_keys(db, batch, levels)
                batch = []
        store.save_match_keys(db, batch, levels)
        keyed.add(side)
    signature = json.dumps({"levels": levels, "keyed": sorted(keyed)})
    if signature != stored:
        meta.set_cursor(db, signature)
    ctx.keyed = frozenset(keyed)


def _fixed_links(ctx: EntityContext, db: Connection) -> None:
    """Links the config pins (``links = {"0" = "22"}``) replace whatever matching found."""
    now = datetime.now(UTC)
    for left_id, right_id in ctx.rule.links.items():
        left = ctx.links.by_side(db, "left", [left_id]).get(left_id)
        if left is not None and left.right_id == right_id:
            continue
        stale = [
            link
            for link in (left, ctx.links.by_side(db, "right", [right_id]).get(right_id))
            if link is not None
        ]
        ctx.links.remove(db, [link.id for link in stale])
        # their other halves are unlinked now: findable by their keys again
        ctx.stores["left"].rekey(
            db, [link.left_id for link in stale if link.left_id != left_id], ctx.keys_of("left")
        )
        ctx.stores["right"].rekey(
            db,
            [link.right_id for link in stale if link.right_id != right_id],
            ctx.keys_of("right"),
        )
        ctx.links.add(
            db,
            [
                {
                    "left_id": left_id,
                    "right_id": right_id,
                    "left_hash": "",
                    "right_hash": "",
                    "synced_at": now,
                }
            ],
        )


def _planned_links(ctx: EntityContext) -> None:
    """The pinned links a run would apply first, for a plan, which stores nothing."""
    with ctx.engine.connect() as db:
        for left_id, right_id in ctx.rule.links.items():
            link = ctx.links.by_side(db, "left", [left_id]).get(left_id)
            if link is not None and link.right_id == right_id:
                continue
            ctx.pinned_pairs.append((left_id, right_id))
            stale = [
                link
                for link in (link, ctx.links.by_side(db, "right", [right_id]).get(right_id))
                if link is not None
            ]
            ctx.overlay.remove(link.id for link in stale)
            for side in SIDES:
                pinned = left_id if side == "left" else right_id
                halves = [
                    half
                    for link in stale
                    if (half := link.left_id if side == "left" else link.right_id) != pinned
                ]
                ctx.overlay.rekey(
                    side, ctx.stores[side].snapshot_rows(db, halves), ctx.keys_of(side)
                )


def _gone(ctx: EntityContext, side: Side, ids: list[str], twins_gone: set[str]) -> None:
    """Records that disappeared from ``side``: delete the linked twin, or keep a tombstone.

    With ``deletes = true`` (and a target that can delete) the twin is deleted and the link
    goes. Otherwise the twin is kept and the link stays as a tombstone naming ``side``: the
    kept twin is then neither created again where it was deleted nor matched to another
    record (docs/concepts/merge.md, Deletions). A pair gone from both sides (``twins_gone``
    holds what went from the other side in this run), or the twin of a tombstone that goes
    too, keeps its link as a tombstone naming both sides, so that neither record, restored
    later, brings the other back; only a pair deleted on both sides at once in an entity
    whose deletions propagate loses its link.
    """
    if not ids:
        return
    target = other(side)
    connection = ctx.connections[target]
    def twin_of(link: Any) -> str:
        return str(link.right_id if side == "left" else link.left_id)

    with ctx.engine.begin() as db:
        links = ctx.links.by_side(db, side, ids)
        # a tombstone's deleted twin read again (restored, same id): it is the kept one now
        back = {
            rid
            for rid, _digest, _data in ctx.stores[target].snapshot_rows(
                db, [twin_of(link) for link in links.values() if link.deleted == target]
            )
        } - twins_gone
    propagate = (
        ctx.rule.deletes and ctx.rule.allows(side) and connection.can(ctx.entity, Capability.DELETE)
    )
    items: list[Item] = []
    deleted: dict[str, bool] = {}
    # known gone here already (a connector reporting a deletion twice), or both
    known = {rid for rid, link in links.items() if link.deleted in (side, BOTH)}
    # both records of the pair gone: nothing left to keep in step
    both_gone = {
        rid
        for rid, link in links.items()
        if rid not in known
        and ((link.deleted == target and twin_of(link) not in back) or twin_of(link) in twins_gone)
    }
    # deleted on both sides at once where deletions propagate: nothing to keep apart either
    unlinked = [rid for rid in both_gone if links[rid].deleted is None and ctx.rule.deletes]
    both = [rid for rid in both_gone if rid not in unlinked]
    twins = {
        rid: twin_of(link)
        for rid, link in links.items()
        if rid not in both_gone and rid not in known
    }
    if propagate and twins and not ctx.dry_run:
        results = {r.key: r for r in connection.delete(ctx.entity, list(twins.values()))}
        ctx.result.writes += len(twins)
        for rid, twin in twins.items():
            result = results.get(twin)
            deleted[rid] = result is not None and result.ok
            if not deleted[rid]:
                reason = result.error if result is not None and result.error else "no result"
                items.append(
                    Item(
                        ctx.entity,
                        side,
                        rid,
                        Outcome.FAILED,
                        f"deleting {target} {twin} failed: {reason}",
                        twin,
                    )
                )
    for rid, twin in twins.items():
        if propagate and (ctx.dry_run or deleted.get(rid)):
            items.append(
                Item(
                    ctx.entity,
                    side,
                    rid,
                    Outcome.DELETED,
                    f"deleted on the {side}; {target} {twin} deleted too",
                    twin,
                )
            )
        elif not propagate:
            items.append(
                Item(
                    ctx.entity,
                    side,
                    rid,
                    Outcome.MISSING,
                    f"deleted on the {side}, kept on the {target} ({twin}); it is not created "
                    "again (deletions are not propagated: set deletes = true)",
                    twin,
                )
            )
    for item in items:
        ctx.result.counts[item.action] += 1
    failed = {item.record_id for item in items if item.action == Outcome.FAILED}
    done = [rid for rid in twins if deleted.get(rid) or (propagate and ctx.dry_run)]
    kept = [rid for rid in twins if rid not in failed and rid not in done]
    with ctx.engine.begin() as db:
        ctx.recorder.items(db, items)
        if ctx.dry_run:  # what the run would store, for the plan's decisions
            ctx.overlay.forget(side, ids)
            ctx.overlay.forget(target, [twins[rid] for rid in done])
            ctx.overlay.remove(links[rid].id for rid in [*done, *unlinked])
            ctx.overlay.tombstone((links[rid].id for rid in kept), side)
            ctx.overlay.tombstone((links[rid].id for rid in both), BOTH)
            rows = ctx.stores[target].snapshot_rows(db, [twins[rid] for rid in kept])
            ctx.overlay.rekey(target, rows, ctx.keys_of(target))
            return
        ctx.stores[side].forget(db, ids)
        ctx.stores[side].clear_pending(db, ids)
        ctx.links.remove(db, [links[rid].id for rid in [*done, *unlinked]])
        ctx.stores[target].forget(db, [twins[rid] for rid in done])
        ctx.links.tombstone(db, [links[rid].id for rid in kept], side)
        ctx.links.tombstone(db, [links[rid].id for rid in both], BOTH)
        # a kept twin is a match candidate again (see SideStore.find_matches): its keys
        # were not kept while it was linked
        ctx.stores[target].rekey(db, [twins[rid] for rid in kept], ctx.keys_of(target))


def _decide_and_apply(ctx: EntityContext, side: Side, claimed: set[tuple[Side, str]]) -> None:
    """Decide and write ``side``'s candidates a chunk at a time, two chunks in the air.

    While a chunk's writes are being sent, the next chunk is decided, prepared and started;
    only then is the first one finished (its results committed). Each chunk keeps the
    crash-safe order of its own: intents committed before sending, results after.
    """
    store = ctx.stores[side]
    after = ""
    in_flight: InFlight | None = None
    sizes = _chunk_sizes()
    with Sender(ctx.entity) as sender:
        while True:
            with ctx.engine.connect() as db:
                ids = store.candidate_ids(db, ctx.recorder.run_id, after, next(sizes))
                decisions = Decider(ctx, db, claimed).chunk(side, ids) if ids else []
            started = start_chunk(ctx, side, decisions, sender) if ids else None
            if in_flight is not None:
                finish_chunk(ctx, in_flight)
                ctx.progress(f"sync {side}", len(in_flight.decisions))
                ctx.renew()
            if started is None:
                return
            in_flight = started
            after = ids[-1]


def _as_of(ctx: EntityContext, reads: dict[Side, ReadResult]) -> str | None:
    """The latest date of the records a source side read in this run, for an entity whose
    content is dated (``CanonicalRecord.as_of``: the statistics' day), else None."""
    name = ctx.model.as_of
    if name is None:
        return None
    latest: str | None = None
    with ctx.engine.connect() as db:
        for side in reads:
            if not ctx.rule.allows(side):
                continue
            for _rid, _digest, data in ctx.stores[side].seen_snapshots(db, ctx.recorder.run_id):
                value = json.loads(data).get(name)
                if isinstance(value, str) and (latest is None or value > latest):
                    latest = value
    return latest


def sync_entity(
    ctx: EntityContext,
    record: tuple[Side, str] | None = None,
    selection: Selection | None = None,
) -> EntityResult:
    """Run the stages for one entity; connector-wide failures end it with the reason.

    ``record`` (one record) or ``selection`` (ticked records, :mod:`.selection`) limit the
    run to those records, read by id: no cursor moves and nothing pending is retried.
    """
    ctx.recorder.start_entity(ctx.entity)
    result = ctx.result
    try:
        if not ctx.dry_run:
            recover(ctx)
        with ctx.engine.begin() as db:
            _keyed_sides(ctx, db)
        if not ctx.dry_run:
            with ctx.engine.begin() as db:
                _fixed_links(ctx, db)
        else:
            _planned_links(ctx)
        reads: dict[Side, ReadResult] = {}
        picked = {record[0]: [record[1]]} if record else selection.ids() if selection else None
        sides: tuple[Side, ...] = tuple(picked) if picked is not None else SIDES
        for side in sides:
            reads[side] = read_side(ctx, side, ids=picked[side] if picked else None)
        if selection is not None:
            check_unchanged(ctx, selection)
        gone: dict[Side, set[str]] = {}
        for side, read in reads.items():
            gone[side] = set(read.deleted)
            if read.complete:
                with ctx.engine.connect() as db:
                    unseen = ctx.stores[side].unseen_ids(db, ctx.recorder.run_id)
                gone[side].update(rid for rid in unseen if rid not in read.failed)
        for side, read in reads.items():
            _gone(ctx, side, sorted(gone[side]), gone.get(other(side), set()))
            if picked is None:
                retry_pending(ctx, side, read)
        order: tuple[Side, ...] = (
            ("right", "left") if ctx.rule.direction == "right-to-left" else SIDES
        )
        # records gone in this run, and both records of a pinned link, are nobody's match
        # (a plan, which forgets and pins nothing, must decide as the run does)
        claimed: set[tuple[Side, str]] = {
            (side, rid) for side, ids in gone.items() for rid in ids
        }
        for left_id, right_id in ctx.pinned_pairs:
            claimed.update({("left", left_id), ("right", right_id)})
        for side in order:
            if side in reads:
                _decide_and_apply(ctx, side, claimed)
        derive_all(ctx)
        dated = _as_of(ctx, reads)
        if dated is not None:
            result.message = f"as of {dated}"
        if not ctx.dry_run and picked is None:
            with ctx.engine.begin() as db:
                for side, read in reads.items():
                    if read.cursor is not None:
                        ctx.stores[side].set_cursor(db, read.cursor)
                        # the filter the cursor was read with: a cursor of another is void
                        filter_scope(ctx, side).set_cursor(db, read.scope)
        result.result = "failed" if result.counts[Outcome.FAILED] else "ok"
    except (ConnectorError, httpx.HTTPError) as error:
        result.result = "error"
        result.message = f"{type(error).__name__}: {error}"
    finally:
        ctx.recorder.finish_entity(result)
        for connection in ctx.connections.values():
            connection.flush_log(due_only=False)  # a daemon's log is complete between runs
    return result
