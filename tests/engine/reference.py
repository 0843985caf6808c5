"""A reference merge, written from docs/concepts/merge.md alone (not from the engine's code).

Two systems are dicts of id -> record (the synced fields only, empty values as ``None``).
The model keeps what the engine's state store is meant to keep: links with a base per side
(what each side held right after the pair's last sync), tombstones (a link whose record was
deleted on one side while its twin was kept) and the pinned ``links`` of the rule. It
handles one match level (``match = [["name"]]`` by default), which keeps it small and exact.

:meth:`Reference.run` applies one run to both systems and returns a :class:`Prediction`:
what each record's report row must say, which records are created (their ids are not
predictable: the caller resolves each placeholder with the engine's link once the run is
done) and whether anything is written at all.

Where merge.md is silent or ambiguous, the reading a demanding user would expect is
implemented and marked ``# READING:``.
"""

from __future__ import annotations

import copy
import itertools
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")
Record = dict[str, Any]
#: an outcome class meaning "no report row, or only ``skipped`` rows"
NOTHING = "nothing"
#: prefix of the placeholder id of a record a run creates (resolved through the link)
NEW = "new:"


def other(side: Side) -> Side:
    return "right" if side == "left" else "left"


def empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean(value: Any) -> Any:
    """``None``, ``""`` and ``[]`` are one value: empty (merge.md, Words)."""
    return None if empty(value) else value


def key_of(value: Any) -> str | None:
    """A match key in normal form: NFC, whitespace collapsed, trimmed, case-folded."""
    if empty(value):
        return None
    text = " ".join(unicodedata.normalize("NFC", str(value)).split()).casefold()
    return text or None


@dataclass
class Link:
    left: str
    right: str
    #: each side's content right after the pair's last sync; None: a pinned link never synced
    base: dict[Side, Record] | None
    #: the sides whose record was seen deleted (a tombstone while the link is kept)
    gone: set[Side] = field(default_factory=set)
    #: the kept twin was seen deleted too (reported at most once)
    both_seen: bool = False

    def id(self, side: Side) -> str:
        return self.left if side == "left" else self.right

    def members(self) -> set[tuple[Side, str]]:
        return {("left", self.left), ("right", self.right)}


@dataclass(frozen=True)
class Expect:
    """The report of one unit (a linked pair, a created record, an ambiguous member).

    Rows on any of ``members`` belong to the unit. The unit must have exactly one row whose
    outcome is not ``skipped`` and is in ``outcomes``, or none when ``NOTHING`` is allowed.
    """

    members: frozenset[tuple[Side, str]]
    outcomes: frozenset[str]
    why: str

    def allows(self, actions: list[str]) -> bool:
        if not actions:
            return NOTHING in self.outcomes
        return len(actions) == 1 and actions[0] in self.outcomes


@dataclass
class Prediction:
    expects: list[Expect] = field(default_factory=list)
    #: (target side, placeholder id, source side, source id) of each create
    created: list[tuple[Side, str, Side, str]] = field(default_factory=list)
    #: records written (created, updated or deleted) on each side
    written: dict[Side, set[str]] = field(default_factory=lambda: {"left": set(), "right": set()})
    ambiguous: set[tuple[Side, str]] = field(default_factory=set)

    @property
    def writes(self) -> int:
        return len(self.written["left"]) + len(self.written["right"])

    def expect(
        self, members: Iterable[tuple[Side, str]], outcomes: Iterable[str], why: str
    ) -> None:
        self.expects.append(Expect(frozenset(members), frozenset(outcomes), why))


class Reference:
    """Both systems and the sync state, as merge.md defines them."""

    def __init__(
        self,
        fields: Iterable[str],
        *,
        direction: str = "both",
        priority: Side = "left",
        deletes: bool = False,
        key: str = "name",
    ) -> None:
        self.fields = tuple(fields)
        self.direction = direction
        self.priority: Side = priority
        self.deletes = deletes
        self.key = key
        self.data: dict[Side, dict[str, Record]] = {"left": {}, "right": {}}
        self.links: list[Link] = []
        self.pins: dict[str, str] = {}
        self._numbers = itertools.count(1)

    # -- the rule ---------------------------------------------------------------------------
    def source(self, side: Side) -> bool:
        """Whether ``side``'s changes flow (merge.md, Words: source side)."""
        if self.direction == "both":
            return True
        return self.direction == ("left-to-right" if side == "left" else "right-to-left")

    @property
    def winner(self) -> Side:
        if self.direction == "left-to-right":
            return "left"
        if self.direction == "right-to-left":
            return "right"
        return self.priority

    # -- what users do ----------------------------------------------------------------------
    def record(self, values: Mapping[str, Any]) -> Record:
        return {name: clean(values.get(name)) for name in self.fields}

    def put(self, side: Side, rid: str, values: Mapping[str, Any]) -> None:
        assert rid not in self.data[side]
        self.data[side][rid] = self.record(values)

    def edit(self, side: Side, rid: str, changes: Mapping[str, Any]) -> None:
        current = self.data[side][rid]
        for name, value in changes.items():
            if name in self.fields:
                current[name] = clean(value)

    def remove(self, side: Side, rid: str) -> None:
        del self.data[side][rid]

    def pin(self, left_id: str, right_id: str) -> None:
        self.pins[left_id] = right_id

    # -- queries ----------------------------------------------------------------------------
    def link_of(self, side: Side, rid: str) -> Link | None:
        for link in self.links:
            if link.id(side) == rid:
                return link
        return None

    def live_pairs(self) -> set[tuple[str, str]]:
        return {
            (link.left, link.right)
            for link in self.links
            if link.left in self.data["left"] and link.right in self.data["right"]
        }

    def unlinked(self, side: Side) -> list[str]:
        linked = {link.id(side) for link in self.links}
        return sorted((rid for rid in self.data[side] if rid not in linked), key=_id_order)

    def kept(self, side: Side) -> list[str]:
        """``side``'s twins kept when their linked record was deleted on the other side."""
        return [
            link.id(side)
            for link in self.links
            if link.gone == {other(side)} and link.id(side) in self.data[side]
        ]

    def groups(self) -> dict[str, tuple[list[str], list[str]]]:
        """Match candidates by key: (left ids, right ids): the unlinked records, and the twins
        kept after a deletion (see :meth:`_match`)."""
        found: dict[str, tuple[list[str], list[str]]] = {}
        for side in SIDES:
            for rid in sorted([*self.unlinked(side), *self.kept(side)], key=_id_order):
                key = key_of(self.data[side][rid].get(self.key))
                if key is None:
                    continue
                found.setdefault(key, ([], []))[0 if side == "left" else 1].append(rid)
        return found

    def ambiguous(self) -> set[tuple[Side, str]]:
        members: set[tuple[Side, str]] = set()
        kept = self._kept_members()
        for lefts, rights in self.groups().values():
            starters = [
                m for m in self._members(lefts, rights) if m not in kept and self.source(m[0])
            ]
            if lefts and rights and starters and (len(lefts) > 1 or len(rights) > 1):
                members |= {("left", rid) for rid in lefts} | {("right", rid) for rid in rights}
        return members

    def _kept_members(self) -> set[tuple[Side, str]]:
        return {(side, rid) for side in SIDES for rid in self.kept(side)}

    @staticmethod
    def _members(lefts: list[str], rights: list[str]) -> list[tuple[Side, str]]:
        return [("left", rid) for rid in lefts] + [("right", rid) for rid in rights]

    def resolve(self, side: Side, placeholder: str, real: str) -> None:
        """The engine created ``placeholder`` as ``real``: use its real id from now on."""
        records = self.data[side]
        assert real not in records, f"{side} {real} is already a record of the model"
        records[real] = records.pop(placeholder)
        for link in self.links:
            if side == "left" and link.left == placeholder:
                link.left = real
            elif side == "right" and link.right == placeholder:
                link.right = real

    def snapshot(self) -> Reference:
        return copy.deepcopy(self)

    # -- one run ----------------------------------------------------------------------------
    def run(self, *, full: bool) -> Prediction:
        """Apply one complete run (``full``: a complete read, every pair compared)."""
        prediction = Prediction()
        for link in self.links:
            # a deleted record that came back (restored, same id): the link is live again
            # on that side, and merged against its base once both sides are there
            both = len(link.gone) == 2
            link.gone = {side for side in link.gone if link.id(side) not in self.data[side]}
            if both and len(link.gone) == 1:
                # READING: one of two deleted twins restored: the other stays deleted (a
                # "missing" row for it now is allowed, not required)
                members = link.members()
                prediction.expect(members, {NOTHING, "missing"}, "restored beside a tombstone")
        self._pin_links()
        if full:
            self._deletions(prediction)
        else:
            # an incremental read of a connector that reports no deletions cannot see one;
            # what it should do meanwhile is not specified: the caller makes such runs full
            unseen = [
                link
                for link in self.links
                for side in SIDES
                if link.id(side) not in self.data[side] and side not in link.gone
            ]
            assert not unseen, "a deletion not seen yet: run with full=True"
        for link in list(self.links):
            if not link.gone:
                self._merge_pair(link, full, prediction)
        self._match(prediction)
        return prediction

    def _pin_links(self) -> None:
        """Pinned links replace whatever matching found for those ids (matching.md)."""
        for left_id, right_id in self.pins.items():
            current = self.link_of("left", left_id)
            if current is not None and current.right == right_id:
                continue
            if left_id not in self.data["left"] or right_id not in self.data["right"]:
                # READING: a pin naming a record that does not exist is left alone
                continue
            stale = [
                link for link in (current, self.link_of("right", right_id)) if link is not None
            ]
            self.links = [link for link in self.links if link not in stale]
            self.links.append(Link(left_id, right_id, None))

    def _deletions(self, prediction: Prediction) -> None:
        for link in list(self.links):
            gone = {side for side in SIDES if link.id(side) not in self.data[side]}
            members = link.members()
            if len(gone) < 2:
                link.both_seen = False
            if not gone:
                continue
            if gone == link.gone:
                continue  # seen (and reported) before
            if len(gone) == 2:
                # READING: gone from both sides: nothing left to write and a row is optional;
                # the link stays as a tombstone, so that neither record, restored later,
                # brings the other back (merge.md: no deleted record comes back)
                first = not link.gone
                link.gone = gone
                if first and self.deletes:
                    self.links.remove(link)
                if not link.both_seen:
                    link.both_seen = True
                    prediction.expect(members, {NOTHING, "missing", "deleted"}, "gone from both")
                continue
            [side] = gone
            twin = other(side)
            if self.deletes and self.source(side):
                del self.data[twin][link.id(twin)]
                prediction.written[twin].add(link.id(twin))
                self.links.remove(link)
                prediction.expect(members, {"deleted"}, f"deleted on the {side}: twin deleted")
            else:
                link.gone = gone
                prediction.expect(members, {"missing"}, f"deleted on the {side}, twin kept")

    def _put_value(
        self, link_ids: dict[Side, str], target: Side, name: str, value: Any, writes: set[Side]
    ) -> None:
        record = self.data[target][link_ids[target]]
        if record[name] != value:
            record[name] = value
            writes.add(target)

    def _union_field(self, ids: dict[Side, str], name: str, writes: set[Side]) -> bool:
        """The match-time rule for one field; True when it was a conflict (A vs B)."""
        left = self.data["left"][ids["left"]][name]
        right = self.data["right"][ids["right"]][name]
        if left == right:
            return False
        if right is None:
            if self.source("left"):
                self._put_value(ids, "right", name, left, writes)
            return False
        if left is None:
            if self.source("right"):
                self._put_value(ids, "left", name, right, writes)
            return False
        winner = self.winner
        value = left if winner == "left" else right
        self._put_value(ids, other(winner), name, value, writes)
        return True

    def _merge_pair(self, link: Link, full: bool, prediction: Prediction) -> None:
        ids: dict[Side, str] = {"left": link.left, "right": link.right}
        members = link.members()
        writes: set[Side] = set()
        conflict = union_conflict = False
        pinned_first = link.base is None
        for name in self.fields:
            now = {side: self.data[side][ids[side]][name] for side in SIDES}
            if link.base is None:
                # a pinned link with no base: merged by the match-time rule
                union_conflict |= self._union_field(ids, name, writes)
                continue
            changed = {side: now[side] != link.base[side][name] for side in SIDES}
            if changed["left"] and changed["right"]:
                if now["left"] != now["right"]:
                    winner = self.winner
                    self._put_value(ids, other(winner), name, now[winner], writes)
                    conflict = True
            elif changed["left"] or changed["right"]:
                side: Side = "left" if changed["left"] else "right"
                if self.source(side):
                    self._put_value(ids, other(side), name, now[side], writes)
                elif full:
                    # merge.md, --full: a target's own change is put back by the source
                    union_conflict |= self._union_field(ids, name, writes)
                # else: "skipped — changed on the <side> only", and part of the base from now
            elif full and now["left"] != now["right"]:
                union_conflict |= self._union_field(ids, name, writes)
        for side in writes:
            prediction.written[side].add(ids[side])
        if conflict:
            outcomes = {"conflict"}
        elif union_conflict:
            # READING: merge.md says a differing value at match time gives "a conflict row";
            # matching.md calls the same case "updated": either is accepted
            outcomes = {"conflict", "updated"}
        elif writes:
            outcomes = {"updated"}
        elif pinned_first:
            outcomes = {NOTHING, "linked"}
        else:
            outcomes = {NOTHING}
        prediction.expect(members, outcomes, "linked pair")
        link.base = {side: dict(self.data[side][ids[side]]) for side in SIDES}

    def _match(self, prediction: Prediction) -> None:
        """Group ambiguity over one match level (merge.md, Matching and ambiguity).

        READING: merge.md says a kept twin (the record kept when its linked twin was deleted
        on the other side) is "never matched to another record". Taken literally, a company
        deleted in the ERP, kept in the CRM and entered again in the ERP would be created a
        second time in the CRM: a duplicate, which property 2 forbids. The model reads the
        rule as "never brought back, nor matched to a record of its own side": a kept twin
        is never created again, never starts a match, but a new record of the side its twin
        was deleted from may match it, like any record with its key (the tombstone is then
        replaced by the new link).
        """
        kept = self._kept_members()
        for lefts, rights in self.groups().values():
            members = self._members(lefts, rights)
            if not any(member not in kept and self.source(member[0]) for member in members):
                # kept twins never start anything, nor do records of a side that does not
                # flow (matching.md: matching runs only from a side whose changes flow)
                continue
            if lefts and rights:
                if len(lefts) == 1 and len(rights) == 1:
                    self.links = [
                        link
                        for link in self.links
                        if not (link.left == lefts[0] and link.gone)
                        and not (link.right == rights[0] and link.gone)
                    ]
                    self._first_link(lefts[0], rights[0], prediction)
                    continue
                for member in members:
                    outcomes = {"ambiguous"}
                    if member in kept or not self.source(member[0]):
                        # READING: a kept twin is not decided itself; nor, in a one-way sync,
                        # is a record of the side that does not flow: a row is allowed
                        outcomes.add(NOTHING)
                    prediction.expect({member}, outcomes, "ambiguous group")
                    prediction.ambiguous.add(member)
                continue
            side: Side = "left" if lefts else "right"
            if not self.source(side):
                continue  # only a candidate: never created on the other side
            for rid in lefts or rights:
                if (side, rid) not in kept:
                    self._create(side, rid, prediction)
        # records without a key (never here: the key is the required name) would be new too

    def _first_link(self, left_id: str, right_id: str, prediction: Prediction) -> None:
        ids: dict[Side, str] = {"left": left_id, "right": right_id}
        writes: set[Side] = set()
        conflict = False
        for name in self.fields:
            conflict |= self._union_field(ids, name, writes)
        for side in writes:
            prediction.written[side].add(ids[side])
        if conflict:
            outcomes = {"conflict", "updated"}  # READING: see _merge_pair
        elif writes:
            outcomes = {"updated"}
        else:
            outcomes = {"linked"}
        prediction.expect({("left", left_id), ("right", right_id)}, outcomes, "first link")
        self.links.append(
            Link(left_id, right_id, {side: dict(self.data[side][ids[side]]) for side in SIDES})
        )

    def _create(self, side: Side, rid: str, prediction: Prediction) -> None:
        target = other(side)
        placeholder = f"{NEW}{next(self._numbers)}"
        content = dict(self.data[side][rid])
        self.data[target][placeholder] = dict(content)
        ids = {side: rid, target: placeholder}
        self.links.append(Link(ids["left"], ids["right"], {s: dict(content) for s in SIDES}))
        prediction.created.append((target, placeholder, side, rid))
        prediction.written[target].add(placeholder)
        prediction.expect({(side, rid), (target, placeholder)}, {"created"}, "new record")


def _id_order(rid: str) -> tuple[int, str]:
    return (int(rid), "") if rid.isdigit() else (1 << 60, rid)
