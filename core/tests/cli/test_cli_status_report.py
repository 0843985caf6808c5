"""``syncbridge status`` and ``syncbridge report`` before and after runs."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from tests.engine.bed import Bed, company

BAD_VAT = "vat_number: 'IT123' is not a valid Italian VAT number: it has the wrong number of digits"


def test_status_before_and_after_a_run(
    tmp_path: Path, table_rows: Callable[[str], list[list[str]]]
) -> None:
    bed = Bed(tmp_path, {"company": {"every": "10m"}, "contact": {}})
    bed.put("left", "company", [company(i) for i in range(3)])

    before = bed.cli("status", "--json")
    assert before.exit_code == 0, before.output
    assert json.loads(before.stdout) == [
        {
            "sync": "main",
            "entity": "company",
            "last_run": None,
            "finished": None,
            "result": "never run",
            "counts": {},
            "next_due": "now",
            "message": None,
        },
        {
            "sync": "main",
            "entity": "contact",
            "last_run": None,
            "finished": None,
            "result": "never run",
            "counts": {},
            "next_due": "manual",
            "message": None,
        },
    ]
    shown = bed.cli("status")
    assert shown.exit_code == 0
    assert table_rows(shown.stdout) == [
        ["main", "company", "-", "-", "never run", "", "now"],
        ["main", "contact", "-", "-", "never run", "", "manual"],
    ]

    assert bed.cli("plan", "-q").exit_code == 0  # a dry run is not a run
    assert json.loads(bed.cli("status", "--json").stdout) == json.loads(before.stdout)

    assert bed.cli("run", "-q").exit_code == 0
    after = json.loads(bed.cli("status", "--json").stdout)
    company_row, contact_row = after
    finished = datetime.fromisoformat(company_row["finished"])
    assert finished.utcoffset() == timedelta(0)
    assert company_row == {
        "sync": "main",
        "entity": "company",
        "last_run": 2,
        "finished": company_row["finished"],
        "result": "ok",
        "counts": {"created": 3},
        "message": None,
        "next_due": (finished + timedelta(minutes=10)).isoformat(timespec="seconds"),
    }
    assert contact_row == {
        "sync": "main",
        "entity": "contact",
        "last_run": 2,
        "finished": contact_row["finished"],
        "result": "ok",
        "counts": {},
        "next_due": "manual",
        "message": None,
    }
    assert [row[4] for row in table_rows(bed.cli("status").stdout)] == ["ok", "ok"]


def run_with_one_failure(tmp_path: Path) -> tuple[Bed, str]:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}})
    bed.put("left", "company", [company(i) for i in range(3)])
    bad_id = bed.by("left", "company", "name")["Company 0001"]["id"]
    with sqlite3.connect(tmp_path / "left.db") as db:
        db.execute("UPDATE company SET vat_number = 'IT123' WHERE id = ?", (int(bad_id),))
    result = bed.cli("run", "-q")
    assert result.exit_code == 1, result.output
    return bed, bad_id


def test_report_json_gives_every_record_with_outcome_and_reason(tmp_path: Path) -> None:
    bed, bad_id = run_with_one_failure(tmp_path)
    result = bed.cli("report", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    created = {row["record_id"]: row for row in rows if row["outcome"] == "created"}
    right_ids = {row["name"]: row["id"] for row in bed.rows("right", "company")}
    left_ids = {row["name"]: row["id"] for row in bed.rows("left", "company")}
    assert sorted(created) == sorted([left_ids["Company 0000"], left_ids["Company 0002"]])
    for name in ("Company 0000", "Company 0002"):
        assert created[left_ids[name]] == {
            "run": 1,
            "entity": "company",
            "side": "left",
            "record_id": left_ids[name],
            "target_id": right_ids[name],
            "outcome": "created",
            "reason": "new on the left",
            "detail": None,
        }
    [failed] = [row for row in rows if row["outcome"] == "failed"]
    assert {
        k: failed[k]
        for k in ("run", "entity", "side", "record_id", "target_id", "outcome", "reason")
    } == {
        "run": 1,
        "entity": "company",
        "side": "left",
        "record_id": bad_id,
        "target_id": None,
        "outcome": "failed",
        "reason": BAD_VAT,
    }
    assert len(rows) == 3

    assert json.loads(bed.cli("report", "1", "--json").stdout) == rows
    missing = bed.cli("report", "7", "--json")
    assert missing.exit_code == 2
    assert missing.stderr == "config error: RUN: there is no run #7\n"


def test_report_csv_gives_the_same_rows(tmp_path: Path) -> None:
    bed, bad_id = run_with_one_failure(tmp_path)
    result = bed.cli("report", "--csv")
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == [
        "run",
        "entity",
        "side",
        "record_id",
        "target_id",
        "outcome",
        "reason",
        "detail",
    ]
    rows = list(reader)
    assert sorted((r["record_id"], r["outcome"], r["reason"]) for r in rows) == sorted(
        [
            *(
                (r["record_id"], "created", "new on the left")
                for r in json.loads(bed.cli("report", "--json").stdout)
                if r["outcome"] == "created"
            ),
            (bad_id, "failed", BAD_VAT),
        ]
    )
    assert all(r["run"] == "1" and r["entity"] == "company" for r in rows)


def test_report_before_any_run_is_a_usage_error(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}})
    result = bed.cli("report")
    assert result.exit_code == 2
    assert result.stderr == "config error: no run yet: `syncbridge run` first\n"
