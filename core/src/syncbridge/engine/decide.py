"""Stage 2: decide what to do with each changed record (the plan).

Pure decisions over snapshots and links: nothing here writes to either side. ``plan`` prints
these decisions; ``run`` hands them to :mod:`syncbridge.engine.apply`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from syncbridge.describe import Capability
from syncbridge.engine.context import EntityContext, Side, other
from syncbridge.engine.translate import Translator, differences
from syncbridge.engine.values import match_value, matches_filter
from syncbridge.errors import ConnectorError

UNCHANGED = "unchanged since the last sync"


@dataclass
class Decision:
    """What happens to one record: the outcome reported, and the write that achieves it."""

    side: Side
    record_id: str
    outcome: str
    reason: str = ""
    #: "create", "update" or None; the write goes to the other side of ``writer``
    write: str | None = None
    #: the side whose values win (the write goes to ``other(winner)``)
    winner: Side | None = None
    target_id: str | None = None
    payload: dict[str, Any] | None = None
    changed: frozenset[str] = frozenset()
    link_id: int | None = None
    #: (left_id, right_id) of a link made by matching, stored when the decision is applied
    new_link: tuple[str, str] | None = None
    hashes: tuple[str, str] | None = None
    detail: dict[str, Any] | None = None
    #: ("failed" | "waiting", reason) to retry this record next run
    pending: tuple[str, str] | None = None
    #: ids of the other side handled by this decision (not to be treated again this run)
    handled: tuple[str, ...] = ()


def _pair(side: Side, mine: str, theirs: str) -> tuple[str, str]:
    return (mine, theirs) if side == "left" else (theirs, mine)


def _source_of_truth(ctx: EntityContext) -> Side:
    """Who wins when both sides changed: the only source of a one-way sync, else priority."""
    if ctx.rule.direction == "left-to-right":
        return "left"
    if ctx.rule.direction == "right-to-left":
        return "right"
    return ctx.rule.priority


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
        mine = ctx.stores[side].snapshots(db, ids)
        links = ctx.links.by_side(db, side, ids)
        theirs_ids = [link.right_id if side == "left" else link.left_id for link in links.values()]
        theirs = ctx.stores[target].snapshots(db, theirs_ids)
        self.translator.prefetch(side, [content for _h, content in mine.values()])
        unlinked = [rid for rid in ids if rid in mine and rid not in links]
        matches = self._match(side, {rid: mine[rid][1] for rid in unlinked})
        # the candidates matching found, read in one query rather than one per record
        self._candidates = ctx.stores[target].snapshots(
            db, [found[1] for found in matches.values() if found[0] == "one"]
        )
        decisions = []
        for rid in ids:
            if rid not in mine:
                continue
            digest, content = mine[rid]
            link = links.get(rid)
            if link is not None:
                their_id = link.right_id if side == "left" else link.left_id
                found = theirs.get(their_id)
                if found is None:
                    decisions.append(
                        Decision(
                            side,
                            rid,
                            "missing",
                            target_id=their_id,
                            reason=f"linked {target} record {their_id} is gone",
                        )
                    )
                    continue
                decisions.append(self._linked(side, rid, digest, content, link, their_id, found))
            else:
                decision = self._unlinked(side, rid, digest, content, matches.get(rid))
                if decision is not None:
                    decisions.append(decision)
        return decisions

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
        target = other(side)
        their_digest, their_content = found
        my_link_hash = link.left_hash if side == "left" else link.right_hash
        their_link_hash = link.right_hash if side == "left" else link.left_hash
        changed_mine = digest != my_link_hash
        changed_theirs = their_digest != their_link_hash
        hashes = _pair(side, digest, their_digest)
        base: dict[str, Any] = {
            "link_id": link.id,
            "target_id": their_id,
            "handled": (their_id,),
            "hashes": hashes,
        }
        if not (changed_mine or changed_theirs or ctx.full):
            return Decision(side, rid, "skipped", UNCHANGED, **base)
        if changed_mine and changed_theirs:
            winner = _source_of_truth(ctx)
        elif changed_mine:
            winner = side
        elif changed_theirs:
            winner = target
        else:
            winner = _source_of_truth(ctx)
        records = {side: content, target: their_content}
        if not matches_filter(records[winner], ctx.rule.filter):
            return Decision(side, rid, "filtered", "outside the entity's filter", **base)
        projected, missing = self.translator.project(winner, records[winner])
        loser = other(winner)
        loser_id = rid if loser == side else their_id
        diff = self._differing(loser, loser_id, records[loser], projected, missing)
        if not diff:
            return Decision(side, rid, "skipped", "already in step", **base)
        if missing:
            return Decision(
                side,
                rid,
                "waiting",
                pending=("waiting", _waiting(missing, winner)),
                reason=_waiting(missing, winner),
                **base,
            )
        both = changed_mine and changed_theirs
        detail = (
            {
                name: {side: content.get(name), target: their_content.get(name)}
                for name in sorted(diff)
            }
            if both
            else None
        )
        if not ctx.rule.allows(winner):
            # the winner's change may be one only its own system makes (a default it fills
            # in, a status it cannot tell from another): in step as the flowing side sees it
            back, back_missing = self.translator.project(loser, records[loser])
            winner_id = their_id if loser == side else rid
            if not back_missing and not self._differing(
                winner, winner_id, records[winner], back, back_missing
            ):
                return Decision(side, rid, "skipped", "already in step", **base)
            return Decision(
                side,
                rid,
                "skipped",
                f"changed on the {winner} only; direction is {ctx.rule.direction}",
                **base,
            )
        if records[loser].get("locked"):
            return Decision(
                side,
                rid,
                "conflict",
                f"the {loser} record is locked (issued); not overwritten, change it there by "
                "the system's own rules (e.g. a credit note)",
                detail={
                    name: {winner: projected.get(name), loser: records[loser].get(name)}
                    for name in sorted(diff)
                },
                **base,
            )
        if not ctx.may_update or not ctx.connections[loser].can(ctx.entity, Capability.UPDATE):
            return Decision(
                side, rid, "skipped", f"differs, but updating the {loser} is off", **base
            )
        payload = self.translator.merged(records[loser], projected)
        outcome = "conflict" if both else "updated"
        reason = (
            f"changed on both sides; {winner} wins by priority"
            if both
            else f"changed on the {winner}"
        )
        return Decision(
            side,
            rid,
            outcome,
            reason,
            write="update",
            winner=winner,
            payload=payload,
            changed=diff,
            detail=detail,
            **{**base, "target_id": loser_id},
        )

    def _differing(
        self,
        loser: Side,
        loser_id: str,
        theirs: dict[str, Any],
        projected: dict[str, Any],
        missing: list[str],
    ) -> frozenset[str]:
        """The fields of ``projected`` that differ from what the loser holds (``theirs``),
        compared as the loser would hold them.

        A system may hold fewer distinct values than the canonical model: Bitrix24 keeps one
        stage for "sent", "issued" and "overdue", so an invoice written as "issued" reads
        back as "sent". Compared as they are, such values differ forever and every full run
        would rewrite the record. What the loser would hold is what its own mapping makes of
        the write and back (``map`` out, then in); when that cannot be worked out offline (a
        reference not linked yet, a mapping that fails on a partial record), the plain
        difference stands.
        """
        theirs_now = self.translator.comparable(theirs)
        diff = differences(projected, theirs_now)
        if not diff or missing:
            return diff
        ctx = self.ctx
        connection = ctx.connections[loser]
        payload = self.translator.merged(theirs, projected)
        try:
            record = ctx.model.model_validate({**payload, "id": loser_id})
            native = connection.map_out(ctx.entity, record)
            # as a read would give it: with its id, which map(out) leaves to the write
            native.setdefault(connection.info.entities[ctx.entity].id_field, loser_id)
            held = connection.map_in(ctx.entity, native)
        except (ValidationError, ConnectorError, ValueError, TypeError, KeyError):
            return diff
        held_now = self.translator.comparable(held.content())
        return frozenset(name for name in diff if held_now.get(name) != theirs_now.get(name))

    # -- unlinked records -----------------------------------------------------------------
    def _match(self, side: Side, contents: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """For each unlinked record: ("one", id, level) / ("many", ids, level) / None."""
        ctx = self.ctx
        if not contents or not ctx.rule.allows(side):
            return {}
        target_store = ctx.stores[other(side)]
        found: dict[str, Any] = {}
        remaining = dict(contents)
        for level, fields in enumerate(ctx.match_levels):
            values = {rid: match_value(content, fields) for rid, content in remaining.items()}
            wanted = sorted({value for value in values.values() if value is not None})
            if not wanted:
                continue
            candidates = target_store.find_matches(self.db, level, wanted)
            for rid, value in values.items():
                if value is None:
                    continue
                ids = [c for c in candidates.get(value, []) if (other(side), c) not in self.claimed]
                if len(ids) == 1:
                    found[rid] = ("one", ids[0], fields)
                elif len(ids) > 1:
                    found[rid] = ("many", sorted(ids), fields)
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
            return Decision(side, rid, "filtered", "outside the entity's filter")
        if match is not None and match[0] == "many":
            return Decision(
                side,
                rid,
                "ambiguous",
                f"{len(match[1])} {target} records match on "
                f"{'+'.join(match[2])}: {', '.join(match[1])}; link one in the "
                "config or make the records distinguishable",
                detail={"candidates": match[1], "key": match[2]},
            )
        if match is not None:
            their_id = match[1]
            if (target, their_id) in self.claimed:
                match = None
            else:
                self.claimed.add((target, their_id))
                return self._matched(side, rid, digest, content, their_id, match[2])
        projected, missing = self.translator.project(side, content)
        if missing:
            reason = _waiting(missing, side)
            return Decision(side, rid, "waiting", reason, pending=("waiting", reason))
        if not ctx.may_create:
            return Decision(side, rid, "skipped", f"no match on the {target}; creating is off")
        if not ctx.connections[target].can(ctx.entity, Capability.CREATE):
            return Decision(
                side, rid, "skipped", f"no match on the {target}, which cannot create {ctx.entity}"
            )
        return Decision(
            side,
            rid,
            "created",
            f"new on the {side}",
            write="create",
            winner=side,
            payload=projected,
            changed=frozenset(projected),
            hashes=_pair(side, digest, ""),
        )

    def _matched(
        self,
        side: Side,
        rid: str,
        digest: str,
        content: dict[str, Any],
        their_id: str,
        key: list[str],
    ) -> Decision:
        """A new link found by the cascade: link, and align values if they differ."""
        ctx = self.ctx
        target = other(side)
        their_digest, their_content = self._candidates[their_id]
        pair = _pair(side, rid, their_id)
        hashes = _pair(side, digest, their_digest)
        base: dict[str, Any] = {"new_link": pair, "handled": (their_id,), "hashes": hashes}
        winner = side if ctx.rule.direction != "both" else ctx.rule.priority
        records = {side: content, target: their_content}
        self.translator.prefetch(winner, [records[winner]])
        projected, missing = self.translator.project(winner, records[winner])
        loser = other(winner)
        # a first link merges: the winner's values prevail, but its blanks never erase what
        # the other side knows (an ERP without phone numbers must not wipe the CRM's)
        projected = {
            name: value for name, value in projected.items()
            if value not in (None, "", []) or records[loser].get(name) in (None, "", [])
        }
        loser_id = rid if loser == side else their_id
        diff = self._differing(loser, loser_id, records[loser], projected, missing)
        how = f"matched {target} {their_id} on {'+'.join(key)}"
        if not diff:
            return Decision(side, rid, "linked", how, target_id=their_id, **base)
        if missing:
            reason = _waiting(missing, winner)
            return Decision(
                side, rid, "waiting", reason, target_id=their_id, pending=("waiting", reason)
            )
        if (
            records[loser].get("locked")
            or not ctx.may_update
            or not ctx.connections[loser].can(ctx.entity, Capability.UPDATE)
        ):
            return Decision(
                side,
                rid,
                "linked",
                f"{how}; values differ but the {loser} is not updated (locked or updates off)",
                target_id=their_id,
                **base,
            )
        return Decision(
            side,
            rid,
            "updated",
            f"{how}; {loser} updated from the {winner}",
            write="update",
            winner=winner,
            target_id=loser_id,
            payload=self.translator.merged(records[loser], projected),
            changed=diff,
            **base,
        )


def _waiting(missing: list[str], side: Side) -> str:
    return f"waiting on {', '.join(sorted(set(missing)))} ({side}), not linked yet"
