"""Creates a run left unconfirmed: found by reference or by content, held when undecidable.

A lost answer is made in-process: the right connection's ``upsert`` writes and then raises
(the record is there, the run never learns its id), or raises before writing (the record is
not there). Either way the run ends with the create's outbox row behind, as a killed run
does. The right side has only names to go by (no VAT number, no city): the match cascade
cannot find these records, the outbox must.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from syncbridge.connection import Connection
from syncbridge.engine.outbox import RECOVERED
from syncbridge.errors import ConnectorError
from tests.engine.bed import Bed

ONE_WAY = {"company": {"direction": "left-to-right"}}
#: the right database without the key column: no lookup, recovery by content
NO_KEY = {"key_column": ""}


@contextmanager
def lost(monkeypatch: pytest.MonkeyPatch, *, reached: bool) -> Iterator[None]:
    """Creates on the right are made (``reached``) or not, and their answer is lost."""
    real = Connection.upsert

    def upsert(self: Connection, entity: str, items: list[Any]) -> Any:
        if self.name == "right" and any(item.id is None for item in items):
            if reached:
                real(self, entity, items)
            raise ConnectorError("the connection was reset before the answer arrived")
        return real(self, entity, items)

    with monkeypatch.context() as patch:
        patch.setattr(Connection, "upsert", upsert)
        yield


def names(bed: Bed, side: str) -> list[str]:
    return sorted(row["name"] for row in bed.rows(side, "company"))


def state(bed: Bed, sql: str) -> Any:
    engine = create_engine(f"sqlite:///{bed.folder / 'state.db'}")
    try:
        with engine.connect() as db:
            return db.execute(text(sql)).all()
    finally:
        engine.dispose()


def rows_of(bed: Bed, run_id: int) -> list[tuple[str, str, str]]:
    return sorted((i.record_id, i.action, i.reason) for i in bed.items(run_id, "company"))


def test_a_lost_create_is_found_by_its_exact_content_and_reported_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bed = Bed(tmp_path, ONE_WAY, right_settings=NO_KEY)
    ids = bed.put("left", "company", [{"name": "Alpha"}, {"name": "Beta"}])
    bed.put("right", "company", [{"name": "Alphabet", "city": "Roma"}])  # not it: no match
    with lost(monkeypatch, reached=True):
        assert bed.sync().entities[0].result == "error"
    assert names(bed, "right") == ["Alpha", "Alphabet", "Beta"]
    assert len(state(bed, "SELECT key FROM outbox")) == 2

    summary = bed.sync()
    assert not summary.failed
    assert names(bed, "right") == ["Alpha", "Alphabet", "Beta"]  # nothing made twice
    reason = f"new on the left ({RECOVERED})"
    assert rows_of(bed, summary.run_id) == [
        (ids[0], "created", reason),
        (ids[1], "created", reason),
    ]
    counts = summary.entities[0].counts
    assert counts["created"] == 2 and not counts["linked"] and not counts["unchanged"]
    assert state(bed, "SELECT count(*) FROM outbox") == [(0,)]
    assert state(bed, "SELECT count(*) FROM link") == [(2,)]
    assert bed.sync().writes == 0  # in step: the pairs are linked with what both hold


def test_a_lost_create_is_found_by_its_key_where_the_target_keeps_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bed = Bed(tmp_path, ONE_WAY)  # the sql connector's key column: lookup
    [source] = bed.put("left", "company", [{"name": "Alpha"}])
    with lost(monkeypatch, reached=True):
        bed.sync()
    summary = bed.sync()
    assert names(bed, "right") == ["Alpha"]
    assert rows_of(bed, summary.run_id) == [(source, "created", f"new on the left ({RECOVERED})")]


def test_a_create_that_never_arrived_is_simply_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bed = Bed(tmp_path, ONE_WAY, right_settings=NO_KEY)
    [source] = bed.put("left", "company", [{"name": "Gamma"}])
    with lost(monkeypatch, reached=False):
        bed.sync()
    assert names(bed, "right") == []
    summary = bed.sync()  # no new record on the right could be it: it made none
    assert names(bed, "right") == ["Gamma"]
    assert rows_of(bed, summary.run_id) == [(source, "created", "new on the left")]


def test_identical_creates_are_paired_with_the_identical_records_they_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two identical companies sent in one batch, both made, the answer lost: which create
    made which record cannot be told and does not matter, so they are paired, not held."""
    bed = Bed(tmp_path, ONE_WAY, right_settings=NO_KEY)
    first, second = bed.put("left", "company", [{"name": "Twin"}, {"name": "Twin"}])
    with lost(monkeypatch, reached=True):
        bed.sync()
    made = sorted(str(row["id"]) for row in bed.rows("right", "company"))
    summary = bed.sync()
    assert not summary.failed
    reason = f"new on the left ({RECOVERED})"
    assert rows_of(bed, summary.run_id) == [(first, "created", reason), (second, "created", reason)]
    assert names(bed, "right") == ["Twin", "Twin"]
    assert sorted(state(bed, "SELECT left_id, right_id FROM link")) == [
        (first, made[0]),
        (second, made[1]),
    ]
    assert state(bed, "SELECT count(*) FROM outbox") == [(0,)]
    assert bed.sync().writes == 0


def test_more_identical_records_than_creates_are_held_as_unknown_until_pinned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bed = Bed(tmp_path, ONE_WAY, right_settings=NO_KEY)
    [first] = bed.put("left", "company", [{"name": "Twin"}])
    with lost(monkeypatch, reached=True):
        bed.sync()
    bed.put("right", "company", [{"name": "Twin"}])  # someone enters the same company there
    made = sorted(str(row["id"]) for row in bed.rows("right", "company"))
    assert len(made) == 2

    for _again in range(2):  # held, and still held on the next run: never created again
        summary = bed.sync()
        assert summary.failed  # exit 1: someone has to look
        rows = rows_of(bed, summary.run_id)
        assert [(rid, action) for rid, action, _r in rows] == [(first, "unknown")]
        assert rows[0][2].startswith(f"check right: 2 records there ({', '.join(made)}) hold")
        assert f"syncbridge held --release company:{first}" in rows[0][2]
        assert names(bed, "right") == ["Twin", "Twin"]
    listed = bed.cli("held", "--json")
    assert listed.exit_code == 0, listed.output
    assert "check right: 2 records there" in listed.output
    plan = bed.sync(dry_run=True)  # the plan says what the run does: nothing, it is held
    assert [i.action for i in bed.items(plan.run_id, "company")] == ["unknown"]

    # the user looks in the right system and pins the record to the one it made
    bed.config.write_text(
        bed.config.read_text().replace(
            'direction = "left-to-right"',
            f'direction = "left-to-right"\nlinks = {{ "{first}" = "{made[0]}" }}',
        )
    )
    summary = bed.sync()
    assert not summary.failed
    assert names(bed, "right") == ["Twin", "Twin"]
    assert state(bed, "SELECT count(*) FROM outbox") == [(0,)]
    assert sorted(state(bed, "SELECT left_id, right_id FROM link")) == [(first, made[0])]
    assert "nothing is held" in bed.cli("held").output


def test_in_a_two_way_sync_the_records_a_held_create_may_have_made_do_not_flow_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "both"}}, right_settings=NO_KEY)
    bed.put("left", "company", [{"name": "Twin"}])
    with lost(monkeypatch, reached=True):
        bed.sync()
    bed.put("right", "company", [{"name": "Twin"}])  # someone enters the same company there
    summary = bed.sync()
    # the right's two Twins are unlinked and new there: without the hold they would be
    # created on the left, two more Twins
    assert names(bed, "left") == ["Twin"]
    assert names(bed, "right") == ["Twin", "Twin"]
    actions = sorted((i.side, i.action) for i in bed.items(summary.run_id, "company"))
    assert actions == [("left", "unknown")] + [("right", "unknown")] * 2
    assert all(
        "may be the record an interrupted create of left" in i.reason
        for i in bed.items(summary.run_id, "company")
        if i.side == "right"
    )


def test_a_create_that_may_be_an_edited_record_is_held_until_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bed = Bed(tmp_path, ONE_WAY, right_settings=NO_KEY)
    [source] = bed.put("left", "company", [{"name": "Gamma"}])
    with lost(monkeypatch, reached=False):
        bed.sync()
    # meanwhile someone adds a record on the right: it could be Gamma, renamed
    [other] = bed.put("right", "company", [{"name": "Gamma S.r.l."}])
    for _again in range(2):
        summary = bed.sync()
        [(rid, action, reason)] = rows_of(bed, summary.run_id)
        assert (rid, action) == (source, "unknown")
        assert f"1 record(s) changed there since ({other}) may be it, edited" in reason
        assert names(bed, "right") == ["Gamma S.r.l."]

    bad = bed.cli("held", "--release", "company:nope")
    assert bad.exit_code == 2 and "nothing is held" in bad.output + bad.stderr
    released = bed.cli("held", "--release", f"company:{source}")
    assert released.exit_code == 0, released.output
    summary = bed.sync()
    assert not summary.failed
    assert names(bed, "right") == ["Gamma", "Gamma S.r.l."]
    assert rows_of(bed, summary.run_id) == [(source, "created", "new on the left")]


def test_a_target_that_cannot_be_asked_holds_the_create_for_that_run_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bed = Bed(tmp_path, ONE_WAY)
    [source] = bed.put("left", "company", [{"name": "Delta"}])
    with lost(monkeypatch, reached=True):
        bed.sync()

    def unreachable(self: Connection, entity: str, keys: list[str]) -> dict[str, str]:
        raise ConnectorError("503 Service Unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(Connection, "lookup", unreachable)
        summary = bed.sync()
    [(rid, action, reason)] = rows_of(bed, summary.run_id)
    assert (rid, action) == (source, "unknown")
    assert "could not be asked" in reason and "asked again next run" in reason
    summary = bed.sync()  # asked again, without anyone doing anything
    assert rows_of(bed, summary.run_id) == [(source, "created", f"new on the left ({RECOVERED})")]
    assert names(bed, "right") == ["Delta"]


def test_a_lost_derived_create_is_found_and_never_made_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.engine.test_engine_derive import QUOTE_TO_ORDER, quote

    bed = Bed(tmp_path, QUOTE_TO_ORDER, right_settings=NO_KEY)
    bed.config.write_text(
        bed.config.read_text()
        + '\n[[syncs.main.entities.quote.derive]]\nwhen = { status = "accepted" }\n'
        'create = "order"\nlink_field = "quote_id"\n'
    )
    [acme] = bed.put("left", "company", [{"name": "ACME S.r.l."}])
    [q1] = bed.put("left", "quote", [quote(acme, "P-1")])
    bed.sync()
    bed.edit("left", "quote", q1, status="accepted")
    with lost(monkeypatch, reached=True):
        bed.sync()
    assert len(bed.rows("right", "order")) == 1

    summary = bed.sync(full=True)  # a full run derives again from every accepted quote
    assert len(bed.rows("right", "order")) == 1
    [item] = bed.items(summary.run_id, "order")
    assert (item.record_id, item.action) == (q1, "created")
    assert item.reason == f"derived from quote {q1} (status = accepted) ({RECOVERED})"
    assert summary.entities[-1].counts["derived"] == 1
    assert state(bed, "SELECT count(*) FROM outbox") == [(0,)]


def test_a_create_answered_with_an_unknown_outcome_is_found_next_run_not_made_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One create of a batch made on the target, its answer lost (``UpsertResult.unknown``):
    only that record is reported unknown, the others are linked, and the next run finds it
    through its outbox row instead of creating it again."""
    from syncbridge.records import UpsertResult

    bed = Bed(tmp_path, ONE_WAY, right_settings=NO_KEY)
    first, second, third = bed.put(
        "left", "company", [{"name": "Alpha"}, {"name": "Beta"}, {"name": "Gamma"}]
    )
    real = Connection.upsert

    def upsert(self: Connection, entity: str, items: list[Any]) -> Any:
        results = real(self, entity, items)
        if self.name != "right":
            return results
        return [
            UpsertResult.failed(r.key, "the connection dropped before the answer", unknown=True)
            if item.record.get("name") == "Beta"
            else r
            for item, r in zip(items, results, strict=True)
        ]

    with monkeypatch.context() as patch:
        patch.setattr(Connection, "upsert", upsert)
        summary = bed.sync()
    rows = {rid: (action, reason) for rid, action, reason in rows_of(bed, summary.run_id)}
    assert rows[first][0] == rows[third][0] == "created"
    assert rows[second][0] == "unknown"
    assert "may have made it (the connection dropped before the answer)" in rows[second][1]
    assert len(state(bed, "SELECT key FROM outbox")) == 1

    summary = bed.sync()
    assert not summary.failed
    assert names(bed, "right") == ["Alpha", "Beta", "Gamma"]  # Beta not made twice
    assert rows_of(bed, summary.run_id) == [(second, "created", f"new on the left ({RECOVERED})")]
    assert state(bed, "SELECT count(*) FROM outbox") == [(0,)]
    assert bed.sync().writes == 0


def test_a_create_answered_with_an_id_already_linked_is_not_believed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A garbled answer (a body cut to "1") gives a create the id of another record: the
    engine links nothing to it (it once crashed on the link table), holds the create as
    unknown, and the next run finds the record it really made."""
    from dataclasses import replace

    bed = Bed(tmp_path, ONE_WAY)  # the key column: the record is found by its key
    first, second = bed.put("left", "company", [{"name": "Alpha"}, {"name": "Beta"}])
    real = Connection.upsert

    def upsert(self: Connection, entity: str, items: list[Any]) -> Any:
        results = real(self, entity, items)
        if self.name != "right" or len(results) < 2:
            return results
        return [results[0], replace(results[1], id=results[0].id, record=results[0].record)]

    with monkeypatch.context() as patch:
        patch.setattr(Connection, "upsert", upsert)
        summary = bed.sync()
    assert not [e for e in summary.entities if e.result == "error"]
    rows = {rid: (action, reason) for rid, action, reason in rows_of(bed, summary.run_id)}
    assert rows[first][0] == "created"
    assert rows[second][0] == "unknown"
    assert "which another record is linked to" in rows[second][1]

    summary = bed.sync()
    assert not summary.failed
    assert names(bed, "right") == ["Alpha", "Beta"]
    assert rows_of(bed, summary.run_id) == [(second, "created", f"new on the left ({RECOVERED})")]
    assert len(state(bed, "SELECT left_id, right_id FROM link")) == 2
    assert bed.sync().writes == 0


def test_a_record_entered_just_before_a_killed_run_does_not_hold_its_creates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entered on the target moments before the run that was killed (inside the clock
    margin), but read by that run before it sent anything: it cannot be what a create made."""
    bed = Bed(tmp_path, ONE_WAY, right_settings=NO_KEY)
    [source] = bed.put("left", "company", [{"name": "Gamma"}])
    bed.put("right", "company", [{"name": "Someone else's", "city": "Roma"}])
    with lost(monkeypatch, reached=False):
        bed.sync()
    summary = bed.sync()
    assert not summary.failed, bed.items(summary.run_id)
    assert names(bed, "right") == ["Gamma", "Someone else's"]
    assert rows_of(bed, summary.run_id) == [(source, "created", "new on the left")]
