"""The match cascade for unlinked records, filters, field overrides and exclusions."""

from __future__ import annotations

from pathlib import Path

from tests.engine.bed import Bed, company

CASCADE = [
    ["external_id"],
    ["name", "city", "address"],
    ["name", "mailing_city", "mailing_address"],
    ["address"],
]


def test_cascade_links_on_the_first_key_that_finds_exactly_one(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right", "match": CASCADE}})
    bed.put(
        "right",
        "company",
        [
            {"name": "Alfa", "external_id": "MC-1", "city": "X", "address": "Nowhere 1"},
            {"name": "BETA  srl", "city": "milano", "address": "via roma 1"},
            {"name": "Gamma", "mailing_city": "Roma", "mailing_address": "Via Po 2"},
            {"name": "Delta Other Name", "address": "Piazza Duomo 3"},
            {"name": "Twin A", "address": "Same Street 9"},
            {"name": "Twin B", "address": "Same Street 9"},
        ],
    )
    bed.put(
        "left",
        "company",
        [
            {"name": "Alfa renamed", "external_id": "MC-1"},
            {"name": "Beta SRL", "city": "Milano", "address": "Via  Roma 1"},
            {"name": "Gamma", "mailing_city": "ROMA", "mailing_address": "via po 2"},
            {"name": "Delta", "address": "Piazza Duomo 3"},
            {"name": "Epsilon", "address": "Same Street 9"},
            {"name": "Zeta", "address": "Elsewhere 5"},
        ],
    )
    run = bed.sync()
    items = {item.record_id: item for item in bed.items(run.run_id)}
    left = bed.by("left", "company", "name")
    assert items[left["Alfa renamed"]["id"]].reason.endswith(
        "on external_id; right updated from the left"
    )
    assert "on name+city+address" in items[left["Beta SRL"]["id"]].reason
    assert "on name+mailing_city+mailing_address" in items[left["Gamma"]["id"]].reason
    assert "on address" in items[left["Delta"]["id"]].reason
    ambiguous = items[left["Epsilon"]["id"]]
    assert ambiguous.action == "ambiguous"
    assert ambiguous.reason.startswith("2 right records match on address")
    assert items[left["Zeta"]["id"]].action == "created"
    right_names = sorted(row["name"] for row in bed.rows("right", "company"))
    # matched records were updated in place, never duplicated; the ambiguous one not written
    assert right_names == sorted(
        ["Alfa renamed", "Beta SRL", "Gamma", "Delta", "Twin A", "Twin B", "Zeta"]
    )


def test_vat_numbers_match_in_normal_form(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right", "match": [["vat_number"]]}})
    bed.put("right", "company", [{"name": "Old name", "vat_number": "IT00743110157"}])
    bed.put("left", "company", [{"name": "New name", "country": "IT", "vat_number": "00743110157"}])
    run = bed.sync()
    assert bed.outcomes(run.run_id) == {"updated": 1}
    [row] = bed.rows("right", "company")
    assert row["name"] == "New name"


def test_filter_exclude_and_field_overrides(tmp_path: Path) -> None:
    bed = Bed(
        tmp_path,
        {
            "company": {
                "direction": "left-to-right",
                "filter": {"status": "Customer"},
                "exclude": ["notes"],
                "fields": {"phone": "email"},
            }
        },
    )
    bed.put(
        "left",
        "company",
        [
            company(1, status="Customer", notes="secret", phone="+39 1"),
            company(2, status="Lead"),
        ],
    )
    run = bed.sync()
    # the filter is pushed down to the source's query: the Lead is not even read
    assert bed.outcomes(run.run_id) == {"created": 1}
    [row] = bed.rows("right", "company")
    assert row["name"] == "Company 0001"
    assert row["notes"] is None  # excluded
    assert row["phone"] == "c1@example.com"  # phone on the right = email on the left
    left_id = bed.by("left", "company", "name")["Company 0001"]["id"]
    bed.edit("left", "company", left_id, notes="changed secret")
    again = bed.sync()
    assert again.writes == 0  # an excluded column never causes a write
    assert bed.rows("right", "company")[0]["notes"] is None


def test_a_first_link_never_erases_values_with_blanks_of_the_winning_side(
    tmp_path: Path,
) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "both", "priority": "left",
                                     "match": [["name", "city"]]}})
    bed.put("right", "company", [{"name": "Gamma", "city": "Roma", "phone": "+39 06 5550101",
                                  "email": "old@gamma.example"}])
    bed.put("left", "company", [{"name": "Gamma", "city": "Roma",
                                 "email": "new@gamma.example"}])
    run = bed.sync()
    # both e-mails set and different: a conflict the priority side wins
    assert bed.outcomes(run.run_id) == {"conflict": 1}
    [right] = bed.rows("right", "company")
    assert right["email"] == "new@gamma.example"  # the priority side's value wins
    assert right["phone"] == "+39 06 5550101"  # its blank does not erase
    [left] = bed.rows("left", "company")
    assert left["phone"] == "+39 06 5550101"  # and the union fills it in on the left
    assert bed.sync(full=True).writes == 0


def _key_sides(bed: Bed) -> dict[str, int]:
    from sqlalchemy import func, select

    from syncbridge.engine.db import MATCH_KEY
    from syncbridge.workspace import Workspace

    with Workspace.load(bed.config) as workspace, workspace.store.engine.connect() as db:
        rows = db.execute(
            select(MATCH_KEY.c.side, func.count()).group_by(MATCH_KEY.c.side)
        ).all()
    return {side: count for side, count in rows}


def test_only_a_side_records_are_matched_against_keeps_match_keys(tmp_path: Path) -> None:
    """One-way: the source keeps none; turned two-way, the source's keys are built once."""
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right", "create": False}})
    bed.put("left", "company", [company(1, vat_number="IT00743110157"), company(2)])
    bed.put("right", "company", [company(3)])
    run = bed.sync()
    assert bed.outcomes(run.run_id) == {"skipped": 2}  # nothing to match, creating is off
    # default cascade [vat_number], [name, city]: right's one record has a name+city key
    assert _key_sides(bed) == {"right": 1}

    two_way = Bed(tmp_path, {"company": {"direction": "both"}})
    two_way.put("right", "company", [company(9, name="Company 0001", vat_number="00743110157")])
    run = two_way.sync()
    [item] = two_way.items(run.run_id)  # the left records are not re-read: unchanged
    # the new right record found left's Company 0001 through the keys built for the left
    # e-mail and address set on both and different: the priority side's values are kept
    assert (item.side, item.action) == ("right", "conflict")
    assert item.reason == "matched left 1 on vat_number; values differ, the left's kept"
    assert sorted(row["name"] for row in two_way.rows("right", "company")) == [
        "Company 0001", "Company 0003"]
    # left: Company 0001 (vat_number, name+city) and 0002 (name+city); right: the same
    assert _key_sides(two_way) == {"left": 3, "right": 3}


def test_records_just_written_keep_no_match_keys_until_their_link_goes(tmp_path: Path) -> None:
    """A created record is linked: matching never looks for it, so its keys are not written
    (the next read of its side stores them). When a pinned link takes its place before
    that, it is unlinked, and a new record with its VAT number finds it by keys rebuilt
    from its snapshot instead of creating a duplicate."""
    rule = {"direction": "left-to-right", "match": [["vat_number"]]}
    bed = Bed(tmp_path, {"company": rule})
    [first] = bed.put("left", "company", [company(1, vat_number="IT00743110157")])
    bed.sync()
    [created] = bed.rows("right", "company")
    assert _key_sides(bed) == {}  # the only right record is linked
    [spare] = bed.put("right", "company", [company(2)])

    pinned = Bed(tmp_path, {"company": {**rule, "links": {first: spare}}})
    [newcomer] = pinned.put("left", "company", [company(3, vat_number="IT00743110157")])
    # just this record (as `syncbridge push` does): the right side is not read again
    run = pinned.sync(record=("left", newcomer))
    [item] = pinned.items(run.run_id)
    assert (item.side, item.record_id, item.action) == ("left", newcomer, "updated")
    assert item.reason == (
        f"matched right {created['id']} on vat_number; right updated from the left")
    assert sorted(row["name"] for row in pinned.rows("right", "company")) == [
        "Company 0002", "Company 0003"]


def test_a_twin_kept_after_a_deletion_is_found_again_by_its_keys(tmp_path: Path) -> None:
    """The left record goes (reported deleted by an incremental read) and its twin is kept;
    a new left record with the same VAT number must find the twin, even where the right
    side's reads never return our own writes (so no read ever stored the twin's keys)."""
    from collections.abc import Iterator, Mapping
    from typing import Any

    from syncbridge.engine.runner import run_sync
    from syncbridge.records import Page
    from syncbridge.workspace import Workspace

    rule = {"direction": "left-to-right", "match": [["vat_number"]]}
    bed = Bed(tmp_path, {"company": rule})
    # a record already on the right: the right side's reads are incremental from the start
    bed.put("right", "company", [company(9)])
    [gone] = bed.put("left", "company", [company(1, vat_number="IT00743110157")])
    bed.sync()
    [twin] = [row for row in bed.rows("right", "company") if row["name"] == "Company 0001"]
    [newcomer] = bed.put("left", "company", [company(3, vat_number="IT00743110157")])
    bed.remove("left", "company", gone)  # after the put: SQLite would reuse its id

    with Workspace.load(bed.config) as workspace:
        connections = workspace.sync_connections("main")
        left_fetch, right_fetch = connections["left"].fetch, connections["right"].fetch

        def left(entity: str, since: str | None = None,
                 query: Mapping[str, Any] | None = None) -> Iterator[Page]:
            for page in left_fetch(entity, since, query):
                page.deleted = [gone]  # as a connector with a deletion feed reports it
                yield page

        def right(entity: str, since: str | None = None,
                  query: Mapping[str, Any] | None = None) -> Iterator[Page]:
            for page in right_fetch(entity, since, query):
                page.records = [r for r in page.records if str(r["id"]) != str(twin["id"])]
                yield page

        connections["left"].fetch = left  # type: ignore[method-assign]
        connections["right"].fetch = right  # type: ignore[method-assign]
        run = run_sync("main", workspace.config.syncs["main"], connections, workspace.store)

    items = {(i.side, i.record_id): i for i in bed.items(run.run_id)}
    assert items[("left", gone)].action == "missing"
    assert items[("left", newcomer)].action == "updated"
    assert items[("left", newcomer)].reason == (
        f"matched right {twin['id']} on vat_number; right updated from the left")
    assert sorted(row["name"] for row in bed.rows("right", "company")) == [
        "Company 0003", "Company 0009"]


def test_a_twin_found_on_a_stricter_key_is_no_candidate_on_a_looser_one(
    tmp_path: Path,
) -> None:
    """The target's "Rossi" (VAT V1) is the twin of the source's Rossi with V1, found on the
    VAT number; the source's other Rossi (V2, same name and city) matches it on name + city
    only. Counter-example found by a fleet test (three syncs writing one account at once):
    both were linked to that one record and the run ended on the link's unique constraint,
    whether or not the two source records shared the looser key. A twin found on a stricter
    key is nobody else's candidate, as a twin linked by an earlier run is not: the second
    Rossi is new, and created."""
    for case, first_name in (("same-name", "Rossi"), ("renamed", "Rossi SpA")):
        for direction in ("left-to-right", "both"):
            folder = tmp_path / case / direction
            folder.mkdir(parents=True)
            bed = Bed(folder, {"company": {"direction": direction}})
            bed.put("right", "company", [company(1, vat_number="IT00743110157", name="Rossi")])
            bed.put("left", "company", [
                company(1, vat_number="IT00743110157", name=first_name),
                company(2, vat_number="IT01114601006", name="Rossi"),
            ])
            run = bed.sync()
            assert not run.failed, (case, direction)
            items = {(item.side, item.record_id): item for item in bed.items(run.run_id)}
            left = {row["vat_number"]: str(row["id"]) for row in bed.rows("left", "company")}
            twin = items[("left", left["IT00743110157"])]
            assert twin.action in ("linked", "updated", "conflict"), (case, direction)
            assert "on vat_number" in twin.reason, twin.reason
            rival = items[("left", left["IT01114601006"])]
            assert rival.action == "created", (case, direction, rival.action, rival.reason)
            right = {row["vat_number"]: row["name"] for row in bed.rows("right", "company")}
            assert right == {"IT00743110157": first_name, "IT01114601006": "Rossi"}
