"""One-way, incremental, two-way, conflicts and echo suppression over two SQLite files, with
the state store on each backend (a SQLite file, and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from tests.engine.bed import Bed, company


def test_first_one_way_run_copies_everything_and_the_next_writes_nothing(
    tmp_path: Path, state_url: str
) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}}, state_url=state_url)
    # more than a chunk and a multi-row statement hold (500 each)
    bed.put("left", "company", [company(i) for i in range(1205)])

    first = bed.sync()
    assert first.writes == 1205
    assert bed.outcomes(first.run_id) == {"created": 1205}
    left, right = bed.by("left", "company", "name"), bed.by("right", "company", "name")
    assert set(right) == set(left)
    for name, row in left.items():
        for field in ("city", "country", "address", "email"):
            assert right[name][field] == row[field]

    second = bed.sync()
    assert second.writes == 0
    assert bed.outcomes(second.run_id) == {}


def test_incremental_run_updates_exactly_the_changed_records(
    tmp_path: Path, state_url: str
) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}}, state_url=state_url)
    ids = bed.put("left", "company", [company(i) for i in range(50)])
    bed.sync()
    for record_id in ids[:3]:
        bed.edit("left", "company", record_id, phone=f"+39 06 {record_id}")

    run = bed.sync()
    assert run.writes == 3
    assert bed.outcomes(run.run_id) == {"updated": 3}
    phones = {row["name"]: row["phone"] for row in bed.rows("right", "company")}
    assert sorted(p for p in phones.values() if p) == sorted(f"+39 06 {i}" for i in ids[:3])


def test_two_way_changes_flow_both_ways_and_echoes_are_not_written_back(
    tmp_path: Path, state_url: str
) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "both", "priority": "left"}}, state_url=state_url)
    bed.put("left", "company", [company(i) for i in range(10)])
    bed.put("right", "company", [company(i) for i in range(100, 105)])
    first = bed.sync()
    assert bed.outcomes(first.run_id) == {"created": 15}
    assert len(bed.rows("left", "company")) == len(bed.rows("right", "company")) == 15

    left = bed.by("left", "company", "name")
    right = bed.by("right", "company", "name")
    bed.edit("left", "company", left["Company 0001"]["id"], city="Torino")
    bed.edit("right", "company", right["Company 0101"]["id"], city="Napoli")
    run = bed.sync()
    assert run.writes == 2
    assert bed.outcomes(run.run_id) == {"updated": 2}
    assert bed.by("right", "company", "name")["Company 0001"]["city"] == "Torino"
    assert bed.by("left", "company", "name")["Company 0101"]["city"] == "Napoli"

    echo = bed.sync()  # both written records changed on their sides: they are our own writes
    assert echo.writes == 0
    assert bed.outcomes(echo.run_id) == {}
    assert echo.entities[0].counts == {"unchanged": 2}


def test_a_record_changed_on_both_sides_goes_to_the_priority_side_and_is_reported(
    tmp_path: Path, state_url: str
) -> None:
    bed = Bed(
        tmp_path, {"company": {"direction": "both", "priority": "right"}}, state_url=state_url
    )
    bed.put("left", "company", [company(1)])
    bed.sync()
    left_id = bed.rows("left", "company")[0]["id"]
    right_id = bed.rows("right", "company")[0]["id"]
    bed.edit("left", "company", left_id, city="Torino")
    bed.edit("right", "company", right_id, city="Roma")

    run = bed.sync()
    [item] = bed.items(run.run_id, "company")
    assert item.action == "conflict"
    assert item.reason == "changed on both sides; right wins by priority"
    import json

    assert json.loads(item.detail) == {
        "city": {
            "to": "left",
            "before": "Torino",
            "after": "Roma",
            "left": "Torino",
            "right": "Roma",
            "winner": "right",
        }
    }
    assert bed.rows("left", "company")[0]["city"] == "Roma"
    assert bed.rows("right", "company")[0]["city"] == "Roma"
    assert bed.sync().writes == 0


def test_full_run_after_out_of_band_edits_realigns_and_writes_only_differences(
    tmp_path: Path, state_url: str
) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "both", "priority": "left"}}, state_url=state_url)
    bed.put("left", "company", [company(i) for i in range(30)])
    bed.sync()
    right = bed.rows("right", "company")
    # an out-of-band edit the cursor cannot see: restore the cursor afterwards
    bed.edit("right", "company", right[0]["id"], city="Bari")
    bed.edit("right", "company", right[1]["id"], city="Bari")
    run = bed.sync(full=True)
    assert run.writes == 2
    # the 28 pairs in step get no report row, only a count
    assert bed.outcomes(run.run_id) == {"updated": 2}
    assert run.entities[0].counts == {"updated": 2, "unchanged": 28}
    assert {row["city"] for row in bed.rows("left", "company")} == {"Milano", "Bari"}
    again = bed.sync(full=True)
    assert again.writes == 0
