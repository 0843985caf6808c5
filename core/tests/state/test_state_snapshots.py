"""Snapshot writes: a record read twice in one batch keeps its last version (both databases)."""

from __future__ import annotations

from syncbridge.engine.db import SideStore
from syncbridge.engine.values import match_value
from syncbridge.state import StateStore


def test_a_record_read_twice_in_one_batch_keeps_its_last_version(state_url: str) -> None:
    store = StateStore(state_url)
    side = SideStore("s", "company", "left")
    rows = [("1", "a" * 32, '{"name": "Old", "city": "Roma"}'),
            ("2", "b" * 32, '{"name": "Other", "city": "Bari"}'),
            ("1", "c" * 32, '{"name": "New", "city": "Roma"}')]
    with store.engine.begin() as db:
        side.save_snapshots(db, rows, 7, [["name", "city"]])
    with store.engine.begin() as db:  # and again, over existing rows
        side.save_snapshots(db, rows, 8, [["name", "city"]])
    with store.engine.connect() as db:
        found = side.snapshots(db, ["1", "2"])
        assert found["1"] == ("c" * 32, {"name": "New", "city": "Roma"})
        assert found["2"][1]["name"] == "Other"
        assert side.candidate_ids(db, 8, "", 10) == ["1", "2"]
        new = match_value({"name": "New", "city": "Roma"}, ["name", "city"])
        old = match_value({"name": "Old", "city": "Roma"}, ["name", "city"])
        assert side.find_matches(db, 0, [new, old]) == {new: ["1"]}
    store.close()


def test_bulk_upserts_span_several_statements_and_keep_a_repeated_keys_last_row(
    state_url: str,
) -> None:
    # more rows than one multi-row statement takes, and a key given twice in one call: as
    # row-by-row upserts would, the last row wins (PostgreSQL refuses a key twice in one
    # statement, so the bulk path must not send it so)
    from sqlalchemy import func, select

    from syncbridge.engine.db import MATCH_KEY, ROWS_PER_INSERT, upsert_values

    store = StateStore(state_url)
    columns = ("sync", "entity", "side", "record_id", "level", "value")
    count = ROWS_PER_INSERT * 2 + 3
    rows = [("s", "company", "left", str(i), 0, f"v{i}") for i in range(count)]
    rows.insert(5, ("s", "company", "left", "1", 0, "again"))  # in the same statement
    with store.engine.begin() as db:
        upsert_values(db, MATCH_KEY, columns, rows, columns[:-1])
        changed = [("s", "company", "left", "0", 0, "v0b")]  # an existing row
        upsert_values(db, MATCH_KEY, columns, changed, columns[:-1])
    with store.engine.connect() as db:
        assert db.execute(select(func.count()).select_from(MATCH_KEY)).scalar() == count
        values = dict(db.execute(select(MATCH_KEY.c.record_id, MATCH_KEY.c.value)).all())
    assert (values["1"], values["0"], values[str(count - 1)]) == ("again", "v0b", f"v{count - 1}")
    store.close()
