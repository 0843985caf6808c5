"""Contract checks of writes: ``upsert``, ``lookup``, ``delete``, and undeclared capabilities."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import ClassVar

import httpx
import pytest

from syncbridge.describe import Capability
from syncbridge.errors import ConnectorError
from syncbridge.records import UpsertResult
from syncbridge.testing.checks_read import require
from syncbridge.testing.harness import Harness, compared_fields, differences, dropped
from syncbridge.testing.hooks import ContractHooks

__all__ = ["REFUSALS", "WriteChecks"]

#: how a connector may refuse work as a whole: the errors the engine reports for an entity
REFUSALS = (ConnectorError, httpx.HTTPError)


def _count(harness: Harness, entity: str) -> int | None:
    """Distinct records a full read returns, or None where the entity cannot be read."""
    if not harness.entity(entity).can(Capability.READ):
        return None
    return len(set(harness.fetch(entity).ids))


def _ok(results: list[UpsertResult]) -> list[UpsertResult]:
    return [result for result in results if result.ok]


class WriteChecks(ContractHooks):
    """Creates, updates, batches, idempotent creates, lookups, deletes."""

    __test__: ClassVar[bool] = False

    def test_upsert_creates_then_updates(self, harness: Harness, entity: str) -> None:
        """A create returns the new id and a read finds it; an update changes it in place.

        Where ``UpsertResult.record`` is set it must be the record as ``fetch`` returns it:
        the engine hashes it to recognise its own write when it reads it back.
        """
        require(harness, entity, Capability.CREATE)
        info = harness.entity(entity)
        readable = info.can(Capability.READ)
        harness.ready(entity)
        before = set(harness.fetch(entity).ids) if readable else set()

        record = harness.canonical(entity, harness.next_index())
        item = harness.item(entity, record, f"contract-new-{entity}")
        (created,) = harness.upsert(entity, [item])
        assert created.ok, f"create failed: {created.error}"
        assert created.id, "a successful create must return the new native id"
        new_id = str(created.id)
        fields = compared_fields(info, record)
        stored = record
        if readable:
            after = harness.fetch(entity)
            assert set(after.ids) - before == {new_id}, (
                f"after one create a read shows new ids {sorted(set(after.ids) - before)}, "
                f"expected just {new_id!r}"
            )
            native = after.by_id()[new_id]
            stored = harness.map_in(entity, native, after.context_of(new_id))
            diffs = differences(record, stored, fields)
            assert not diffs, "the created record reads back changed: " + "; ".join(diffs)
            if created.record is not None:
                returned = harness.map_in(entity, created.record, created.context)
                assert returned.content() == stored.content(), (
                    "UpsertResult.record differs from what fetch returns for the same record"
                )

        if not info.can(Capability.UPDATE):
            return
        new = harness.canonical(entity, harness.next_index(), id=new_id)
        changed = frozenset(f for f in fields if getattr(stored, f) != getattr(new, f))
        update = harness.item(
            entity, new, f"contract-update-{new_id}", id=new_id, changed=changed
        )
        (updated,) = harness.upsert(entity, [update])
        assert updated.ok, f"update failed: {updated.error}"
        assert str(updated.id) == new_id, f"an update of {new_id!r} returned id {updated.id!r}"
        if readable:
            again = harness.fetch(entity)
            assert set(again.ids) == before | {new_id}, "an update added or removed records"
            now = harness.map_in(entity, again.by_id()[new_id], again.context_of(new_id))
            diffs = differences(new, now, compared_fields(info, new))
            assert not diffs, "a read after the update shows: " + "; ".join(diffs)

    def test_batch_upsert_returns_one_result_per_item(self, harness: Harness, entity: str) -> None:
        """With BATCH, one call writes several items, each with its own result and id."""
        require(harness, entity, Capability.CREATE, Capability.BATCH)
        size = min(harness.entity(entity).batch_size, 3)
        items = [
            harness.item(
                entity,
                harness.canonical(entity, harness.next_index()),
                f"contract-batch-{entity}-{n}",
            )
            for n in range(size)
        ]
        results = harness.upsert(entity, items)
        failed = [f"{r.key}: {r.error}" for r in results if not r.ok]
        assert not failed, f"batch create failed: {failed}"
        assert len({r.id for r in results}) == size, "a batch create returned repeated ids"

    def test_create_is_idempotent(self, harness: Harness, entity: str) -> None:
        """The same create key twice makes one record, also when the first response was lost.

        The lost response is real: the emulator handles the create and drops the connection
        before answering (``drop_mode="after"``). Meanwhile the first attempt may fail in any
        way the engine reports (``ConnectorError``, ``httpx.HTTPError``, a failed result).
        """
        require(harness, entity, Capability.CREATE, Capability.IDEMPOTENT_CREATE)
        harness.ready(entity)
        count = _count(harness, entity)
        record = harness.canonical(entity, harness.next_index())
        item = harness.item(entity, record, f"contract-once-{entity}")
        (first,) = harness.upsert(entity, [item])
        (again,) = harness.upsert(entity, [item])
        assert first.ok and again.ok, f"create failed: {first.error or again.error}"
        assert str(again.id) == str(first.id), (
            f"the same create key made {first.id!r} and then {again.id!r}"
        )
        if count is not None:
            assert _count(harness, entity) == count + 1, "re-sending a create made a new record"

        emulator = harness.emulator
        if emulator is None:
            return
        lost_item = harness.item(
            entity, harness.canonical(entity, harness.next_index()), f"contract-lost-{entity}"
        )
        before = dropped(emulator)
        harness.arm(drop_rate=1.0, drop_mode="after")
        lost: list[UpsertResult] = []
        with contextlib.suppress(*REFUSALS):
            lost = harness.upsert(entity, [lost_item])
        assert dropped(emulator) == before + 1, "the armed dropped connection did not happen"
        (resent,) = harness.upsert(entity, [lost_item])
        assert resent.ok, f"re-sending a create whose response was lost failed: {resent.error}"
        for result in _ok(lost):
            assert str(result.id) == str(resent.id), "the lost create and its retry differ"
        total = _count(harness, entity)
        if count is not None and total is not None:
            assert total == count + 2, (
                f"a create whose response was lost, sent again, made {total - count - 1} records"
            )

    def test_lookup_finds_created_records(self, harness: Harness, entity: str) -> None:
        """With LOOKUP, ``lookup`` finds a record by its create key, and only known keys."""
        require(harness, entity, Capability.CREATE, Capability.LOOKUP)
        record = harness.canonical(entity, harness.next_index())
        key = f"contract-lookup-{entity}"
        (created,) = harness.upsert(entity, [harness.item(entity, record, key)])
        assert created.ok, f"create failed: {created.error}"
        found = harness.connection.lookup(entity, [key, "contract-never-written"])
        assert found == {key: str(created.id)}, f"lookup returned {found}"

    def test_delete_removes_records(self, harness: Harness, entity: str) -> None:
        """With DELETE, ``delete`` yields one ok result per id and the record is gone."""
        require(harness, entity, Capability.DELETE)
        info = harness.entity(entity)
        if info.can(Capability.CREATE):
            _record, doomed = harness.create(entity)
        else:
            require(harness, entity, Capability.READ)
            harness.ready(entity)
            doomed = harness.fetch(entity).ids[0]
        results = harness.connection.delete(entity, [doomed])
        assert [(r.key, r.ok) for r in results] == [(doomed, True)], (
            f"delete([{doomed!r}]) gave {results}"
        )
        if info.can(Capability.READ):
            assert doomed not in harness.fetch(entity).ids, "a deleted record is still read"

    def test_undeclared_capabilities_do_not_work(self, harness: Harness, entity: str) -> None:
        """A capability not declared must not silently work.

        - no CREATE: a create raises ``ConnectorError``/``httpx.HTTPError`` or fails its result;
        - no UPDATE: the same for an update of an existing record;
        - no DELETE: ``delete`` refuses the same way (or fails its results);
        - no READ: ``fetch`` refuses or returns nothing;
        - no INCREMENTAL: ``fetch(since=cursor)`` still returns every record (as the hook
          spec allows), since a connector that filters by the cursor should declare it;
        - no LOOKUP: ``lookup`` finds nothing, even for a key just written.

        IDEMPOTENT_CREATE and BATCH are not probed: a create that happens to be idempotent,
        or single-item calls, never mislead the engine (BATCH is checked against
        ``batch_size`` by the declarations check).
        """
        info = harness.entity(entity)
        missing = {c for c in Capability if not info.can(c)} - {
            Capability.IDEMPOTENT_CREATE,
            Capability.BATCH,
        }
        if not missing:
            pytest.skip(f"{entity} declares every capability")
        problems: list[str] = []
        existing: str | None = None
        if info.can(Capability.READ):
            harness.ready(entity)
            full = harness.fetch(entity)
            existing = full.ids[0] if full.ids else None
            if Capability.INCREMENTAL in missing and full.cursor is not None:
                since = harness.fetch(entity, since=full.cursor)
                if not set(full.ids) <= set(since.ids):
                    problems.append(
                        "fetch(since=cursor) filters by the cursor: declare incremental"
                    )
        else:
            self._refuses(problems, "fetch", lambda: harness.fetch(entity).records)
        if Capability.CREATE in missing:
            item = harness.item(
                entity,
                harness.canonical(entity, harness.next_index()),
                f"contract-undeclared-{entity}",
            )
            self._refuses(problems, "create", lambda: harness.upsert(entity, [item]))
        elif existing is None:
            _record, existing = harness.create(entity)
        if Capability.UPDATE in missing and existing is not None:
            record = harness.canonical(entity, harness.next_index(), id=existing)
            item = harness.item(
                entity, record, f"contract-undeclared-update-{existing}", id=existing
            )
            self._refuses(problems, "update", lambda: harness.upsert(entity, [item]))
        if Capability.DELETE in missing and existing is not None:
            doomed = existing
            self._refuses(problems, "delete", lambda: harness.connection.delete(entity, [doomed]))
        if Capability.LOOKUP in missing and Capability.CREATE not in missing:
            key = f"contract-undeclared-lookup-{entity}"
            record = harness.canonical(entity, harness.next_index())
            (created,) = harness.upsert(entity, [harness.item(entity, record, key)])
            if created.ok and harness.connection.lookup(entity, [key]):
                problems.append("lookup finds records by their create key: declare lookup")
        assert not problems, f"{entity}: " + "; ".join(problems)

    @staticmethod
    def _refuses(problems: list[str], what: str, call: Callable[[], object]) -> bool:
        """Run ``call``; note a problem unless it refused (error, failed results, nothing)."""
        try:
            outcome = call()
        except REFUSALS:
            return True
        except Exception as error:
            problems.append(
                f"an undeclared {what} raised {type(error).__name__}: {error} "
                "(raise ConnectorError, or fail the item's UpsertResult)"
            )
            return False
        if isinstance(outcome, list) and any(
            not isinstance(result, UpsertResult) or result.ok for result in outcome
        ):
            problems.append(f"{what} is not declared, yet it worked: declare it or refuse it")
            return False
        return True
