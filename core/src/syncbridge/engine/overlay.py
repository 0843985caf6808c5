"""What a run stores before it decides, held in memory by a plan, which stores nothing.

A run changes links before deciding anything: records deleted since the last run turn
their links into tombstones (or remove them), and pinned links replace what matching had
found. Both make records match candidates again. A plan must decide as the run will, so it
keeps those changes here and lays them over what the state store says (``plan`` = ``run``,
docs/concepts/merge.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from syncbridge.engine.db import SnapshotRow, loads
from syncbridge.engine.values import match_value

if TYPE_CHECKING:
    from syncbridge.engine.context import Side


@dataclass
class PlanOverlay:
    #: link id -> the side whose record the run finds deleted (the link becomes a tombstone),
    #: or "both"
    tombstones: dict[int, str] = field(default_factory=dict)
    #: link ids the run removes
    removed: set[int] = field(default_factory=set)
    #: side -> records the run forgets (gone since the last run): nobody's candidates
    forgotten: dict[Side, set[str]] = field(default_factory=lambda: {"left": set(), "right": set()})
    #: side -> (level, key value) -> records the run makes findable by that key again
    keys: dict[Side, dict[tuple[int, str], list[str]]] = field(
        default_factory=lambda: {"left": {}, "right": {}}
    )

    def forget(self, side: Side, ids: Iterable[str]) -> None:
        self.forgotten[side].update(ids)

    def remove(self, link_ids: Iterable[int]) -> None:
        self.removed.update(link_ids)

    def tombstone(self, link_ids: Iterable[int], side: str) -> None:
        self.tombstones.update((link_id, side) for link_id in link_ids)

    def rekey(self, side: Side, rows: Sequence[SnapshotRow], levels: list[list[str]]) -> None:
        """The keys :meth:`SideStore.rekey` would store for these records."""
        for rid, _digest, data in rows:
            content = loads(data)
            for level, fields in enumerate(levels):
                value = match_value(content, fields)
                if value is not None:
                    self.keys[side].setdefault((level, value), []).append(rid)

    def links(self, found: Mapping[str, Any]) -> dict[str, Any]:
        """Links as the run will have them: removed ones left out, tombstones marked."""
        laid: dict[str, Any] = {}
        for rid, link in found.items():
            if link.id in self.removed:
                continue
            deleted = self.tombstones.get(link.id)
            if deleted is not None:
                link = SimpleNamespace(**{**dict(link._mapping), "deleted": deleted})
            laid[rid] = link
        return laid

    def matches(
        self, side: Side, level: int, values: Iterable[str], found: dict[str, list[str]]
    ) -> dict[str, list[str]]:
        """``found`` (from :meth:`SideStore.find_matches`) plus the records the run rekeys."""
        keys = self.keys[side]
        if not keys:
            return found
        for value in values:
            extra = [rid for rid in keys.get((level, value), []) if rid not in found.get(value, [])]
            if extra:
                found[value] = [*found.get(value, []), *extra]
        return found
