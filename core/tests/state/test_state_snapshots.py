"""Snapshot writes: a record read twice in one batch keeps its last version (both databases)."""

from __future__ import annotations

from syncbridge.engine.db import SideStore
from syncbridge.engine.values import match_value
from syncbridge.state import StateStore


def test_a_record_read_twice_in_one_batch_keeps_its_last_version(state_url: str) -> None:
    store = StateStore(state_url)
    side = SideStore("s", "company", "left")
    rows = [("1", "a" * 32, '{"name": "Old", "city": "Roma"}'),
            ("2", "b" * 32, '{"name": "Other", "city": "Bari"}'),
            ("1", "c" * 32, '{"name": "New", "city": "Roma"}')]
    with store.engine.begin() as db:
        side.save_snapshots(db, rows, 7, [["name", "city"]])
    with store.engine.begin() as db:  # and again, over existing rows
        side.save_snapshots(db, rows, 8, [["name", "city"]])
    with store.engine.connect() as db:
        found = side.snapshots(db, ["1", "2"])
        assert found["1"] == ("c" * 32, {"name": "New", "city": "Roma"})
        assert found["2"][1]["name"] == "Other"
        assert side.candidate_ids(db, 8, "", 10) == ["1", "2"]
        new = match_value({"name": "New", "city": "Roma"}, ["name", "city"])
        old = match_value({"name": "Old", "city": "Roma"}, ["name", "city"])
        assert side.find_matches(db, 0, [new, old]) == {new: ["1"]}
    store.close()
