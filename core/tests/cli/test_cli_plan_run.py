"""``syncbridge plan`` writes nothing; ``syncbridge run --record`` syncs exactly one record."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.engine.bed import Bed, company


def counts(path: Path) -> dict[str, int]:
    """Rows per table of a SQLite database (every table, so no write goes unnoticed)."""
    with sqlite3.connect(path) as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def test_plan_reports_the_creates_and_writes_nothing_to_either_side(
    tmp_path: Path, table_rows: Callable[[str], list[list[str]]]
) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "both"}})
    bed.put("left", "company", [company(i) for i in range(3)])
    bed.put("right", "company", [company(7)])
    left_before, right_before = counts(tmp_path / "left.db"), counts(tmp_path / "right.db")
    assert left_before["company"] == 3 and right_before["company"] == 1

    result = bed.cli("plan")
    assert result.exit_code == 0, result.output
    assert "Plan #1 of sync main" in result.stdout
    assert table_rows(result.stdout) == [["company", "4", "ok"]]
    header = result.stdout.split("Plan #1 of sync main")[1]
    assert "create" in header and "created" not in header

    verbose = bed.cli("plan", "--verbose", "-q")
    assert verbose.exit_code == 0
    assert verbose.stdout == ""  # --quiet wins

    assert counts(tmp_path / "left.db") == left_before
    assert counts(tmp_path / "right.db") == right_before
    assert bed.outcomes(1) == {"created": 4}  # what a run would do, reported per record

    again = bed.cli("plan")  # a plan moves no cursor: the next plan sees the same work
    assert table_rows(again.stdout) == [["company", "4", "ok"]]

    assert bed.cli("run", "-q").exit_code == 0
    assert counts(tmp_path / "left.db")["company"] == 4
    assert counts(tmp_path / "right.db")["company"] == 4


def test_run_record_syncs_exactly_that_record(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}})
    ids = bed.put("left", "company", [company(i) for i in range(3)])

    result = bed.cli("run", "--record", ids[1], "--side", "left", "--sync", "main", "-q")
    assert result.exit_code == 0, result.output
    assert [row["name"] for row in bed.rows("right", "company")] == ["Company 0001"]
    [item] = bed.items(1)
    assert (item.entity, item.side, item.record_id, item.action) == (
        "company",
        "left",
        ids[1],
        "created",
    )

    rest = bed.cli("run", "-q")
    assert rest.exit_code == 0
    assert sorted(row["name"] for row in bed.rows("right", "company")) == [
        "Company 0000",
        "Company 0001",
        "Company 0002",
    ]
    assert bed.outcomes(2) == {"created": 2}


def test_run_record_needs_a_side(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}})
    ids = bed.put("left", "company", [company(1)])
    result = bed.cli("run", "--record", ids[0], "--sync", "main")
    assert result.exit_code == 2
    assert result.stderr == (
        "config error: --record needs --side left|right (the side the id belongs to)\n"
    )
    assert bed.rows("right", "company") == []


def test_run_an_unknown_sync_is_a_usage_error(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}})
    result = bed.cli("run", "--sync", "nope")
    assert result.exit_code == 2
    assert result.stderr == "config error: --sync: no sync named 'nope' (syncs: main)\n"


def test_plan_and_run_exit_1_when_a_record_fails(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}})
    bed.put("left", "company", [company(1)])
    with sqlite3.connect(tmp_path / "left.db") as db:
        db.execute("UPDATE company SET vat_number = 'IT123'")
    assert bed.cli("plan", "-q").exit_code == 1  # the plan already knows it will fail
    assert bed.cli("run", "-q").exit_code == 1
    report = json.loads(bed.cli("report", "--json").stdout)
    assert [row["outcome"] for row in report] == ["failed"]
