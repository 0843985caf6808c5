"""Where output goes and how it looks: results on stdout, progress and problems on stderr,
sentences a person can read, tables that fit 80 columns without cutting a value."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.engine.bed import Bed, company

Rows = Callable[[str], list[list[str]]]

LONG_LEFT = "Via della Repubblica Italiana 1234, Scala B, Interno 56, 20100 Milano"
LONG_RIGHT = "Piazza del Duomo 1, Secondo Piano, Ufficio Amministrazione Centrale"


def test_progress_goes_to_stderr_in_sentences_and_the_summary_to_stdout(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "both"}})
    bed.put("left", "company", [company(i) for i in range(3)])
    result = bed.cli("run")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "company: 3 records read from the left (left)",
        "company: 0 records read from the right (right)",
        "company: 3 records from the left (left) reconciled",
    ]
    assert result.stdout.startswith("Run #1 of sync main\n")
    assert "read" not in result.stdout

    plan = bed.cli("plan")  # the run's creates on the right are the right's changes now
    assert plan.stderr.splitlines() == [
        "company: 0 records read from the left (left)",
        "company: 3 records read from the right (right)",
        "company: 3 records from the right (right) planned",
    ]


def test_quiet_is_silent_when_all_is_well_and_still_says_what_failed(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}})
    bed.put("left", "company", [company(i) for i in range(2)])
    with sqlite3.connect(tmp_path / "left.db") as db:
        db.execute("UPDATE company SET vat_number = 'IT123' WHERE name = 'Company 0001'")
    failing = bed.cli("run", "-q")
    assert failing.exit_code == 1
    assert failing.stdout == ""
    assert failing.stderr == (
        "run #1 of main: company: 1 record failed; `syncbridge report 1` says why\n"
    )
    (tmp_path / "calm").mkdir()
    calm_bed = Bed(tmp_path / "calm", {"company": {}})
    calm_bed.put("left", "company", [company(1)])
    calm = calm_bed.cli("run", "-q")
    assert (calm.exit_code, calm.stdout, calm.stderr) == (0, "", "")


def fits(text: str) -> None:
    for line in text.splitlines():
        assert len(line) <= 80, f"{len(line)} columns: {line}"
    assert "…" not in text


def test_status_and_report_fit_80_columns_and_cut_no_value(
    tmp_path: Path, table_rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    bed = Bed(tmp_path, {"company": {"direction": "both", "every": "10m"}})
    [left_id] = bed.put("left", "company", [company(1)])
    assert bed.cli("run", "-q").exit_code == 0
    [(_, right_id)] = bed.links("company")
    bed.edit("left", "company", left_id, address=LONG_LEFT)
    bed.edit("right", "company", right_id, address=LONG_RIGHT)
    summary = bed.cli("run")
    fits(summary.stdout)

    status = bed.cli("status")
    fits(status.stdout)
    [row] = table_rows(status.stdout)
    [entity_run] = json.loads(bed.cli("status", "--json").stdout)
    finished = entity_run["finished"].replace("T", " ").removesuffix("+00:00")
    due = entity_run["next_due"].replace("T", " ").removesuffix("+00:00")
    assert row == ["main", "company", "2", finished, "ok", "conflict 1", due]

    report = bed.cli("report")
    fits(report.stdout)
    [conflict] = table_rows(report.stdout)
    assert conflict[:4] == ["company", f"left {left_id}", right_id, "conflict"]
    assert (
        f"address: left {LONG_LEFT!r} / right {LONG_RIGHT!r}, left wins" in conflict[4]
    )
