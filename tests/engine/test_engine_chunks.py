"""Chunks in the air: the next chunk is decided and sent while the previous one finishes.

Small chunks make every sync here span many of them, so a write that fails, or a connector
error that ends the entity in the middle, lands between two chunks in flight.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import syncbridge.engine.entity
from syncbridge.errors import ConnectorError
from syncbridge.records import UpsertItem, UpsertResult
from syncbridge.workspace import Workspace
from tests.engine.bed import Bed, company

COUNT = 23


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(syncbridge.engine.entity, "CHUNK", 5)


def _run(bed: Bed, refuse: Any) -> Any:
    """A run whose right connection passes every upsert through ``refuse`` first."""
    with Workspace.load(bed.config) as workspace:
        connections = workspace.sync_connections("main")
        right = connections["right"]
        upsert = right.upsert

        def checked(entity: str, items: list[UpsertItem]) -> list[UpsertResult]:
            return refuse(items, lambda rest: upsert(entity, rest))

        right.upsert = checked  # type: ignore[method-assign]
        from syncbridge.engine.runner import run_sync

        return run_sync("main", workspace.config.syncs["main"], connections, workspace.store)


def test_every_chunk_is_written_and_reported_once(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}},
              right_settings={"batch_size": 2})
    bed.put("left", "company", [company(i) for i in range(COUNT)])

    def refuse(items: list[UpsertItem], upsert: Any) -> list[UpsertResult]:
        bad = [item for item in items if item.record["name"] == "Company 0012"]
        rest = [item for item in items if item not in bad]
        return [UpsertResult.failed(item.key, "refused by the test") for item in bad] + (
            upsert(rest) if rest else [])

    run = _run(bed, refuse)
    assert sorted(bed.by("right", "company", "name")) == [
        f"Company {i:04d}" for i in range(COUNT) if i != 12]
    assert bed.outcomes(run.run_id) == {"created": COUNT - 1, "failed": 1}
    [failed] = [item for item in bed.items(run.run_id) if item.action == "failed"]
    assert failed.reason == "the right rejected it: refused by the test"
    again = bed.sync()
    assert bed.outcomes(again.run_id) == {"created": 1}
    assert len(bed.by("right", "company", "name")) == COUNT


def test_an_error_that_ends_the_entity_leaves_nothing_to_duplicate(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}})
    bed.put("left", "company", [company(i) for i in range(COUNT)])

    def expire(items: list[UpsertItem], upsert: Any) -> list[UpsertResult]:
        if any(item.record["name"] == "Company 0017" for item in items):
            raise ConnectorError("the token expired")
        return upsert(items)  # type: ignore[no-any-return]

    run = _run(bed, expire)
    [entity] = run.entities
    assert (entity.result, entity.message) == ("error", "ConnectorError: the token expired")
    written = len(bed.rows("right", "company"))
    assert 0 < written < COUNT
    again = bed.sync()
    assert again.entities[0].result == "ok"
    right = bed.by("right", "company", "name")  # raises on a duplicate name
    assert sorted(right) == [f"Company {i:04d}" for i in range(COUNT)]
    assert bed.sync().entities[0].counts.get("created", 0) == 0


def test_the_first_chunks_are_small_so_the_first_writes_leave_early(tmp_path: Path) -> None:
    """Nothing is sent while the first chunk is decided: it is a tenth of a chunk, the
    second two fifths, then chunks are whole (5 here)."""
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}})
    bed.put("left", "company", [company(i) for i in range(COUNT)])
    sizes: list[int] = []

    def count(items: list[UpsertItem], upsert: Any) -> list[UpsertResult]:
        sizes.append(len(items))
        return upsert(items)  # type: ignore[no-any-return]

    run = _run(bed, count)
    assert bed.outcomes(run.run_id) == {"created": COUNT}
    assert sizes == [1, 2, 5, 5, 5, 5]
