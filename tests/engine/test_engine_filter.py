"""A filter pushed down to a one-way sync's source: only the wanted records are loaded, a
record that stops matching is not taken for deleted, and a changed filter reads anew."""

from __future__ import annotations

from pathlib import Path

from tests.engine.bed import Bed

CUSTOMERS = {"direction": "left-to-right", "deletes": True, "filter": {"status": "Customer"}}


def _names(bed: Bed, side: str) -> dict[str, str | None]:
    return {row["name"]: row["status"] for row in bed.rows(side, "company")}


def test_only_the_wanted_records_are_read_and_none_is_taken_for_deleted(
    tmp_path: Path,
) -> None:
    bed = Bed(tmp_path, {"company": CUSTOMERS})
    acme, _bolt, corvo = bed.put(
        "left",
        "company",
        [
            {"name": "ACME", "status": "Customer"},
            {"name": "Bolt", "status": "Lead"},
            {"name": "Corvo", "status": "Customer"},
        ],
    )

    first = bed.sync()

    # the Lead was never loaded: no `filtered` row for it, as an engine-side filter gives
    assert bed.outcomes(first.run_id, "company") == {"created": 2}
    assert first.entities[0].counts["filtered"] == 0
    assert _names(bed, "right") == {"ACME": "Customer", "Corvo": "Customer"}

    # ACME stops being a customer: a filtered read does not see it, and it is not gone
    bed.edit("left", "company", acme, status="Lead")
    bed.edit("left", "company", corvo, city="Bari")
    second = bed.sync(full=True)
    assert bed.outcomes(second.run_id, "company") == {"updated": 1}
    assert _names(bed, "right") == {"ACME": "Customer", "Corvo": "Customer"}


def test_a_changed_filter_reads_the_side_anew(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": CUSTOMERS})
    bed.put(
        "left",
        "company",
        [{"name": "ACME", "status": "Customer"}, {"name": "Bolt", "status": "Lead"}],
    )
    bed.sync()
    assert _names(bed, "right") == {"ACME": "Customer"}

    # the cursor is past Bolt's last change: kept, it would never bring Bolt
    bed.rewrite({"company": {**CUSTOMERS, "filter": {"status": ["Customer", "Lead"]}}})
    run = bed.sync()

    assert bed.outcomes(run.run_id, "company") == {"created": 1}
    assert _names(bed, "right") == {"ACME": "Customer", "Bolt": "Lead"}


def test_a_two_way_sync_reads_both_sides_whole(tmp_path: Path) -> None:
    """A twin outside the filter must be matched, not created again."""
    rule = {"direction": "both", "filter": {"status": "Customer"}}
    bed = Bed(tmp_path, {"company": rule})
    bed.put("left", "company", [{"name": "ACME", "status": "Customer", "city": "Roma"}])
    bed.put("right", "company", [{"name": "ACME", "status": "Lead", "city": "Roma"}])

    run = bed.sync()

    assert len(bed.rows("right", "company")) == 1
    assert len(bed.links("company")) == 1
    assert "created" not in bed.outcomes(run.run_id, "company")
