"""The in-memory store and its clock."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest

from syncbridge.emulator import Store
from syncbridge.emulator.clock import SEED_EPOCH, Clock


def test_ids_count_up_per_table_from_a_configurable_start() -> None:
    store = Store()
    contacts, vat = store.table("contacts"), store.table("vat_types", start=0)
    assert [contacts.insert({"n": i})["id"] for i in range(3)] == [1, 2, 3]
    assert vat.insert({"rate": 22})["id"] == 0
    assert vat.insert({"rate": 10}, id=10)["id"] == 10
    assert vat.insert({"rate": 4})["id"] == 11
    with pytest.raises(KeyError):
        vat.insert({}, id=10)
    contacts.delete(3)
    assert contacts.insert({})["id"] == 4  # ids are never reused
    assert store.table("contacts") is contacts and store["vat_types"] is vat


def test_get_update_replace_delete_and_tombstones() -> None:
    table = Store().table("items", id_field="Id")
    first = table.insert({"name": "a", "tags": ["x"]})
    assert first["Id"] == 1 and table.get(1) == first and table.get(99) is None

    updated = table.update(1, {"price": 5})
    assert updated is not None and updated["name"] == "a" and updated["price"] == 5
    assert first.get("price") is None  # an earlier read is a stable snapshot
    assert updated["created_at"] == first["created_at"] < updated["updated_at"]

    replaced = table.replace(1, {"name": "b", "created_at": "ignored"})
    assert replaced is not None and "price" not in replaced and replaced["name"] == "b"
    assert replaced["created_at"] == first["created_at"]
    assert table.update(2, {}) is None and table.replace(2, {}) is None

    deleted = table.delete(1)
    assert deleted == replaced and 1 not in table and len(table) == 0
    assert table.delete(1) is None
    (tombstone,) = table.deleted_since(None)
    assert tombstone.id == 1 and tombstone.deleted_at > replaced["updated_at"]
    assert table.deleted_since(tombstone.deleted_at) == []


def test_writes_copy_their_input() -> None:
    table = Store().table("items")
    source = {"lines": [{"qty": 1}]}
    row = table.insert(source)
    source["lines"][0]["qty"] = 99
    assert row["lines"] == [{"qty": 1}]


def test_list_filters_in_id_order_and_changed_since_is_exact() -> None:
    table = Store().table("items")
    for n in range(5):
        table.insert({"n": n})
    assert [r["n"] for r in table.list(lambda r: r["n"] % 2 == 0)] == [0, 2, 4]
    cursor = table.get(5)["updated_at"]  # type: ignore[index]
    table.update(2, {"n": 20})
    table.update(1, {"n": 10})
    assert [r["id"] for r in table.changed_since(cursor)] == [2, 1]
    assert [r["id"] for r in table.changed_since(None)] == [3, 4, 5, 2, 1]


def test_updated_at_is_aware_and_strictly_increasing_across_threads() -> None:
    table = Store().table("items")

    def write() -> None:
        for _ in range(300):
            table.insert({})

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps = sorted(row["updated_at"] for row in table.list())
    assert len(stamps) == 1200 == len(set(stamps))
    assert all(stamp.tzinfo is UTC for stamp in stamps)


def test_scripted_clock_is_deterministic_then_returns_to_the_wall_clock() -> None:
    clock = Clock()
    with clock.scripted(SEED_EPOCH, timedelta(seconds=1)):
        scripted = [clock.now() for _ in range(3)]
    assert scripted == [SEED_EPOCH + timedelta(seconds=n) for n in range(3)]
    assert clock.now() > datetime.now(UTC) - timedelta(seconds=5)


def test_a_coarse_resolution_still_never_repeats() -> None:
    clock = Clock(resolution=timedelta(seconds=1))
    stamps = [clock.now() for _ in range(5)]
    assert all(b - a >= timedelta(seconds=1) for a, b in itertools.pairwise(stamps))
    assert all(stamp.microsecond == 0 for stamp in stamps)
