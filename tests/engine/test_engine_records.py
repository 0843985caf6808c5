"""`run --record` and `push` name one record: its entity is found, never guessed, and an id
that does not exist is an error, not a run that does nothing and exits 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncbridge.engine.runner import NoSuchRecord
from tests.engine.bed import Bed, company

CONTACT = {"first_name": "Anna", "last_name": "Rossi", "email": "anna@example.com"}


def test_run_record_of_an_id_its_entity_lacks_is_an_error_naming_entity_side_and_id(
    tmp_path: Path,
) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}})
    bed.put("left", "company", [company(1)])

    result = bed.cli("run", "--record", "999", "--side", "left")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        'error: company left 999: no such record on the left (connection "left")\n'
    )
    # no run was started for it, and nothing was written
    assert bed.cli("report").stderr == "config error: no run yet: `syncbridge run` first\n"
    assert bed.rows("right", "company") == []

    explicit = bed.cli("run", "--record", "999", "--side", "left", "--entity", "company")
    assert (explicit.exit_code, explicit.stderr) == (1, result.stderr)

    with pytest.raises(NoSuchRecord) as caught:  # the engine's API says the same
        bed.sync(record=("left", "999"))
    assert str(caught.value) == 'company left 999: no such record on the left (connection "left")'


def test_run_record_of_an_id_no_entity_has_names_every_entity_looked_in(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}, "contact": {}})
    bed.put("left", "company", [company(1)])
    result = bed.cli("run", "--record", "999", "--side", "left", "-q")
    assert result.exit_code == 1
    assert result.stderr == (
        'error: left 999: no such record on the left (connection "left"); '
        "looked for a company or a contact\n"
    )


def test_run_record_of_an_id_several_entities_have_needs_entity(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}, "contact": {}})
    [company_id] = bed.put("left", "company", [company(1)])
    [contact_id] = bed.put("left", "contact", [CONTACT])
    assert company_id == contact_id == "1"

    result = bed.cli("run", "--record", "1", "--side", "left")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        'config error: --record 1 is ambiguous: the left (connection "left") has a company 1 '
        "and a contact 1; say which with --entity company or --entity contact\n"
    )
    assert bed.rows("right", "company") == [] and bed.rows("right", "contact") == []

    chosen = bed.cli("run", "--record", "1", "--side", "left", "--entity", "contact", "-q")
    assert chosen.exit_code == 0, chosen.output
    assert bed.rows("right", "company") == []
    [copy] = bed.rows("right", "contact")
    assert copy["email"] == "anna@example.com"
    [item] = bed.items(1)
    assert (item.entity, item.side, item.record_id, item.action) == (
        "contact",
        "left",
        "1",
        "created",
    )


def test_run_record_without_entity_runs_the_one_entity_that_has_the_id(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {}, "contact": {}})
    ids = bed.put("left", "company", [company(i) for i in range(3)])
    bed.put("left", "contact", [CONTACT])  # contact 1 only: company 3 is unambiguous

    result = bed.cli("run", "--record", ids[2], "--side", "left", "-q")
    assert result.exit_code == 0, result.output
    assert [row["name"] for row in bed.rows("right", "company")] == ["Company 0002"]
    assert bed.rows("right", "contact") == []
    assert [(i.entity, i.record_id, i.action) for i in bed.items(1)] == [
        ("company", ids[2], "created")
    ]


def test_run_record_looks_only_in_entities_that_flow_from_its_side(tmp_path: Path) -> None:
    bed = Bed(
        tmp_path,
        {"company": {"direction": "left-to-right"}, "contact": {"direction": "right-to-left"}},
    )
    bed.put("left", "company", [company(1)])
    bed.put("left", "contact", [CONTACT])  # contact 1 too, but left contacts do not flow

    result = bed.cli("run", "--record", "1", "--side", "left", "-q")
    assert result.exit_code == 0, result.output
    assert [row["name"] for row in bed.rows("right", "company")] == ["Company 0001"]

    against = bed.cli("run", "--record", "1", "--side", "left", "--entity", "contact")
    assert against.exit_code == 2
    assert against.stderr == (
        "config error: --record: the sync's direction for contact is right-to-left; a left "
        "record does not flow from there\n"
    )


def test_push_of_a_missing_record_is_an_error_naming_entity_side_and_id(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}})
    bed.put("right", "company", [company(1)])

    result = bed.cli("push", "main", "company", "--from", "right", "--record", "999")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        'error: company right 999: no such record on the right (connection "right")\n'
    )
    assert bed.rows("left", "company") == []
    assert bed.cli("report").exit_code == 2  # no run was started

    unknown_sync = bed.cli("push", "nope", "company", "--from", "right", "--record", "1")
    assert unknown_sync.exit_code == 2
    assert unknown_sync.stderr == "config error: SYNC: no sync named 'nope' (syncs: main)\n"
    unknown_entity = bed.cli("push", "main", "contact", "--from", "right", "--record", "1")
    assert unknown_entity.exit_code == 2
    assert unknown_entity.stderr == (
        "config error: ENTITY: contact is not configured for sync main (configured: company)\n"
    )

    pushed = bed.cli("push", "main", "company", "--from", "right", "--record", "1", "-q")
    assert pushed.exit_code == 0, pushed.output
    assert [row["name"] for row in bed.rows("left", "company")] == ["Company 0001"]


def test_push_of_a_record_referencing_a_missing_one_names_both(tmp_path: Path) -> None:
    bed = Bed(
        tmp_path,
        {"company": {"direction": "left-to-right"}, "invoice": {"direction": "left-to-right"}},
    )
    [invoice] = bed.put(
        "right",
        "invoice",
        [
            {
                "number": "B24-9",
                "date": "2026-11-21",
                "company_id": "77",  # no company 77 on the right
                "lines": [{"description": "Beratung", "quantity": "1", "unit_price": "95.00"}],
            }
        ],
    )
    result = bed.cli("push", "main", "invoice", "--from", "right", "--record", invoice)
    assert result.exit_code == 1
    assert result.stderr == (
        'error: company right 77: no such record on the right (connection "right"), '
        f"referenced by invoice {invoice}\n"
    )
    assert bed.rows("left", "invoice") == [] and bed.rows("left", "company") == []
