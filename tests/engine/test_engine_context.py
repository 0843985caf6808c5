"""A record's context (``Page.context``) reaches ``map``, and stays with a record kept for retry.

The left connection is the sql connector with :mod:`tests.engine.regions`, an extension whose
``fetch`` gives some companies a context and whose ``map`` reads it (see that module).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine import regions
from tests.engine.bed import Bed, company

EXTENSION = "tests.engine.regions"


@pytest.fixture(autouse=True)
def _fresh_regions() -> Iterator[None]:
    regions.reset()
    yield
    regions.reset()


def context_bed(folder: Path, **left_settings: object) -> Bed:
    folder.mkdir(exist_ok=True)
    bed = Bed(folder, {"company": {"direction": "left-to-right"}}, left_settings=left_settings)
    bed.rewrite({"company": {"direction": "left-to-right"}}, extensions={"left": [EXTENSION]})
    return bed


def pending_rows(bed: Bed) -> dict[str, tuple[str, str | None, str | None]]:
    """The state file's pending rows of the left side: id -> (reason, native, context)."""
    with sqlite3.connect(bed.folder / "state.db") as db:
        rows = db.execute(
            "SELECT record_id, reason, native, context FROM pending WHERE side = 'left'"
        ).fetchall()
    return {rid: (reason, native, context) for rid, reason, native, context in rows}


def test_a_record_that_fails_to_map_in_is_retried_next_run_with_its_context(
    tmp_path: Path,
) -> None:
    bed = context_bed(tmp_path)
    ids = bed.put("left", "company", [company(i) for i in range(3)])
    regions.REGIONS.update({"Company 0000": "north", "Company 0001": "south"})
    regions.BROKEN.add("Company 0001")

    first = bed.sync()
    [failed] = [i for i in bed.items(first.run_id) if i.action == "failed"]
    assert (failed.record_id, failed.reason) == (ids[1], "Company 0001: not mapped yet")
    # kept for the next run: the native record as read, and beside it its context
    [(rid, (reason, native, context))] = pending_rows(bed).items()
    assert (rid, reason) == (ids[1], "Company 0001: not mapped yet")
    assert native is not None and json.loads(native)["name"] == "Company 0001"
    assert not [key for key in json.loads(native) if key.startswith("_")]
    assert context is not None and json.loads(context) == {"region": "south"}
    notes = {r["name"]: r["notes"] for r in bed.rows("right", "company")}
    assert notes == {"Company 0000": "region north", "Company 0002": None}

    # the mapping is fixed; the system no longer says anything about the record, and an
    # incremental read does not read it again: only the kept context can say "south"
    regions.BROKEN.clear()
    regions.REGIONS.clear()
    regions.SEEN.clear()
    again = bed.sync()
    assert bed.outcomes(again.run_id) == {"created": 1}
    assert regions.SEEN == {"Company 0001": {"region": "south"}}
    notes = {r["name"]: r["notes"] for r in bed.rows("right", "company")}
    assert notes["Company 0001"] == "region south"
    assert pending_rows(bed) == {}


def test_a_record_without_context_is_kept_without_one(tmp_path: Path) -> None:
    bed = context_bed(tmp_path)
    [rid] = bed.put("left", "company", [company(7)])
    regions.BROKEN.add("Company 0007")
    bed.sync()
    assert pending_rows(bed)[rid][2] is None  # null, not "{}"
    regions.BROKEN.clear()
    again = bed.sync()
    assert bed.outcomes(again.run_id) == {"created": 1}
    assert regions.SEEN == {"Company 0007": {}}
