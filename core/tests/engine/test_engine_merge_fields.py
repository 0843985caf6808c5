"""The per-field merge rule (docs/concepts/merge.md) searched for counter-examples.

``merge_fields`` is the whole rule; these properties are the model's sentences, checked over
random pairs, bases and directions rather than a few pinned examples.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from syncbridge.engine.merge import FieldMerge, Side, is_empty, merge_fields, same

FIELDS = ("email", "phone", "city")
VALUES = st.sampled_from([None, "", "a", "b", "c"])
RECORD = st.fixed_dictionaries({name: VALUES for name in FIELDS})
SIDES: tuple[Side, Side] = ("left", "right")
SOURCES = st.sampled_from(
    [frozenset(SIDES), frozenset({"left"}), frozenset({"right"})]
).map(lambda s: frozenset(s))


def _merge(
    left: dict[str, Any],
    right: dict[str, Any],
    bases: tuple[dict[str, Any], dict[str, Any]] | None,
    sources: frozenset[Side],
    winner: Side,
    full: bool,
) -> FieldMerge:
    return merge_fields(
        [(name, name) for name in FIELDS],
        left,
        right,
        left,
        right,
        right,
        bases,
        sources,
        winner,
        full,
    )


def _winner(sources: frozenset[Side], priority: Side) -> Side:
    return priority if len(sources) == 2 else next(iter(sources))


@given(RECORD, RECORD, SOURCES, st.sampled_from(SIDES))
def test_a_first_link_never_blanks_anything(
    left: dict[str, Any], right: dict[str, Any], sources: frozenset[Side], priority: Side
) -> None:
    merged = _merge(left, right, None, sources, _winner(sources, priority), full=True)
    for written in (merged.to_left, merged.to_right):
        assert not any(is_empty(value) for value in written.values())


@given(RECORD, RECORD, st.sampled_from(SIDES), st.booleans())
def test_a_two_way_merge_leaves_both_sides_equal_on_every_field_it_touches(
    left: dict[str, Any], right: dict[str, Any], priority: Side, with_base: bool
) -> None:
    sources = frozenset(SIDES)
    bases = ({}, {}) if with_base else None
    merged = _merge(left, right, bases, sources, priority, full=True)
    after_left = {**left, **merged.to_left}
    after_right = {**right, **merged.to_right}
    for name in FIELDS:
        assert same(after_left[name], after_right[name]), name


@given(RECORD, RECORD, RECORD, SOURCES, st.sampled_from(SIDES), st.booleans())
def test_a_field_changed_on_one_source_side_flows_and_the_other_side_keeps_its_own(
    base: dict[str, Any],
    left: dict[str, Any],
    right: dict[str, Any],
    sources: frozenset[Side],
    priority: Side,
    full: bool,
) -> None:
    winner = _winner(sources, priority)
    merged = _merge(left, right, (base, base), sources, winner, full)
    for name in FIELDS:
        changed_left = not same(left[name], base[name])
        changed_right = not same(right[name], base[name])
        if same(left[name], right[name]):
            assert name not in merged.to_left and name not in merged.to_right
            continue
        if changed_left and not changed_right:
            if "left" in sources:
                assert name not in merged.to_left  # nothing the left changed is overwritten
                assert merged.to_right[name] == left[name]
            elif not full:  # a target's own change stays (Sync all puts it back: below)
                assert name not in merged.to_left and name not in merged.to_right
        elif changed_right and not changed_left:
            if "right" in sources:
                assert name not in merged.to_right
                assert name in merged.to_left
            elif not full:
                assert name not in merged.to_left and name not in merged.to_right
        elif changed_left and changed_right:
            assert name in merged.conflicts
            loser_gets = merged.to_right if winner == "left" else merged.to_left
            assert loser_gets[name] == (left if winner == "left" else right)[name]
        elif not full:
            assert name not in merged.to_left and name not in merged.to_right


@given(RECORD, RECORD, RECORD, SOURCES, st.sampled_from(SIDES), st.booleans())
def test_swapping_the_sides_swaps_the_result(
    base: dict[str, Any],
    left: dict[str, Any],
    right: dict[str, Any],
    sources: frozenset[Side],
    priority: Side,
    full: bool,
) -> None:
    swap = {"left": "right", "right": "left"}
    winner = _winner(sources, priority)
    mirrored_sources = frozenset(swap[s] for s in sources)  # type: ignore[misc]
    merged = _merge(left, right, (base, base), sources, winner, full)
    mirror = _merge(right, left, (base, base), mirrored_sources, swap[winner], full)  # type: ignore[arg-type]
    assert merged.to_left == mirror.to_right
    assert merged.to_right == mirror.to_left
    assert set(merged.conflicts) == set(mirror.conflicts)


def test_clearing_a_set_field_is_a_change_and_an_unset_one_is_not() -> None:
    base = {"email": "a@x.it", "phone": None, "city": "Roma"}
    left = {"email": "", "phone": "", "city": "Roma"}
    right = {"email": "a@x.it", "phone": None, "city": "Roma"}
    merged = _merge(left, right, (base, base), frozenset(SIDES), "right", full=True)
    assert merged.to_right == {"email": ""}
    assert merged.to_left == {}
    assert merged.conflicts == {}


def test_a_change_on_a_one_way_target_is_held_not_written_back() -> None:
    base = {"email": "a", "phone": "1", "city": "Roma"}
    right = {**base, "phone": "2"}
    merged = _merge(base, right, (base, base), frozenset({"left"}), "left", full=False)
    assert (merged.to_left, merged.to_right, merged.held) == ({}, {}, [("right", "phone")])


@given(RECORD, RECORD, RECORD, st.sampled_from(SIDES))
def test_sync_all_puts_back_what_a_one_way_target_changed_and_never_blanks(
    base: dict[str, Any], left: dict[str, Any], right: dict[str, Any], source: Side
) -> None:
    """``--full`` on a one-way sync: the source's value goes to the target for every field
    that differs, whichever side changed it; the source clearing a field is a change that
    flows, but a value only the target has, that the source never had, stays."""
    merged = _merge(left, right, (base, base), frozenset({source}), source, True)
    mine, theirs = (left, right) if source == "left" else (right, left)
    to_source = merged.to_left if source == "left" else merged.to_right
    to_target = merged.to_right if source == "left" else merged.to_left
    assert to_source == {}
    for name in FIELDS:
        cleared = is_empty(mine[name]) and not same(mine[name], base[name])
        if same(mine[name], theirs[name]) or (is_empty(mine[name]) and not cleared):
            assert name not in to_target, name
        else:
            assert same(to_target[name], mine[name]), name
