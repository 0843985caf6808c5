"""The merge model's issue cases (docs/concepts/merge.md), each with its data, asserting the
exact records on both sides and what the report says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from syncbridge.errors import SkipRecord
from syncbridge.hookspecs import hookimpl
from tests.engine.bed import Bed

META = ("id", "updated_at")


def contents(bed: Bed, side: str, entity: str = "company") -> list[dict[str, Any]]:
    """The side's records, canonical, without id and stamp, in a stable order."""
    records = [
        record.model_dump(exclude=set(META)) for record in bed.canonical(side, entity).values()
    ]
    return sorted(records, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def company(**fields: Any) -> dict[str, Any]:
    """A full canonical company: every field, empty unless given."""
    from syncbridge.models import Company

    return Company.model_validate(fields).model_dump(exclude=set(META))


def rows(bed: Bed, run_id: int) -> list[tuple[str, str, str]]:
    return [(item.side, item.record_id, item.action) for item in bed.items(run_id)]


def written(bed: Bed, run_id: int) -> list[Any]:
    """Report rows of ``run_id`` other than ``skipped``."""
    return [item for item in bed.items(run_id) if item.action != "skipped"]


def mentions(detail: Any, name: str, *values: Any) -> bool:
    """Whether ``detail`` (a report row's JSON detail) has a ``name`` entry holding every
    one of ``values`` somewhere below it, whatever the layout."""

    def flat(node: Any) -> list[Any]:
        if isinstance(node, dict):
            return [leaf for value in node.values() for leaf in flat(value)]
        if isinstance(node, list):
            return [leaf for value in node for leaf in flat(value)]
        return [node]

    def find(node: Any) -> list[Any]:
        found: list[Any] = []
        if isinstance(node, dict):
            for key, value in node.items():
                if key == name:
                    found.append(value)
                found += find(value)
        elif isinstance(node, list):
            for value in node:
                found += find(value)
        return found

    return any(all(value in flat(entry) for value in values) for entry in find(detail))


# -- 1. a first link is a union: it never blanks anything ----------------------------------


def test_a_first_link_fills_both_sides_and_blanks_nothing(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "both", "match": [["name", "city"]]}})
    [erp] = bed.put(
        "left",
        "company",
        [{"name": "Bianchi S.p.A.", "city": "Torino", "country": "IT", "address": "Via Po 1"}],
    )
    [crm] = bed.put(
        "right",
        "company",
        [
            {
                "name": "Bianchi S.p.A.",
                "city": "Torino",
                "country": "IT",
                "phone": "+39 011 555 0101",
                "vat_number": "IT00743110157",
            }
        ],
    )
    run = bed.sync()
    assert not run.failed
    [item] = written(bed, run.run_id)
    assert item.action == "updated", f"{item.action}: {item.reason}"
    assert (item.side, item.record_id) in (("left", erp), ("right", crm))
    both = company(
        name="Bianchi S.p.A.",
        city="Torino",
        country="IT",
        address="Via Po 1",
        phone="+39 011 555 0101",
        vat_number="IT00743110157",
    )
    assert contents(bed, "left") == [both]  # the ERP got the phone and the VAT number
    assert contents(bed, "right") == [both]  # the CRM kept them (and got the address)
    assert bed.links("company") == [(erp, crm)]

    full = bed.sync(full=True)
    assert full.writes == 0
    assert written(bed, full.run_id) == []
    assert contents(bed, "left") == [both] and contents(bed, "right") == [both]


# -- 2. edits of different fields on the two sides both survive ----------------------------


def test_edits_of_different_fields_on_each_side_both_survive(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "both"}})
    [left_id] = bed.put(
        "left",
        "company",
        [{"name": "Rossi S.r.l.", "city": "Roma", "email": "old@rossi.it", "phone": "111"}],
    )
    first = bed.sync()
    assert rows(bed, first.run_id) == [("left", left_id, "created")]
    [(_, right_id)] = bed.links("company")

    bed.edit("left", "company", left_id, email="new@rossi.it")
    bed.edit("right", "company", right_id, phone="222")
    run = bed.sync()
    assert not run.failed
    expected = company(name="Rossi S.r.l.", city="Roma", email="new@rossi.it", phone="222")
    assert contents(bed, "left") == [expected]
    assert contents(bed, "right") == [expected]
    [item] = written(bed, run.run_id)
    assert (item.side, item.record_id) in (("left", left_id), ("right", right_id))
    assert item.action == "updated", f"{item.action}: {item.reason}"
    detail = json.loads(item.detail) if item.detail else None
    assert mentions(detail, "email", "old@rossi.it", "new@rossi.it"), detail
    assert mentions(detail, "phone", "111", "222"), detail
    assert run.writes == 2  # the right's e-mail, the left's phone

    assert bed.sync().writes == 0
    assert bed.sync(full=True).writes == 0


# -- 3. an ambiguous group: nobody linked or created until the user pins a link ------------


def test_an_ambiguous_group_waits_for_a_pinned_link(tmp_path: Path) -> None:
    rule: dict[str, Any] = {"direction": "both", "match": [["name", "city"]]}
    bed = Bed(tmp_path, {"company": rule})
    gallo = {"name": "Gallo S.p.A.", "city": "Bari", "country": "IT"}
    [left_id] = bed.put("left", "company", [gallo])
    first_right, second_right = bed.put("right", "company", [gallo, gallo])
    for _ in range(2):  # decided again on every run, with the same answer
        run = bed.sync()
        assert sorted(rows(bed, run.run_id)) == [
            ("left", left_id, "ambiguous"),
            ("right", first_right, "ambiguous"),
            ("right", second_right, "ambiguous"),
        ]
        assert run.writes == 0
        assert bed.links("company") == []
        assert contents(bed, "left") == [company(**gallo)]
        assert contents(bed, "right") == [company(**gallo)] * 2
    ambiguous = {item.record_id: item for item in bed.items(run.run_id)}
    assert first_right in ambiguous[left_id].reason and second_right in ambiguous[left_id].reason

    bed.rewrite({"company": {**rule, "links": {left_id: first_right}}})
    run = bed.sync()
    assert not run.failed
    links = bed.links("company")
    assert (left_id, first_right) in links
    [created] = [left for left, right in links if right == second_right]
    assert sorted(links) == sorted([(left_id, first_right), (created, second_right)])
    assert contents(bed, "left") == [company(**gallo)] * 2
    assert contents(bed, "right") == [company(**gallo)] * 2
    outcomes = sorted(rows(bed, run.run_id))
    assert ("right", second_right, "created") in outcomes
    assert not [row for row in outcomes if row[2] == "ambiguous"]
    assert bed.sync().writes == 0


# -- 4. a deletion that is not propagated is reported once, and never undone --------------


def test_a_twin_deleted_on_the_right_is_reported_once_and_never_recreated(
    tmp_path: Path,
) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "both", "deletes": False}})
    [left_id] = bed.put("left", "company", [{"name": "Conti S.n.c.", "city": "Pisa"}])
    bed.sync()
    [(_, right_id)] = bed.links("company")
    bed.remove("right", "company", right_id)

    full = bed.sync(full=True)
    assert not full.failed
    [item] = written(bed, full.run_id)
    assert item.action == "missing", f"{item.action}: {item.reason}"
    assert "deleted on the right" in item.reason and "kept" in item.reason, item.reason
    assert full.writes == 0
    kept = [company(name="Conti S.n.c.", city="Pisa")]
    assert contents(bed, "left") == kept
    assert contents(bed, "right") == []

    for step in ("run", "full", "edit", "run", "full"):
        if step == "edit":
            bed.edit("left", "company", left_id, phone="333")
            kept = [company(name="Conti S.n.c.", city="Pisa", phone="333")]
            continue
        run = bed.sync(full=step == "full")
        assert not run.failed
        assert written(bed, run.run_id) == [], f"after {step}: reported again"
        assert run.writes == 0
        assert contents(bed, "right") == [], f"after {step}: the deleted record came back"
        assert contents(bed, "left") == kept


def test_a_record_entered_again_links_to_the_kept_twin_in_plan_as_in_run(
    tmp_path: Path,
) -> None:
    """Deleted in the ERP, kept in the CRM, entered again in the ERP: linked, not duplicated.

    The run turns the link into a tombstone before it decides; the plan, which stores
    nothing, must see that too (it once planned a duplicate create).
    """
    bed = Bed(tmp_path, {"company": {"direction": "both", "match": [["name"]]}})
    first, _other = bed.put("left", "company", [{"name": "Alfa"}, {"name": "Alfa"}])
    bed.sync()
    [kept] = [right for left, right in bed.links("company") if left == first]
    bed.remove("left", "company", first)
    [again] = bed.put("left", "company", [{"name": "Alfa", "phone": "111"}])

    plan = bed.sync(full=True, dry_run=True)
    said = sorted(rows(bed, plan.run_id))
    run = bed.sync(full=True)
    did = sorted(rows(bed, run.run_id))
    assert said == did == sorted([("left", first, "missing"), ("left", again, "updated")])
    assert (again, kept) in bed.links("company")
    assert sorted(r["phone"] or "" for r in contents(bed, "right")) == ["", "111"]
    assert bed.sync(full=True).writes == 0


def restore(folder: Path, side: str, row: dict[str, Any]) -> None:
    """Put a deleted row back with its id, as restoring it from the system's bin does."""
    engine = sa.create_engine(f"sqlite:///{folder / f'{side}.db'}")
    with engine.begin() as db:
        table = sa.Table("company", sa.MetaData(), autoload_with=db)
        db.execute(table.insert().values(row))
    engine.dispose()


def test_a_kept_twin_deleted_after_its_twin_came_back_is_kept_on_the_other_side(
    tmp_path: Path,
) -> None:
    """Deleted on the right (kept on the left), restored there, then deleted on the left.

    The restored record is the live one now: it is kept and reported once, never created
    again on the left (the engine once took both records for gone and created it anew).
    """
    bed = Bed(tmp_path, {"company": {"direction": "both", "match": [["name"]]}})
    [left] = bed.put("left", "company", [{"name": "Conti", "phone": "111"}])
    bed.sync()
    [(_, right)] = bed.links("company")
    [row] = [r for r in bed.rows("right", "company") if str(r["id"]) == right]
    bed.remove("right", "company", right)
    bed.sync(full=True)
    restore(tmp_path, "right", row)
    bed.remove("left", "company", left)

    run = bed.sync(full=True)
    assert [(i.side, i.record_id, i.action) for i in written(bed, run.run_id)] == [
        ("left", left, "missing")
    ]
    assert contents(bed, "left") == []
    assert [r["name"] for r in contents(bed, "right")] == ["Conti"]
    assert bed.sync(full=True).writes == 0
    assert written(bed, bed.sync(full=True).run_id) == []


def test_a_restored_twin_revives_its_link_and_its_next_deletion_is_reported(
    tmp_path: Path,
) -> None:
    """A tombstone's deleted record restored unchanged is linked again (not left as a kept
    twin's shadow), so deleting it once more is a new deletion, reported again."""
    bed = Bed(tmp_path, {"company": {"direction": "both", "match": [["name"]]}})
    [left] = bed.put("left", "company", [{"name": "Conti", "phone": "111"}])
    bed.sync()
    [(_, right)] = bed.links("company")
    [row] = [r for r in bed.rows("right", "company") if str(r["id"]) == right]
    bed.remove("right", "company", right)
    bed.sync(full=True)
    restore(tmp_path, "right", row)
    bed.sync(full=True)  # both read: the left one first
    bed.edit("left", "company", left, phone="222")
    bed.sync()
    assert [r["phone"] for r in contents(bed, "right")] == ["222"]

    bed.remove("right", "company", right)
    run = bed.sync(full=True)
    assert [(i.side, i.record_id, i.action) for i in written(bed, run.run_id)] == [
        ("right", right, "missing")
    ]


def test_a_pair_deleted_on_both_sides_stays_deleted_where_one_is_restored(
    tmp_path: Path,
) -> None:
    """Deleted on both sides, then restored on the left only: the right one stays deleted
    (it once came back as a new record, created from the restored one)."""
    bed = Bed(tmp_path, {"company": {"direction": "both", "match": [["name"]]}})
    [left] = bed.put("left", "company", [{"name": "Conti", "phone": "111"}])
    bed.sync()
    [(_, right)] = bed.links("company")
    [left_row] = bed.rows("left", "company")
    [right_row] = bed.rows("right", "company")
    bed.remove("left", "company", left)
    bed.remove("right", "company", right)
    bed.sync(full=True)

    restore(tmp_path, "left", left_row)
    for full in (False, True, True):
        run = bed.sync(full=full)
        assert not run.failed
        assert run.writes == 0
        assert contents(bed, "right") == [], "the deleted twin came back"
    assert [r["name"] for r in contents(bed, "left")] == ["Conti"]

    restore(tmp_path, "right", right_row)  # both back: the pair is live again
    bed.sync(full=True)
    bed.edit("left", "company", left, phone="222")
    bed.sync()
    assert [r["phone"] for r in contents(bed, "right")] == ["222"]
    assert bed.links("company") == [(left, right)]


def test_a_record_restored_after_its_twin_was_taken_is_created_anew(tmp_path: Path) -> None:
    """Deleted, its kept twin linked to a record entered again, then restored with its id.

    The restored record is a new record for the sync: it is created, and the target's
    idempotency (the sql connector's key column) must not hand back the first create's
    record, which is linked to another now (that once broke the run on the link table).
    """
    bed = Bed(tmp_path, {"company": {"direction": "both", "match": [["name"]]}})
    [first] = bed.put("left", "company", [{"name": "Alfa", "phone": "111"}])
    bed.sync()
    [(_, kept)] = bed.links("company")
    [row] = [r for r in bed.rows("left", "company") if str(r["id"]) == first]
    bed.remove("left", "company", first)
    [again] = bed.put("left", "company", [{"name": "Alfa", "phone": "111"}])
    bed.sync(full=True)
    assert sorted(bed.links("company")) == [(again, kept)]

    restore(tmp_path, "left", row)
    run = bed.sync(full=True)
    assert not run.failed, bed.items(run.run_id)
    links = sorted(bed.links("company"))
    [made] = [right for left, right in links if left == first]
    assert made != kept and (again, kept) in links
    assert len(contents(bed, "right")) == 2
    assert bed.sync(full=True).writes == 0


def test_an_ambiguous_record_deleted_is_neither_decided_nor_a_peer_in_plan_or_run(
    tmp_path: Path,
) -> None:
    """Two ERP records compete for one CRM record; one is deleted: the other is linked."""
    bed = Bed(tmp_path, {"company": {"direction": "both", "match": [["name"]]}})
    first, second = bed.put("left", "company", [{"name": "Alfa"}, {"name": "Alfa"}])
    [right] = bed.put("right", "company", [{"name": "Alfa"}])
    run = bed.sync()
    assert {action for _s, _r, action in rows(bed, run.run_id)} == {"ambiguous"}
    bed.remove("left", "company", first)

    plan = bed.sync(full=True, dry_run=True)
    said = sorted(rows(bed, plan.run_id))
    run = bed.sync(full=True)
    did = sorted(rows(bed, run.run_id))
    assert said == did == [("left", second, "linked")]
    assert bed.links("company") == [(second, right)]


def test_plan_shows_a_pinned_link_freeing_a_record_for_matching_as_the_run_does(
    tmp_path: Path,
) -> None:
    """A pin that takes a record from its matched twin: the twin is matched again."""
    rule: dict[str, Any] = {"direction": "both", "match": [["name"]]}
    bed = Bed(tmp_path, {"company": rule})
    [left_id] = bed.put("left", "company", [{"name": "Beta"}])
    [right_id] = bed.put("right", "company", [{"name": "Beta"}])
    [other_right] = bed.put("right", "company", [{"name": "Gamma"}])
    bed.sync()
    assert (left_id, right_id) in bed.links("company")
    [other_left] = [left for left, right in bed.links("company") if right == other_right]
    bed.rewrite({"company": {**rule, "links": {left_id: other_right}}})

    plan = bed.sync(dry_run=True, full=True)
    said = sorted(rows(bed, plan.run_id))
    run = bed.sync(full=True)
    did = sorted(rows(bed, run.run_id))
    assert said == did, f"plan said {said}, the run did {did}"
    links = bed.links("company")
    assert (left_id, other_right) in links
    # both records the pin freed are matched again; with nothing to match, created across
    assert [left for left, right in links if right == right_id] != []
    assert [right for left, right in links if left == other_left] != []
    assert len(links) == 3
    assert bed.sync(full=True).writes == 0


# -- 8. plan maps out like run: a record the target refuses is skipped in both -------------


@hookimpl(tryfirst=True)
def map(entity: str, record: Any, direction: str, settings: Any) -> Any:
    """This module is also an extension: the target's mapping refuses products with no code."""
    if entity == "product" and direction == "out" and not getattr(record, "code", None):
        raise SkipRecord("no product code")
    return None


def test_plan_skips_what_the_targets_mapping_refuses_as_the_run_does(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"product": {"direction": "left-to-right"}})
    bed.rewrite(
        {"product": {"direction": "left-to-right"}},
        extensions={"right": ["tests.engine.test_engine_merge"]},
    )
    coded, bare = bed.put(
        "left", "product", [{"name": "Tagliando", "code": "TAG-01"}, {"name": "Senza codice"}]
    )
    plan = bed.sync(dry_run=True)
    said = sorted((item.record_id, item.action, item.reason) for item in bed.items(plan.run_id))
    assert [(rid, action) for rid, action, _ in said] == [(coded, "created"), (bare, "skipped")]
    assert "no product code" in said[1][2]
    assert contents(bed, "right", "product") == []

    run = bed.sync()
    did = sorted((item.record_id, item.action, item.reason) for item in bed.items(run.run_id))
    assert [(rid, action) for rid, action, _ in did] == [(coded, "created"), (bare, "skipped")]
    assert [record["name"] for record in contents(bed, "right", "product")] == ["Tagliando"]
    assert bed.sync().writes == 0
