"""Contract checks of what a connector declares, its ``check``, ``fetch`` and ``map``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from syncbridge.describe import Capability
from syncbridge.errors import ConnectorError, RecordError
from syncbridge.models import MODELS, CanonicalRecord
from syncbridge.testing.harness import Fetched, Harness, compared_fields, differences
from syncbridge.testing.hooks import ContractHooks

__all__ = ["ReadChecks", "boundary_ids", "require"]

#: how many offending records a failure message lists
SHOWN = 5


def require(harness: Harness, entity: str, *capabilities: Capability) -> None:
    """Skip the test unless ``entity`` declares every one of ``capabilities``."""
    info = harness.entity(entity)
    missing = [c.value for c in capabilities if not info.can(c)]
    if missing:
        pytest.skip(f"{entity} does not declare {', '.join(missing)}")


def _shown(values: Iterable[object]) -> str:
    items = sorted(str(value) for value in values)
    more = f" (+{len(items) - SHOWN} more)" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def boundary_ids(
    harness: Harness, fetched: Fetched, lookback: timedelta = timedelta(0)
) -> set[str]:
    """Ids of the records sharing the newest ``updated_at`` of a read (its cursor's instant),
    or stamped within ``lookback`` before it.

    A connector whose system filters "changed at or after" (inclusive) returns these again
    on the next incremental read, and one reading back a window before its cursor (for
    programs stamping whole seconds) those of the window; the contract allows that, and
    nothing else unchanged.
    """
    stamps = {}
    for native in fetched.records:
        native_id = str(native.get(fetched.id_field))
        try:
            context = fetched.context_of(native_id)
            stamps[native_id] = harness.updated_at(fetched.entity, native, context)
        except (ValidationError, RecordError, ConnectorError, ValueError, TypeError):
            continue  # a record that does not map is reported by the read check
    known = [stamp for stamp in stamps.values() if stamp is not None]
    if not known:
        return set()
    oldest = max(known) - lookback
    return {rid for rid, stamp in stamps.items() if stamp is not None and stamp >= oldest}


class ReadChecks(ContractHooks):
    """Declarations, ``check``, full and incremental ``fetch``, and ``map``."""

    __test__: ClassVar[bool] = False

    def test_declarations_are_consistent(self, entity: str) -> None:
        """The entity's EntityInfo makes sense before anything runs."""
        info = self.connector_info()
        assert entity in info.entities, (
            f"{entity!r} is checked but not declared; {info.name} declares: "
            f"{', '.join(info.entities)}"
        )
        declared = info.entities[entity]
        can = declared.can
        problems = []
        if entity not in MODELS:
            problems.append(f"{entity!r} is no canonical entity ({', '.join(MODELS)})")
        if declared.name != entity:
            problems.append(f"declared under {entity!r} but named {declared.name!r}")
        if entity in info.unsupported:
            problems.append("declared both as an entity and as unsupported")
        if can(Capability.INCREMENTAL) and not can(Capability.READ):
            problems.append("incremental without read")
        for needs_create in (Capability.IDEMPOTENT_CREATE, Capability.LOOKUP):
            if can(needs_create) and not can(Capability.CREATE):
                problems.append(f"{needs_create.value} without create")
        if can(Capability.BATCH) and declared.batch_size < 2:
            problems.append("batch declared but batch_size is 1")
        if not can(Capability.BATCH) and declared.batch_size > 1:
            problems.append(
                f"batch_size is {declared.batch_size} but batch is not declared "
                "(the engine would send several items per upsert call)"
            )
        if declared.fields is not None and entity in MODELS:
            unknown = {name for name in declared.fields if not MODELS[entity].has_field(name)}
            if unknown:
                problems.append(f"fields that the canonical model lacks: {_shown(unknown)}")
        assert not problems, f"{info.name}/{entity}: " + "; ".join(problems)

    def test_check_succeeds(self, harness: Harness) -> None:
        """``check()`` is green with the emulator's (or the test's) credentials."""
        result = harness.connection.check()
        assert result.ok, f"check() failed with working settings: {result.reason!r}"

    def test_check_fails_with_wrong_credentials(self, harness: Harness) -> None:
        """Wrong credentials: ``CheckResult(ok=False, reason=...)``, never an exception."""
        bad = self.bad_settings(dict(harness.settings))
        if bad == harness.settings:
            pytest.skip("bad_settings() changes nothing: the settings hold no credentials")
        connection = harness.connect(bad, name="contract-wrong")
        try:
            result = connection.check()
        except Exception as error:
            pytest.fail(
                f"check() raised {type(error).__name__}: {error}; with wrong credentials it "
                "must return CheckResult(ok=False, reason=...) instead"
            )
        assert not result.ok, "check() is green with wrong credentials"
        assert result.reason.strip(), "check() failed without saying why (empty reason)"

    def test_fetch_returns_every_record_once(self, harness: Harness, entity: str) -> None:
        """A full read spans >= min_pages pages, repeats no id, misses none, maps every record."""
        require(harness, entity, Capability.READ)
        harness.ready(entity)
        first = harness.fetch(entity)
        ids = first.ids
        unnamed = [record for record in first.records if record.get(first.id_field) is None]
        assert not unnamed, (
            f"{len(unnamed)} record(s) lack the id field {first.id_field!r} (EntityInfo.id_field)"
        )
        repeated = [native_id for native_id, seen in Counter(ids).items() if seen > 1]
        assert not repeated, f"a full read returned ids more than once: {_shown(repeated)}"
        assert first.filled_pages >= self.min_pages, (
            f"{len(ids)} records came in {first.filled_pages} page(s) with page size "
            f"{harness.page_size}; fetch must page (expected >= {self.min_pages} pages)"
        )
        second = harness.fetch(entity)
        assert set(second.ids) == set(ids), (
            "two full reads of unchanged data differ: "
            f"only in the first {_shown(set(ids) - set(second.ids))}; "
            f"only in the second {_shown(set(second.ids) - set(ids))}"
        )
        expected = self.expected_count(harness.emulator, entity)
        if expected is not None:
            assert len(ids) == expected, f"a full read returned {len(ids)} of {expected} records"
        seeded = harness.seeded.get(entity)
        if seeded:
            missing = set(seeded) - set(ids)
            assert not missing, f"seeded records missing from a full read: {_shown(missing)}"
        failures = []
        for native in first.records:
            native_id = str(native.get(first.id_field))
            try:
                record = harness.map_in(entity, native, first.context_of(native_id))
            except (ValidationError, RecordError, ConnectorError, ValueError, TypeError) as error:
                failures.append(f"{native_id}: {type(error).__name__}: {error}")
                continue
            if record.id != native_id:
                failures.append(f"{native_id}: map(in) set id {record.id!r}")
        assert not failures, "records that do not map in:\n" + "\n".join(failures[:SHOWN])

    def test_incremental_fetch_returns_the_changed_records(
        self, harness: Harness, entity: str
    ) -> None:
        """``fetch(since=cursor)`` returns the records changed after the cursor, and no others.

        The only unchanged records it may return are those at the cursor's own instant
        (see :func:`boundary_ids`).
        """
        require(harness, entity, Capability.READ, Capability.INCREMENTAL)
        harness.ready(entity)
        full = harness.fetch(entity)
        cursor = full.cursor
        assert cursor is not None, "incremental is declared but a full read set no Page.cursor"
        ids = list(dict.fromkeys(full.ids))
        assert len(ids) >= 2, "the data set is too small to change two records"
        targets = [ids[0], ids[len(ids) // 2]]
        expected = self._change(harness, entity, full, targets)

        changed = harness.fetch(entity, since=cursor)
        got = set(changed.ids)
        missing = set(targets) - got
        assert not missing, (
            f"fetch(since={cursor!r}) missed records changed after it: {_shown(missing)}"
        )
        extra = got - set(targets) - boundary_ids(harness, full, self.lookback)
        assert not extra, (
            f"fetch(since={cursor!r}) returned {len(extra)} unchanged record(s): "
            f"{_shown(extra)}; only records changed after the cursor (and those stamped with "
            "the cursor's own instant) may come back"
        )
        by_id = changed.by_id()
        for native_id, record in expected.items():
            stored = harness.map_in(entity, by_id[native_id], changed.context_of(native_id))
            diffs = differences(record, stored, compared_fields(harness.entity(entity), record))
            assert not diffs, f"{native_id} came back without its change: {'; '.join(diffs)}"

        assert changed.cursor is not None, "an incremental read set no Page.cursor"
        again = harness.fetch(entity, since=changed.cursor)
        stale = set(again.ids) - boundary_ids(harness, changed, self.lookback)
        assert not stale, (
            f"nothing changed, yet fetch(since={changed.cursor!r}) returned {_shown(stale)}"
        )

    def _change(
        self, harness: Harness, entity: str, full: Fetched, ids: list[str]
    ) -> dict[str, CanonicalRecord]:
        """Change ``ids``: through upsert where UPDATE is declared, else :meth:`touch`."""
        if not harness.entity(entity).can(Capability.UPDATE):
            if self.touch(harness, entity, ids) is False:
                pytest.skip(f"{entity} declares no update: define touch() to change records")
            return {}
        current = full.by_id()
        expected: dict[str, CanonicalRecord] = {}
        items = []
        for native_id in ids:
            old = harness.map_in(entity, current[native_id], full.context_of(native_id))
            new = harness.canonical(entity, harness.next_index(), id=native_id)
            fields = compared_fields(harness.entity(entity), new)
            changed = frozenset(f for f in fields if getattr(old, f) != getattr(new, f))
            items.append(
                harness.item(
                    entity,
                    new,
                    f"contract-update-{native_id}-{harness.next_index()}",
                    id=native_id,
                    changed=changed,
                )
            )
            expected[native_id] = new
        failed = [f"{r.key}: {r.error}" for r in harness.upsert(entity, items) if not r.ok]
        assert not failed, f"updating {entity} failed: {failed}"
        return expected

    def test_map_round_trips(self, harness: Harness, entity: str) -> None:
        """canonical -> native -> canonical keeps every field the entity maps."""
        info = harness.entity(entity)
        record = harness.canonical(entity, harness.next_index())
        context: dict[str, Any] = {}
        native = dict(harness.native(entity, record, context))
        native.setdefault(info.id_field, "1")
        back = harness.map_in(entity, native, context)
        assert back.id == str(native[info.id_field]), (
            f"map(in) must set the canonical id to the native {info.id_field!r}"
        )
        diffs = differences(record, back, compared_fields(info, record))
        assert not diffs, "map(out) then map(in) changed: " + "; ".join(diffs)
