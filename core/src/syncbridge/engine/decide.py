"""Stage 2: decide what to do with each changed record (the plan).

Pure decisions over snapshots, links and their merge bases: nothing here writes to either
side. ``plan`` records these decisions; ``run`` hands them to :mod:`syncbridge.engine.apply`.
The rule for each field is :func:`syncbridge.engine.merge.merge_fields`, the model written in
docs/concepts/merge.md.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Literal

import orjson
from sqlalchemy import Connection

from syncbridge.describe import Capability
from syncbridge.engine.context import BOTH, EntityContext, Side, other
from syncbridge.engine.db import loads
from syncbridge.engine.invariants import compare
from syncbridge.engine.merge import FieldMerge, merge_fields
from syncbridge.engine.translate import Translator, differences
from syncbridge.engine.values import match_value, matches_filter
from syncbridge.models import Invoice, Order, Quote
from syncbridge.outcomes import Outcome

UNCHANGED = "unchanged since the last sync"
IN_STEP = "already in step"


@dataclass
class Write:
    """One write a decision makes: a create or an update of one record on ``target``."""

    target: Side
    kind: Literal["create", "update"]
    #: the record updated (None for a create)
    target_id: str | None
    #: the canonical record to write, whole (validated and mapped out by apply)
    payload: dict[str, Any]
    changed: frozenset[str]


@dataclass
class Decision:
    """What happens to one record: the outcome reported, and the writes that achieve it."""

    side: Side
    record_id: str
    outcome: Outcome
    reason: str = ""
    writes: list[Write] = field(default_factory=list)
    #: the twin on the other side (for the report), once known
    target_id: str | None = None
    link_id: int | None = None
    #: (left_id, right_id) of a link made by matching, stored when the decision is applied
    new_link: tuple[str, str] | None = None
    #: (left, right) fingerprints of the pair as read; a written side's is replaced by
    #: what the write stored
    hashes: tuple[str, str] | None = None
    #: (left, right) canonical JSON of the pair as read: the new merge base, likewise
    bases: tuple[str | None, str | None] | None = None
    #: store hashes and bases although nothing is written: the pair is in step as it is
    settle: bool = False
    #: the link was a tombstone of this record, which is back: make it live again
    revive: bool = False
    #: set the link's ``deleted`` to this (a record of a pair deleted on both sides is back:
    #: its twin's deletion is what the tombstone names now)
    tombstone: str | None = None
    detail: dict[str, Any] | None = None
    #: (FAILED or WAITING, reason) to retry this record next run
    pending: tuple[str, str] | None = None
    #: ids of the other side handled by this decision (not to be treated again this run)
    handled: tuple[str, ...] = ()
    #: the pair is in step as read: nothing to write (reported as skipped, or, when nothing
    #: changed since the last sync either, counted as unchanged)
    in_step: bool = False


def _pair(side: Side, mine: Any, theirs: Any) -> tuple[Any, Any]:
    return (mine, theirs) if side == "left" else (theirs, mine)


def _json(content: dict[str, Any]) -> str:
    return orjson.dumps(content).decode()


def winner_of(ctx: EntityContext) -> Side:
    """Who wins a disagreement: the only source of a one-way sync, else priority."""
    if ctx.rule.direction == "left-to-right":
        return "left"
    if ctx.rule.direction == "right-to-left":
        return "right"
    return ctx.rule.priority


def sources_of(ctx: EntityContext) -> frozenset[Side]:
    """The sides whose changes may flow."""
    return frozenset(side for side in ("left", "right") if ctx.rule.allows(side))  # type: ignore[misc]


def failed(side: Side, rid: str, error: Exception) -> Decision:
    """Anything raised while one record is decided fails that record, not the run."""
    reason = f"{type(error).__name__}: {error}"
    return Decision(side, rid, Outcome.FAILED, reason, pending=(Outcome.FAILED, reason))


class Decider:
    """Decides one chunk of candidate records of one side at a time."""

    def __init__(self, ctx: EntityContext, db: Connection, claimed: set[tuple[Side, str]]) -> None:
        self.ctx, self.db = ctx, db
        self.translator = Translator(ctx, db)
        #: records of either side linked by matching earlier in this run (dry runs included)
        self.claimed = claimed
        self._candidates: dict[str, tuple[str, dict[str, Any]]] = {}

    def chunk(self, side: Side, ids: list[str]) -> list[Decision]:
        ctx, db = self.ctx, self.db
        target = other(side)
        if ctx.dry_run:  # records the run forgets before deciding are not decided
            ids = [rid for rid in ids if rid not in ctx.overlay.forgotten[side]]
        mine = ctx.stores[side].snapshots(db, ids)
        links = ctx.links.by_side(db, side, ids)
        if ctx.dry_run:
            links = ctx.overlay.links(links)
        for left_id, right_id in ctx.pinned_pairs:  # a plan's pins, as the run makes them
            pinned = left_id if side == "left" else right_id
            if pinned in mine:
                links[pinned] = SimpleNamespace(
                    id=None, left_id=left_id, right_id=right_id, left_hash="",
                    right_hash="", left_base=None, right_base=None, deleted=None,
                )
        theirs_ids = [link.right_id if side == "left" else link.left_id for link in links.values()]
        theirs = ctx.stores[target].snapshots(db, theirs_ids)
        if ctx.dry_run:  # gone in this run: forgotten by a run before it decides
            theirs = {k: v for k, v in theirs.items() if k not in ctx.overlay.forgotten[target]}
        self.translator.prefetch(side, [content for _h, content in mine.values()])
        self.translator.prefetch(target, [content for _h, content in theirs.values()])
        unlinked = [rid for rid in ids if rid in mine and rid not in links]
        try:
            matches = self._match(side, {rid: mine[rid][1] for rid in unlinked})
        except Exception as error:
            return [failed(side, rid, error) for rid in ids if rid in mine]
        # the candidates matching found, read in one query rather than one per record
        self._candidates = ctx.stores[target].snapshots(
            db, [found[1] for found in matches.values() if found[0] == "one"]
        )
        self.translator.prefetch(target, [content for _h, content in self._candidates.values()])
        decisions = []
        for rid in ids:
            if rid not in mine:
                continue
            digest, content = mine[rid]
            try:
                decision = self._decide(
                    side, rid, digest, content, links.get(rid), theirs, matches.get(rid)
                )
            except Exception as error:
                decision = failed(side, rid, error)
            if decision is not None:
                decisions.append(decision)
        return decisions

    def _decide(
        self,
        side: Side,
        rid: str,
        digest: str,
        content: dict[str, Any],
        link: Any,
        theirs: dict[str, tuple[str, dict[str, Any]]],
        match: Any,
    ) -> Decision | None:
        target = other(side)
        if link is None:
            return self._unlinked(side, rid, digest, content, match)
        their_id = link.right_id if side == "left" else link.left_id
        found = theirs.get(their_id)
        if link.deleted in (target, BOTH) and found is None:
            # (of a pair deleted on both sides, this one is back: it is the kept one now)
            return self._kept(side, rid, digest, content, link, their_id)
        # (a tombstone whose deleted twin was read again, restored with its id, is live)
        if found is None:
            return Decision(
                side,
                rid,
                Outcome.MISSING,
                target_id=their_id,
                reason=f"linked {target} record {their_id} is gone",
            )
        return self._linked(side, rid, digest, content, link, their_id, found)

    # -- linked records -------------------------------------------------------------------
    def _linked(
        self,
        side: Side,
        rid: str,
        digest: str,
        content: dict[str, Any],
        link: Any,
        their_id: str,
        found: tuple[str, dict[str, Any]],
    ) -> Decision:
        ctx = self.ctx
        their_digest = found[0]
        my_link_hash = link.left_hash if side == "left" else link.right_hash
        their_link_hash = link.right_hash if side == "left" else link.left_hash
        revive = link.deleted is not None  # one of the pair was deleted, and is back
        if not (digest != my_link_hash or their_digest != their_link_hash or ctx.full or revive):
            return Decision(
                side, rid, Outcome.UNCHANGED, UNCHANGED, target_id=their_id, link_id=link.id,
                handled=(their_id,),
            )
        bases = None
        if link.left_base is not None and link.right_base is not None:
            bases = (loads(link.left_base), loads(link.right_base))
        decision = self._merge(
            side, rid, (digest, content), their_id, found, bases, how=None
        )
        decision.link_id = link.id
        decision.revive = revive
        if decision.in_step and (
            digest == my_link_hash and their_digest == their_link_hash and bases is not None
        ):
            # a full run over a pair in step: nothing to report
            decision.outcome, decision.reason = Outcome.UNCHANGED, UNCHANGED
        return decision

    def _kept(
        self, side: Side, rid: str, digest: str, content: dict[str, Any], link: Any, their_id: str
    ) -> Decision:
        """A record whose twin was deleted on the other side and kept here (a tombstone)."""
        target = other(side)
        my_hash = link.left_hash if side == "left" else link.right_hash
        their_hash = link.right_hash if side == "left" else link.left_hash
        their_base = link.right_base if side == "left" else link.left_base
        del content  # the base stays what it was (see below)
        outcome, reason = Outcome.UNCHANGED, UNCHANGED
        if digest != my_hash:
            outcome, reason = Outcome.SKIPPED, (
                f"its {target} twin {their_id} was deleted there; kept here and not created "
                "again (deletions are not propagated)"
            )
        # reported once (its hash is stored), but merged against its old base if the deleted
        # twin comes back: what changed here meanwhile then flows to it
        my_base = link.left_base if side == "left" else link.right_base
        return Decision(
            side,
            rid,
            outcome,
            reason,
            target_id=their_id,
            link_id=link.id,
            hashes=_pair(side, digest, their_hash),
            bases=_pair(side, my_base, their_base),
            settle=digest != my_hash,
            handled=(their_id,),
            tombstone=target if link.deleted == BOTH else None,
        )

    def _merge(
        self,
        side: Side,
        rid: str,
        mine: tuple[str, dict[str, Any]],
        their_id: str,
        theirs: tuple[str, dict[str, Any]],
        bases: tuple[dict[str, Any], dict[str, Any]] | None,
        how: str | None,
    ) -> Decision:
        """Merge a pair (linked, or just matched when ``how`` says on what) per field."""
        ctx = self.ctx
        target = other(side)
        classified = self.translator.classified
        contents = _pair(side, classified(mine[1]), classified(theirs[1]))
        ids = _pair(side, rid, their_id)
        left, right = contents
        left_as_right, missing_left = self.translator.project("left", left)
        right_as_left, missing_right = self.translator.project("right", right)
        pairs = [(ctx.rule.fields.get(name, name), name) for name in left_as_right]
        winner = winner_of(ctx)
        merged = merge_fields(
            pairs,
            left,
            right,
            left_as_right,
            right_as_left,
            self.translator.comparable(right),
            bases,
            sources_of(ctx),
            winner,
            ctx.full or bases is None,
        )
        base: dict[str, Any] = {
            "target_id": their_id,
            "handled": (their_id,),
            "hashes": _pair(side, mine[0], theirs[0]),
            "bases": (_json(left), _json(right)),
            "new_link": ids if how is not None else None,
        }
        proposed: dict[Side, dict[str, Any]] = {"left": merged.to_left, "right": merged.to_right}
        self._assigned(proposed, {"left": left_as_right, "right": right_as_left})
        missing: dict[Side, list[str]] = {"left": missing_right, "right": missing_left}
        sources: dict[Side, dict[str, Any]] = {"left": right, "right": left}  # by side written
        blocked: list[str] = []
        #: values a locked record of one side would have taken: a conflict, reported until
        #: resolved, which never holds back what flows to the other side
        locked: dict[Side, dict[str, Any]] = {}
        filtered = False
        written: Side
        for written in ("left", "right"):
            values = proposed[written]
            if not values:
                continue
            if not matches_filter(sources[written], ctx.rule.filter):
                proposed[written], filtered = {}, True
                continue
            if missing[written]:
                reason = _waiting(missing[written], other(written))
                return Decision(
                    side, rid, Outcome.WAITING, reason, pending=(Outcome.WAITING, reason),
                    **{**base, "new_link": None},
                )
            index = 0 if written == "left" else 1
            proposed[written] = self._differing(
                written, ids[index], contents[index], values
            )
            if proposed[written] and (
                not ctx.may_update or not ctx.connections[written].can(
                    ctx.entity, Capability.UPDATE
                )
            ):
                blocked.append(f"updating the {written} is off")
                proposed[written] = {}
            elif proposed[written] and contents[index].get("locked"):
                locked[written] = proposed[written]
                proposed[written] = {}
        writes = [
            Write(
                written,
                "update",
                ids[0 if written == "left" else 1],
                self.translator.merged(contents[0 if written == "left" else 1], values),
                frozenset(values),
            )
            for written, values in proposed.items()
            if values
        ]
        if locked:
            # what flows to the other side is written; the pair's base stays as it was, so
            # the locked side's difference is reported again until someone resolves it there
            stuck = f"the {next(iter(locked))} record is" if len(locked) == 1 else "both are"
            return Decision(
                side,
                rid,
                Outcome.CONFLICT,
                f"{stuck} locked (issued); not overwritten, change it there by the system's "
                "own rules (e.g. a credit note)",
                writes=writes,
                detail=self._detail(merged, {**proposed, **locked}, contents),
                **{**base, "bases": None},
            )
        detail = self._detail(merged, proposed, contents)
        matched = f"matched {target} {their_id} on {'+'.join(how)}" if how is not None else ""
        conflicts = [name for name in merged.conflicts if detail and name in detail]
        if writes:
            targets = sorted(w.target for w in writes)
            if conflicts:
                outcome = Outcome.CONFLICT
                reason = (
                    f"changed on both sides; {winner} wins by priority"
                    if how is None
                    else f"{matched}; values differ, the {winner}'s kept"
                )
            else:
                outcome = Outcome.UPDATED
                if how is not None:
                    reason = f"{matched}; " + " and ".join(
                        f"{t} updated from the {other(t)}" for t in targets
                    )
                elif len(targets) == 2:
                    reason = "changed on both sides, in different fields"
                else:
                    reason = f"changed on the {other(targets[0])}"
            return Decision(side, rid, outcome, reason, writes=writes, detail=detail, **base)
        if how is not None:
            reason = matched
            if blocked:
                reason += f"; values differ but {' and '.join(blocked)}"
            return Decision(side, rid, Outcome.LINKED, reason, **base)
        if blocked:
            return Decision(
                side, rid, Outcome.SKIPPED, f"differs, but {' and '.join(blocked)}",
                **{**base, "bases": None},
            )
        if filtered:
            return Decision(
                side, rid, Outcome.FILTERED, "outside the entity's filter",
                **{**base, "bases": None},
            )
        if merged.held and self._held_differs(merged, ids, contents, left_as_right, right_as_left):
            held_side = merged.held[0][0]
            return Decision(
                side,
                rid,
                Outcome.SKIPPED,
                f"changed on the {held_side} only; direction is {ctx.rule.direction}",
                settle=True,
                **base,
            )
        return Decision(side, rid, Outcome.SKIPPED, IN_STEP, settle=True, in_step=True, **base)

    def _held_differs(
        self,
        merged: FieldMerge,
        ids: tuple[str, str],
        contents: tuple[dict[str, Any], dict[str, Any]],
        left_as_right: dict[str, Any],
        right_as_left: dict[str, Any],
    ) -> bool:
        """Whether a change on a side that does not flow differs as the source would hold it.

        The change may be one only that side's own system makes (a default it fills in, a
        stage it cannot tell from another): mapped into the source's terms it is what the
        source already holds, so the pair is in step as the flowing side sees it.
        """
        fields = self.ctx.rule.fields
        to_left = {
            fields.get(name, name): right_as_left.get(fields.get(name, name))
            for side, name in merged.held
            if side == "right"
        }
        to_right = {
            self._right_name(name): left_as_right.get(self._right_name(name))
            for side, name in merged.held
            if side == "left"
        }
        return bool(
            (to_left and self._differing("left", ids[0], contents[0], to_left))
            or (to_right and self._differing("right", ids[1], contents[1], to_right))
        )

    def _detail(
        self,
        merged: FieldMerge,
        proposed: dict[Side, dict[str, Any]],
        contents: tuple[dict[str, Any], dict[str, Any]],
    ) -> dict[str, Any] | None:
        """Each field written, with its before and after, and both values of a conflict."""
        detail: dict[str, Any] = {}
        for written, values in proposed.items():
            held = contents[0 if written == "left" else 1]
            for name, value in sorted(values.items()):
                row: dict[str, Any] = {"to": written, "before": held.get(name), "after": value}
                right_name = name if written == "right" else self._right_name(name)
                conflict = merged.conflicts.get(right_name)
                if conflict is not None:
                    row.update(conflict)
                detail[name] = row
        return detail or None

    def _right_name(self, left_name: str) -> str:
        for right_name, source in self.ctx.rule.fields.items():
            if source == left_name:
                return right_name
        return left_name

    def _assigned(
        self, proposed: dict[Side, dict[str, Any]], projected: dict[Side, dict[str, Any]]
    ) -> None:
        """Fields a side's system assigns (its read-only ones) are never written there; its
        value is the truth, and goes to the other side wherever this side's changes flow
        (those equal there already are dropped later, with every value held already)."""
        ctx = self.ctx
        held: Side
        for held in ("left", "right"):
            fixed = ctx.read_only[held]
            if not fixed:
                continue
            there = other(held)
            proposed[held] = {k: v for k, v in proposed[held].items() if k not in fixed}
            if ctx.rule.allows(held):
                flowing = fixed - ctx.read_only[there] - set(ctx.rule.fields)
                proposed[there] = {
                    **proposed[there],
                    **{name: projected[held][name] for name in flowing if name in projected[held]},
                }

    def _differing(
        self,
        loser: Side,
        loser_id: str,
        theirs: dict[str, Any],
        projected: dict[str, Any],
    ) -> dict[str, Any]:
        """The part of ``projected`` that differs from what ``loser`` holds (``theirs``),
        compared as the loser would hold it.

        A system may hold fewer distinct values than the canonical model: Bitrix24 keeps one
        stage for "sent", "issued" and "overdue", so an invoice written as "issued" reads
        back as "sent". Compared as they are, such values differ forever and every full run
        would rewrite the record. What the loser would hold is what its own mapping makes of
        the write and back (``map`` out, then in); when that cannot be worked out offline (a
        mapping that fails on a partial record), the plain difference stands.
        """
        theirs_now = self.translator.comparable(theirs)
        diff = differences(projected, theirs_now)
        if not diff:
            return {}
        ctx = self.ctx
        connection = ctx.connections[loser]
        payload = self.translator.merged(theirs, projected)
        try:
            record = ctx.model.model_validate({**payload, "id": loser_id})
            context: dict[str, Any] = {}  # what map(out) notes beside the record
            native = connection.map_out(ctx.entity, record, context)
            # as a read would give it: with its id, which map(out) leaves to the write
            native.setdefault(connection.info.entities[ctx.entity].id_field, loser_id)
            held = connection.map_in(ctx.entity, native, context)
        except Exception:  # judged by the plain difference; apply reports what fails
            return {name: projected[name] for name in sorted(diff)}
        if (
            isinstance(record, Quote | Order | Invoice)
            and isinstance(held, Quote | Order | Invoice)
            and compare(record, held, loser) is not None
        ):
            # the loser cannot carry the document's amounts: not "in step", a write that
            # apply refuses with the amounts (engine/invariants.py)
            return {name: projected[name] for name in sorted(diff)}
        held_now = self.translator.comparable(held.content())
        return {
            name: projected[name]
            for name in sorted(diff)
            if held_now.get(name) != theirs_now.get(name)
        }

    # -- unlinked records -----------------------------------------------------------------
    def _match(self, side: Side, contents: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """For each unlinked record: ("one", id, key) / ("many", ids, key, group) / None.

        Ambiguity belongs to the group: a record with one candidate is still ambiguous when
        other unlinked records of its own side share the key (they would compete for the
        same candidate), so that nobody in the group is linked or created from either side.
        """
        ctx = self.ctx
        if not contents or not ctx.rule.allows(side):
            return {}
        target = other(side)
        target_store = ctx.stores[target]
        own_store = ctx.stores[side]
        found: dict[str, Any] = {}
        given: set[str] = set()
        contested: set[str] = set()
        remaining = dict(contents)
        for level, fields in enumerate(ctx.match_levels):
            values = {rid: match_value(content, fields) for rid, content in remaining.items()}
            wanted = sorted({value for value in values.values() if value is not None})
            if not wanted:
                continue
            candidates = target_store.find_matches(self.db, level, wanted)
            peers: dict[str, list[str]] = {}
            if side in ctx.keyed:
                peers = own_store.find_matches(self.db, level, wanted)
            if ctx.dry_run:
                candidates = ctx.overlay.matches(target, level, wanted, candidates)
                peers = ctx.overlay.matches(side, level, wanted, peers)
            local = Counter(value for value in values.values() if value is not None)
            stricter = set(found)  # the records a stricter key has decided
            for rid, value in values.items():
                # linked by matching earlier in this run: as good as linked (a plan does
                # not store its links, and a run's last chunk may not be committed yet)
                every = candidates.get(value or "", [])
                ids = [c for c in every if (target, c) not in self.claimed and c not in given]
                if not ids:
                    continue
                # a record matched on a stricter key is out of the competition here
                group = {
                    p
                    for p in peers.get(value or "", [])
                    if (side, p) not in self.claimed and p not in stricter
                }
                group.add(rid)
                crowded = len(group) > 1 or (side not in ctx.keyed and local[value or ""] > 1)
                if len(ids) == 1 and not crowded and ids[0] not in contested:
                    found[rid] = ("one", ids[0], fields)
                else:  # several candidates, or competitors for the one there is
                    found[rid] = ("many", sorted(ids), fields, sorted(group))
            # what this level decided binds the looser keys: a twin found here is nobody
            # else's candidate (as a twin linked by an earlier chunk is not), and a candidate
            # left ambiguous here makes whoever else finds it ambiguous too
            for match in found.values():
                if match[0] == "one":
                    given.add(match[1])
                else:
                    contested.update(match[1])
            remaining = {rid: c for rid, c in remaining.items() if rid not in found}
            if not remaining:
                break
        return found

    def _unlinked(
        self, side: Side, rid: str, digest: str, content: dict[str, Any], match: Any
    ) -> Decision | None:
        ctx = self.ctx
        target = other(side)
        if not ctx.rule.allows(side):
            return None  # only a match candidate for the other side's records
        if not matches_filter(content, ctx.rule.filter):
            return Decision(side, rid, Outcome.FILTERED, "outside the entity's filter")
        if match is not None and match[0] == "many":
            candidates, key, group = match[1], match[2], match[3]
            peers = [p for p in group if p != rid]
            verb = "records match" if len(candidates) > 1 else "record matches"
            reason = (
                f"{len(candidates)} {target} {verb} on {'+'.join(key)}: {', '.join(candidates)}"
            )
            if peers:
                reason += f", as do {side} {', '.join(peers)}"
            reason += "; link one in the config (links) or make the records distinguishable"
            return Decision(
                side,
                rid,
                Outcome.AMBIGUOUS,
                reason,
                detail={"candidates": candidates, "key": key, "group": group},
                pending=(Outcome.WAITING, reason),
            )
        if match is not None:
            their_id = match[1]
            self.claimed.add((target, their_id))
            self.claimed.add((side, rid))
            return self._merge(
                side, rid, (digest, content), their_id, self._candidates[their_id], None,
                how=match[2],
            )
        projected, missing = self.translator.project(side, self.translator.classified(content))
        if missing:
            reason = _waiting(missing, side)
            return Decision(side, rid, Outcome.WAITING, reason, pending=(Outcome.WAITING, reason))
        if not ctx.may_create:
            reason = f"no match on the {target}; creating is off"
            return Decision(side, rid, Outcome.SKIPPED, reason)
        if not ctx.connections[target].can(ctx.entity, Capability.CREATE):
            return Decision(
                side, rid, Outcome.SKIPPED,
                f"no match on the {target}, which cannot create {ctx.entity}",
            )
        return Decision(
            side,
            rid,
            Outcome.CREATED,
            f"new on the {side}",
            writes=[Write(target, "create", None, projected, frozenset(projected))],
            hashes=_pair(side, digest, ""),
            bases=_pair(side, _json(content), None),
        )


def _waiting(missing: list[str], side: Side) -> str:
    return f"waiting on {', '.join(sorted(set(missing)))} ({side}), not linked yet"
