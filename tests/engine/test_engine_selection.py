"""Review before transfer (seed 003): plan a line into a selection file, untick rows and
columns, and the run transfers exactly what stayed ticked; a selection made against records
that changed since is refused, with nothing transferred."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import tomlkit

from tests.engine.bed import Bed

CUSTOMERS = {"line": "customers", "direction": "left-to-right"}


def _untick(path: Path, rows: set[str], columns: set[str]) -> None:
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    for row in document["rows"]:  # type: ignore[union-attr]
        if row["record"] in rows:
            row["tick"] = False
    for name in columns:
        document["columns"][name] = False  # type: ignore[index]
    path.write_text(tomlkit.dumps(document), encoding="utf-8")


def _bed(tmp_path: Path) -> tuple[Bed, Path, list[str]]:
    bed = Bed(tmp_path, {"company": CUSTOMERS})
    ids = bed.put(
        "left",
        "company",
        [
            {"name": "ACME", "city": "Milano", "phone": "+39 1"},
            {"name": "Bolt", "city": "Roma", "phone": "+39 2"},
            {"name": "Corvo", "city": "Bari", "phone": "+39 3"},
        ],
    )
    return bed, tmp_path / "review.toml", ids


def test_only_the_ticked_rows_and_columns_are_transferred(tmp_path: Path) -> None:
    bed, review, _ids = _bed(tmp_path)

    planned = bed.cli("plan", "--line", "customers", "--selection", str(review), "-q")
    assert planned.exit_code == 0, planned.output
    document = tomllib.loads(review.read_text(encoding="utf-8"))
    assert (document["line"], document["sync"], document["entity"]) == (
        "customers", "main", "company",
    )
    assert sorted((r["record"], r["action"], r["tick"]) for r in document["rows"]) == [
        ("ACME", "created", True), ("Bolt", "created", True), ("Corvo", "created", True),
    ]
    assert document["columns"]["phone"] is True and document["columns"]["city"] is True
    assert bed.rows("right", "company") == []  # a plan writes nothing

    _untick(review, rows={"Bolt"}, columns={"phone"})
    done = bed.cli("run", "--selection", str(review), "-q")

    assert done.exit_code == 0, done.output
    right = sorted((r["name"], r["city"], r["phone"]) for r in bed.rows("right", "company"))
    assert right == [("ACME", "Milano", None), ("Corvo", "Bari", None)]
    # a later run of the line is an ordinary one: Bolt, never reviewed away for good, goes
    assert bed.cli("run", "--line", "customers", "-q").exit_code == 0
    assert sorted(r["name"] for r in bed.rows("right", "company")) == ["ACME", "Bolt", "Corvo"]


def test_a_selection_of_changed_records_is_refused_and_nothing_is_transferred(
    tmp_path: Path,
) -> None:
    bed, review, ids = _bed(tmp_path)
    assert bed.cli("plan", "--line", "customers", "--selection", str(review)).exit_code == 0
    bed.edit("left", "company", ids[1], city="Napoli")  # Bolt changes after the review

    refused = bed.cli("run", "--selection", str(review), "-q")

    assert refused.exit_code == 2
    message = " ".join((refused.output + refused.stderr).split())
    assert (
        f"--selection {review}: company left {ids[1]} changed since it was planned; nothing "
        "was transferred. Plan again"
    ) in message
    assert bed.rows("right", "company") == []


def test_a_two_way_line_cannot_be_run_from_a_selection(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {**CUSTOMERS, "direction": "both"}})
    bed.put("left", "company", [{"name": "ACME", "city": "Milano"}])
    review = tmp_path / "review.toml"
    assert bed.cli("plan", "--line", "customers", "--selection", str(review)).exit_code == 0

    refused = bed.cli("run", "--selection", str(review), "-q")

    assert refused.exit_code == 2
    assert "a selection of records is transferred only by a one-way rule" in " ".join(
        (refused.output + refused.stderr).split()
    )
    assert bed.rows("right", "company") == []


def test_the_report_of_a_line_shows_its_rows_alone_with_the_legend(tmp_path: Path) -> None:
    bed = Bed(
        tmp_path,
        {
            "company": CUSTOMERS,
            "product": {"line": "catalog", "direction": "left-to-right"},
        },
    )
    bed.put("left", "company", [{"name": "ACME", "city": "Milano"}])
    bed.put("left", "product", [{"name": "Widget", "code": "W-1", "price": "9.90"}])
    assert bed.cli("run", "-q").exit_code == 0
    assert bed.cli("run", "--line", "catalog", "-q").exit_code == 0  # a later run, not ours

    rows = json.loads(bed.cli("report", "--line", "customers", "--json").stdout)
    shown = bed.cli("report", "--line", "customers")

    assert [(r["entity"], r["outcome"]) for r in rows] == [("company", "created")]
    assert "legend:" in shown.stdout and "Widget" not in shown.stdout
    unknown = bed.cli("report", "--line", "custmers")
    assert unknown.exit_code == 2
    assert "no line named 'custmers'; did you mean 'customers'?" in unknown.output + unknown.stderr
