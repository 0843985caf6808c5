"""The merge model of docs/concepts/merge.md, as a pure function over one pair's values.

Nothing here reads or writes state: :mod:`syncbridge.engine.decide` gathers a pair's contents,
bases and projections, asks :func:`merge_fields` which values go where, and turns the answer
into writes. Keeping the rule in one small function is what lets the property tests' reference
model and the engine be compared field by field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Side = Literal["left", "right"]


def is_empty(value: Any) -> bool:
    """``None``, ``""``, ``[]`` and ``{}`` are one value: nothing."""
    return value is None or value == "" or value == [] or value == {}


def same(a: Any, b: Any) -> bool:
    """Equal, counting every kind of empty as equal to every other."""
    return a == b or (is_empty(a) and is_empty(b))


@dataclass
class FieldMerge:
    """What the merge of one pair decided, field by field."""

    #: left field -> value to write to the left (in the left's ids)
    to_left: dict[str, Any] = field(default_factory=dict)
    #: right field -> value to write to the right (in the right's ids)
    to_right: dict[str, Any] = field(default_factory=dict)
    #: right field name -> {"left": value, "right": value, "winner": side}
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (side, field): changed on a side whose changes do not flow (a one-way target)
    held: list[tuple[Side, str]] = field(default_factory=list)


def merge_fields(
    pairs: Iterable[tuple[str, str]],
    left: dict[str, Any],
    right: dict[str, Any],
    left_as_right: dict[str, Any],
    right_as_left: dict[str, Any],
    right_compared: dict[str, Any],
    bases: tuple[dict[str, Any], dict[str, Any]] | None,
    sources: frozenset[Side],
    winner: Side,
    full: bool,
) -> FieldMerge:
    """Merge one pair per field.

    ``pairs`` are (left field, right field) of every synced field. ``left``/``right`` are
    the sides' contents in their own ids, ``left_as_right`` the left projected for the right
    (ids translated, renames applied) and ``right_as_left`` the reverse; ``right_compared``
    the right as the left's projection is compared with. ``bases`` is what each side held
    after the pair's last sync, or None at match time (and for a link with no base): then
    the pair is filled as a union. ``sources`` are the sides whose changes may flow,
    ``winner`` the side that wins a disagreement. With ``full``, a field that changed on
    neither side but differs is put in step as at match time, and so is one changed only on
    a side whose changes do not flow (Sync all: the source puts back what its target changed).
    """
    result = FieldMerge()
    two_way = len(sources) == 2
    for left_name, right_name in pairs:
        proposed = left_as_right.get(right_name)
        held_right = right_compared.get(right_name)
        if same(proposed, held_right):
            continue
        flow: Side | None = None
        conflict = False
        union = bases is None
        if bases is not None:
            changed_left = not same(left.get(left_name), bases[0].get(left_name))
            changed_right = not same(right.get(right_name), bases[1].get(right_name))
            if changed_left and changed_right:
                flow, conflict = _other(winner), True
            elif changed_left:
                flow = "right" if "left" in sources else None
                if flow is None and full:
                    union = True  # Sync all: the source puts back what its target changed
                elif flow is None:
                    result.held.append(("left", left_name))
            elif changed_right:
                flow = "left" if "right" in sources else None
                if flow is None and full:
                    union = True
                elif flow is None:
                    result.held.append(("right", right_name))
            else:
                union = full
        if union:
            if is_empty(proposed):
                flow = "left" if "right" in sources else None
            elif is_empty(held_right):
                flow = "right" if "left" in sources else None
            else:
                flow, conflict = _other(winner), two_way
        if flow == "right":
            result.to_right[right_name] = proposed
        elif flow == "left":
            result.to_left[left_name] = right_as_left.get(left_name)
        if conflict:
            result.conflicts[right_name] = {
                "left": left.get(left_name),
                "right": right.get(right_name),
                "winner": winner,
            }
    return result


def _other(side: Side) -> Side:
    return "right" if side == "left" else "left"
