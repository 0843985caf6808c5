"""Sync all (``--full``) on a one-way sync puts back what was changed on the target, whether
or not an ordinary run saw the change first (seed 003's "re-sync every record")."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.bed import Bed


@pytest.mark.parametrize("seen_first", [False, True], ids=["straight-away", "after-a-run"])
def test_sync_all_puts_back_a_change_made_on_the_target(tmp_path: Path, seen_first: bool) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}})
    bed.put("left", "company", [{"name": "Viajes Sol", "city": "Sevilla", "phone": "+34 1"}])
    bed.sync()
    [copy] = bed.rows("right", "company")
    bed.edit("right", "company", copy["id"], city="Utrera", phone=None)
    if seen_first:
        ordinary = bed.sync()
        assert bed.outcomes(ordinary.run_id, "company") == {"skipped": 1}
        assert bed.rows("right", "company")[0]["city"] == "Utrera"

    run = bed.sync(full=True)

    assert bed.outcomes(run.run_id, "company") == {"updated": 1}
    [right] = bed.rows("right", "company")
    assert (right["city"], right["phone"]) == ("Sevilla", "+34 1")
    assert bed.outcomes(bed.sync(full=True).run_id, "company") == {}  # in step now
