"""What one entity's run knows: its sync, rule, two connections and state."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Engine

from syncbridge.config import EntityRule
from syncbridge.connection import Connection
from syncbridge.engine.db import LinkStore, SideStore
from syncbridge.engine.lease import EntityLease
from syncbridge.engine.overlay import PlanOverlay
from syncbridge.engine.report import EntityResult, Recorder
from syncbridge.models import META_FIELDS, CanonicalRecord, model_for

Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")
#: ``link.deleted`` of a pair deleted on both sides: a tombstone, so that neither record,
#: restored later, brings the other back
BOTH = "both"


#: canonical fields that describe one side's copy, never synced (see Document.locked)
SIDE_STATE = frozenset({"locked"})


def other(side: Side) -> Side:
    return "right" if side == "left" else "left"


@dataclass
class EntityContext:
    sync: str
    entity: str
    rule: EntityRule
    connections: dict[Side, Connection]
    engine: Engine
    recorder: Recorder
    #: entities of this sync: references to others are left out rather than waited on
    sync_entities: frozenset[str]
    #: entity -> (sync, flipped): references translated with another sync's links
    #: (``SyncConfig.links_from``); flipped when this sync's left is that sync's right
    borrowed: dict[str, tuple[str, bool]] = field(default_factory=dict)
    full: bool = False
    dry_run: bool = False
    lease: EntityLease | None = None
    progress: Callable[[str, int], None] = lambda _stage, _n: None
    #: (entity, side, id) a dry run plans to create or link: what later entities may
    #: reference as if it were linked already, so the plan shows what the run would do
    planned: set[tuple[str, str, str]] = field(default_factory=set)
    #: (side, id) of both records of each pair the outbox recovered in this run: reported and
    #: counted as created there, so not again when the pair is read back as in step
    recovered: set[tuple[Side, str]] = field(default_factory=set)
    #: idempotency key -> why: creates recovery could not settle, never sent again until the
    #: user says (see :mod:`syncbridge.engine.outbox`)
    held: dict[str, str] = field(default_factory=dict)
    #: (side, id) -> why: records a held create may have made, not created back on the other
    #: side (a two-way sync) while it is held
    suspects: dict[tuple[Side, str], str] = field(default_factory=dict)
    #: (left id, right id) of pinned links a plan treats as applied (a run stores them)
    pinned_pairs: list[tuple[str, str]] = field(default_factory=list)
    #: a plan's view of the links and keys a run stores before deciding (see overlay.py)
    overlay: PlanOverlay = field(default_factory=PlanOverlay)
    result: EntityResult = field(init=False)
    model: type[CanonicalRecord] = field(init=False)
    stores: dict[Side, SideStore] = field(init=False)
    links: LinkStore = field(init=False)
    #: sides that keep match keys (see :func:`syncbridge.engine.entity._keyed_sides`)
    keyed: frozenset[Side] = field(init=False, default=frozenset())
    synced_fields: frozenset[str] = field(init=False)
    #: per side, the synced fields its system assigns (EntityInfo.read_only): never written
    #: there, and its value wins where the sides differ
    read_only: dict[Side, frozenset[str]] = field(init=False)
    #: lists of objects whose items are compared and written in part (see __post_init__)
    item_fields: dict[str, frozenset[str]] = field(init=False)
    may_create: bool = field(init=False)
    may_update: bool = field(init=False)

    def __post_init__(self) -> None:
        self.result = EntityResult(self.entity)
        self.model = model_for(self.entity)
        self.stores = {side: SideStore(self.sync, self.entity, side) for side in SIDES}
        self.links = LinkStore(self.sync, self.entity)
        # reference data is linked by value: unless the config says otherwise, a VAT rate
        # is neither created nor renamed on the other side, only linked
        self.may_create = self.rule.creates(self.entity)
        self.may_update = self.rule.updates(self.entity)
        fields = set(self.model.model_fields) - META_FIELDS - set(self.rule.exclude)
        # whether a document may still be edited is each side's own state: an invoice booked
        # in the accounting system is not booked in the CRM that sent it
        fields -= SIDE_STATE
        for connection in self.connections.values():
            declared = connection.info.entities[self.entity].fields
            if declared is not None:
                fields &= set(declared)
        # references to entities this sync does not link cannot be translated: leave them be
        for path, target in self.model.references.items():
            if target not in self.linked_entities and "." not in path:
                fields.discard(path)
        self.synced_fields = frozenset(fields)
        self.read_only = {
            side: self.synced_fields & connection.info.entities[self.entity].read_only
            for side, connection in self.connections.items()
        }
        self.item_fields = self._synced_item_fields()

    @property
    def linked_entities(self) -> frozenset[str]:
        """Entities whose records references can be translated to: this sync's, and those it
        takes another sync's links of."""
        return self.sync_entities | frozenset(self.borrowed)

    def _synced_item_fields(self) -> dict[str, frozenset[str]]:
        """For each synced list of objects (``lines``) that not both sides map in full: the
        item fields both map, less those the rule excludes (``lines.unit``).

        A system that cannot hold a line's VAT percentage reads it back as nothing: compared
        or written as it is, every line would differ from the other side's on every full run.
        """
        narrowed: dict[str, frozenset[str]] = {}
        for name in self.synced_fields:
            every = self.model.item_fields(name)
            if every is None:
                continue
            kept = set(every)
            for connection in self.connections.values():
                declared = _items_of(name, connection.info.entities[self.entity].fields or ())
                if declared:  # none named: the connector maps every field of an item
                    kept &= declared
            kept -= _items_of(name, self.rule.exclude)
            if kept != every:
                narrowed[name] = frozenset(kept)
        return narrowed

    @property
    def match_levels(self) -> list[list[str]]:
        return self.rule.match_keys(self.entity)

    def keys_of(self, side: Side) -> list[list[str]]:
        """The match levels whose keys ``side`` keeps: none when nothing is matched to it."""
        return self.match_levels if side in self.keyed else []

    def renew(self) -> None:
        """Between two stages of work: keep the lease, write out the request logs."""
        if self.lease is not None:
            self.lease.renew()
        for connection in self.connections.values():
            connection.flush_log()


def _items_of(name: str, paths: Iterable[str]) -> set[str]:
    """The item fields of list field ``name`` among ``paths`` (``lines.unit`` -> ``unit``)."""
    return {path.partition(".")[2] for path in paths if path.startswith(name + ".")}
