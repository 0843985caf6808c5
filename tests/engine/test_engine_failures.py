"""Bad records are reported and retried; deletions are opt-in; the lease keeps runs apart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from syncbridge.engine.lease import EntityLease
from syncbridge.errors import LeaseBusy
from syncbridge.workspace import Workspace
from tests.engine.bed import Bed, company


def test_a_record_failing_validation_is_reported_skipped_and_retried_until_fixed(
    tmp_path: Path,
) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}})
    bed.put("left", "company", [company(i) for i in range(5)])
    bad_id = bed.by("left", "company", "name")["Company 0002"]["id"]
    # out-of-band: a management application stores a VAT number that is not valid
    with sqlite3.connect(tmp_path / "left.db") as db:
        db.execute("UPDATE company SET vat_number = 'IT123' WHERE id = ?", (int(bad_id),))

    result = bed.cli("run", "-q")
    assert result.exit_code == 1
    run = bed.items(1)
    failed = [item for item in run if item.action == "failed"]
    assert [(f.record_id, f.reason) for f in failed] == [
        (
            bad_id,
            "vat_number: 'IT123' is not a valid Italian VAT number: it has the wrong "
            "number of digits",
        )
    ]
    assert sorted(row["name"] for row in bed.rows("right", "company")) == [
        "Company 0000",
        "Company 0001",
        "Company 0003",
        "Company 0004",
    ]

    again = bed.cli("run", "-q")  # retried although unchanged: still failing, still reported
    assert again.exit_code == 1
    assert [i.action for i in bed.items(2)] == ["failed"]

    bed.edit("left", "company", bad_id, vat_number="IT00743110157")
    fixed = bed.cli("run", "-q")
    assert fixed.exit_code == 0, [(i.action, i.reason) for i in bed.items(3)]
    assert bed.outcomes(3) == {"created": 1}
    assert bed.by("right", "company", "name")["Company 0002"]["vat_number"] == "IT00743110157"
    assert bed.cli("run", "-q").exit_code == 0


def test_a_record_the_target_rejects_fails_alone_and_goes_through_once_fixed(
    tmp_path: Path,
) -> None:
    with sqlite3.connect(tmp_path / "right.db") as db:
        db.execute(
            "CREATE TABLE crm_company (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "name TEXT NOT NULL CHECK (length(name) <= 12), city TEXT, "
            "updated_at TIMESTAMP, sync_key TEXT UNIQUE)"
        )
    bed = Bed(
        tmp_path,
        {"company": {"direction": "left-to-right"}},
        right_settings={
            "tables": {"company": "crm_company"},
            "columns": {"company": {"name": "name", "city": "city"}},
        },
    )
    bed.put(
        "left",
        "company",
        [
            {"name": "Short", "city": "Roma"},
            {"name": "A name far too long", "city": "Bari"},
            {"name": "Fine too", "city": "Pisa"},
        ],
    )
    result = bed.cli("run", "-q")
    assert result.exit_code == 1
    [failed] = [i for i in bed.items(1) if i.action == "failed"]
    assert failed.reason.startswith("the right rejected it: ")
    assert "CHECK constraint failed" in failed.reason
    assert sorted(r["name"] for r in bed.rows("right", "company")) == ["Fine too", "Short"]

    long_id = bed.by("left", "company", "name")["A name far too long"]["id"]
    bed.edit("left", "company", long_id, name="Now short")
    assert bed.cli("run", "-q").exit_code == 0
    assert sorted(r["name"] for r in bed.rows("right", "company")) == [
        "Fine too",
        "Now short",
        "Short",
    ]


@pytest.mark.parametrize("deletes", [False, True])
def test_deletions_propagate_only_when_enabled(tmp_path: Path, deletes: bool) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right", "deletes": deletes}})
    bed.put("left", "company", [company(i) for i in range(3)])
    bed.sync()
    gone = bed.by("left", "company", "name")["Company 0001"]["id"]
    bed.remove("left", "company", gone)
    assert bed.sync().entities[0].counts["missing"] == 0  # an incremental read cannot see it
    run = bed.sync(full=True)  # a complete read finds what is gone
    [item] = [i for i in bed.items(run.run_id) if i.action != "skipped"]
    names = sorted(r["name"] for r in bed.rows("right", "company"))
    if deletes:
        assert item.action == "deleted"
        assert names == ["Company 0000", "Company 0002"]
    else:
        assert item.action == "missing"
        assert item.reason == (
            f"deleted on the left, kept on the right ({item.target_id}); it is not created "
            "again (deletions are not propagated: set deletes = true)"
        )
        assert names == ["Company 0000", "Company 0001", "Company 0002"]
    again = bed.sync(full=True)
    assert again.writes == 0
    assert bed.items(again.run_id) == []  # reported once
    assert len(bed.rows("left", "company")) == 2  # and never created again where it went


def test_a_second_run_of_the_same_entity_is_refused_while_the_lease_is_held(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}})
    bed.put("left", "company", [company(1)])
    with Workspace.load(bed.config) as workspace:
        holder = EntityLease(workspace.store.engine, "main", "company")
        holder.acquire()
        try:
            with pytest.raises(LeaseBusy) as busy:
                EntityLease(workspace.store.engine, "main", "company").acquire()
            assert "is being run by" in str(busy.value)
            result = bed.cli("run", "-q")
            assert result.exit_code == 1
            assert "sync 'main' entity 'company' is being run by" in result.output
            assert bed.rows("right", "company") == []
        finally:
            holder.release()
    assert bed.cli("run", "-q").exit_code == 0
    assert len(bed.rows("right", "company")) == 1


#: an extension whose mapping raises KeyError for one record, as a connector bug would
KEYERROR_IN = """
from syncbridge.hookspecs import hookimpl

BROKEN = {"Company 0001"}

@hookimpl(wrapper=True)
def map(entity, record, direction, settings):
    if direction == "in" and entity == "company" and record.get("name") in BROKEN:
        raise KeyError("vat_code")
    return (yield)
"""


def test_any_exception_a_mapping_raises_fails_that_record_only_and_it_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    folder = tmp_path / "extensions"
    folder.mkdir()
    (folder / "keyerror_in.py").write_text(KEYERROR_IN)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "keyerror_in", raising=False)
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}})
    text = bed.config.read_text()
    bed.config.write_text(
        text.replace(
            '[connections.left]\nconnector = "sql"\n',
            '[connections.left]\nconnector = "sql"\nextensions = ["keyerror_in"]\n',
        )
    )
    ids = bed.put("left", "company", [company(i) for i in range(3)])

    run = bed.sync()
    [failed] = [i for i in bed.items(run.run_id) if i.action == "failed"]
    assert (failed.side, failed.record_id) == ("left", ids[1])
    assert failed.reason == "KeyError: 'vat_code'"
    assert sorted(r["name"] for r in bed.rows("right", "company")) == [
        "Company 0000", "Company 0002"]

    import keyerror_in  # the mapping is fixed: the next run takes the record through

    keyerror_in.BROKEN.clear()
    again = bed.sync()
    assert bed.outcomes(again.run_id) == {"created": 1}
    assert sorted(r["name"] for r in bed.rows("right", "company")) == [
        "Company 0000", "Company 0001", "Company 0002"]
