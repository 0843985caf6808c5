"""The target after a sync under faults, compared with its source record by record.

A source record is held on the target by the target record linked to it in the state store,
and by any new, unlinked target record with the same first match keys (the entity's default
cascade): a copy. One holder is right; none is a loss, two are a duplicate; a new record
held by no source record is unexpected; a single holder must carry the source's values on the
fields the target maps (as the contract suite compares them).
"""

from __future__ import annotations

from syncbridge.config.schema import DEFAULT_MATCH
from syncbridge.models import CanonicalRecord
from syncbridge.testing.faultreport import TargetState
from syncbridge.testing.faultscenario import SOURCE, TARGET, Scenario
from syncbridge.testing.harness import compared_fields, differences

__all__ = ["compare"]


def _match_key(record: CanonicalRecord, keys: list[str]) -> tuple[str, ...] | None:
    values = []
    for name in keys:
        value = getattr(record, name, None)
        if value is None or str(value).strip() == "":
            return None
        values.append(str(value).strip().casefold())
    return tuple(values)


def _natural(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (1 << 62, value)


def compare(
    scenario: Scenario, expected: dict[str, CanonicalRecord], baseline: set[str]
) -> TargetState:
    source = scenario.read(SOURCE)
    target = scenario.read(TARGET)
    links = scenario.links()
    with scenario.connect(TARGET) as connection:
        info = connection.info.entity(scenario.entity)
    state = TargetState(expected=len(expected), new=len(set(target) - baseline))
    state.unmappable = [f"{tid}: {why}" for tid, why in target.items() if isinstance(why, str)]
    holders: dict[str, list[str]] = {source_id: [] for source_id in expected}
    linked = {tid: sid for tid, sid in links.items() if tid in target and sid in holders}
    for target_id, source_id in linked.items():
        holders[source_id].append(target_id)
    # an unlinked new record is a copy of the source record whose match keys it has
    indexes: list[tuple[list[str], dict[tuple[str, ...], str]]] = []
    for keys in DEFAULT_MATCH.get(scenario.entity, []):
        index: dict[tuple[str, ...], str] = {}
        for source_id, sampled in expected.items():
            key = _match_key(sampled, keys)
            if key is not None:
                index.setdefault(key, source_id)
        indexes.append((keys, index))
    for target_id in sorted(set(target) - baseline - set(linked), key=_natural):
        record = target[target_id]
        owner = None
        if isinstance(record, CanonicalRecord):
            for keys, index in indexes:
                key = _match_key(record, keys)
                if key is not None and key in index:
                    owner = index[key]
                    break
        if owner is None:
            state.strangers.append(target_id)
        else:
            holders[owner].append(target_id)
    for source_id in sorted(holders, key=_natural):
        held = sorted(holders[source_id], key=_natural)
        if not held:
            state.missing.append(source_id)
        elif len(held) > 1:
            state.duplicated[source_id] = held
        else:
            want, got = source.get(source_id), target[held[0]]
            if isinstance(want, CanonicalRecord) and isinstance(got, CanonicalRecord):
                differ = differences(want, got, compared_fields(info, expected[source_id]))
                if differ:
                    state.differing.append(f"{source_id} -> {held[0]}: {'; '.join(differ)}")
    return state
