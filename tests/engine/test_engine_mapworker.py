"""Reads mapped by a forked worker process give exactly what inline mapping gives.

The worker is only used where forking is safe (Linux, no other thread); under pytest-xdist
there are other threads, so these tests allow it explicitly.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from syncbridge.engine import mapworker
from syncbridge.engine.db import SNAPSHOT
from syncbridge.engine.mapworker import MapWorker
from syncbridge.workspace import Workspace
from tests.engine.bed import Bed, company

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the worker forks: Linux only")

COUNT = 1000
PAGE = 50


def _bed(folder: Path) -> Bed:
    folder.mkdir(exist_ok=True)
    bed = Bed(folder, {"company": {"direction": "left-to-right"}},
              left_settings={"page_size": PAGE})
    bed.put("left", "company", [company(i, vat_number="IT00743110157" if i == 7 else None)
                                for i in range(COUNT)])
    bad = bed.by("left", "company", "name")["Company 0123"]["id"]
    with sqlite3.connect(folder / "left.db") as db:  # stored by another application
        db.execute("UPDATE company SET vat_number = 'IT123' WHERE id = ?", (int(bad),))
    return bed


def _snapshots(bed: Bed) -> list[tuple[Any, ...]]:
    with Workspace.load(bed.config) as workspace, workspace.store.engine.connect() as db:
        return [tuple(row) for row in db.execute(
            select(SNAPSHOT.c.side, SNAPSHOT.c.record_id, SNAPSHOT.c.hash, SNAPSHOT.c.data)
            .order_by(SNAPSHOT.c.side, SNAPSHOT.c.record_id))]


def _outcome(bed: Bed, run_id: int) -> list[tuple[str, str, str]]:
    return sorted((i.record_id, i.action, i.reason) for i in bed.items(run_id))


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[MapWorker]:
    """Allow the worker here, and count the workers started."""
    started: list[MapWorker] = []
    original = MapWorker.__init__

    def init(self: MapWorker, *args: Any) -> None:
        original(self, *args)
        started.append(self)

    monkeypatch.setattr(mapworker, "available", lambda: True)
    # a worker after the first page: the sql connector's first page tells the read's size
    monkeypatch.setattr(mapworker, "WORTH_IT", COUNT - 2 * PAGE)
    monkeypatch.setattr(MapWorker, "__init__", init)
    return started


def test_a_worker_maps_exactly_what_inline_mapping_does(
    tmp_path: Path, forks: list[MapWorker], monkeypatch: pytest.MonkeyPatch
) -> None:
    with_worker = _bed(tmp_path / "worker")
    run = with_worker.sync()
    assert len(forks) == 1  # the left read (the right one is empty)
    monkeypatch.setattr(mapworker, "available", lambda: False)
    inline = _bed(tmp_path / "inline")
    inline_run = inline.sync()
    assert len(forks) == 1
    assert _snapshots(with_worker) == _snapshots(inline)
    assert _outcome(with_worker, run.run_id) == _outcome(inline, inline_run.run_id)
    [failed] = [item for item in with_worker.items(run.run_id) if item.action == "failed"]
    assert failed.reason == ("vat_number: 'IT123' is not a valid Italian VAT number: it has "
                             "the wrong number of digits")
    assert len(with_worker.rows("right", "company")) == COUNT - 1


def test_a_worker_that_dies_mid_read_leaves_its_pages_to_the_parent(
    tmp_path: Path, forks: list[MapWorker], monkeypatch: pytest.MonkeyPatch
) -> None:
    answered: list[int] = []
    result = MapWorker.result

    def result_then_die(self: MapWorker) -> Any:
        mapped = result(self)
        answered.append(len(mapped.rows) + len(mapped.failures) + len(mapped.skipped))
        if len(answered) == 1:
            self.kill()
        return mapped

    monkeypatch.setattr(MapWorker, "result", result_then_die)
    bed = _bed(tmp_path)
    run = bed.sync()
    # the worker answered what it had sent before it died; the rest was mapped here
    assert answered[0] == PAGE
    assert len(answered) <= 1 + mapworker.BACKLOG
    assert bed.outcomes(run.run_id) == {"created": COUNT - 1, "failed": 1}
    assert len(bed.by("right", "company", "name")) == COUNT - 1


def test_an_unexpected_error_in_a_workers_mapping_is_raised_as_inline(
    tmp_path: Path, forks: list[MapWorker], monkeypatch: pytest.MonkeyPatch
) -> None:
    from syncbridge.engine import mapin, read

    map_records = mapin.map_records

    def broken(connection: Any, entity: str, records: list[dict[str, Any]], context: Any) -> Any:
        if any(record["name"] == "Company 0900" for record in records):
            raise LookupError("a bug in a mapping")
        return map_records(connection, entity, records, context)

    # inline (the read stage) and in the worker process (forked with the patch in place)
    monkeypatch.setattr(read, "map_records", broken)
    monkeypatch.setattr(mapworker, "map_records", broken)
    bed = _bed(tmp_path)
    with pytest.raises(LookupError, match="a bug in a mapping"):
        bed.sync()
    assert len(forks) == 1


def test_a_record_read_twice_keeps_its_later_version(
    tmp_path: Path, forks: list[MapWorker], monkeypatch: pytest.MonkeyPatch
) -> None:
    # changed while it was read, a record comes in an early page (mapped here, before the
    # worker started) and again in a late one (the worker's): the later version is kept
    from syncbridge.connection import Connection
    from syncbridge.engine import read
    from syncbridge.records import Page

    fetch = Connection.fetch

    def fetch_with_a_change(self: Connection, entity: str, *args: Any, **kwargs: Any) -> Any:
        pages = list(fetch(self, entity, *args, **kwargs))
        if self.name != "left" or entity != "company" or len(pages) < 10:
            yield from pages
            return
        early = dict(pages[0].records[0])
        late = {**early, "city": "Torino"}  # the same record, changed since
        pages[0] = Page(records=[{**early, "city": "Bari"}, *pages[0].records[1:]],
                        cursor=pages[0].cursor, total=pages[0].total)
        pages[-1] = Page(records=[*pages[-1].records, late], cursor=pages[-1].cursor)
        yield from pages

    monkeypatch.setattr(Connection, "fetch", fetch_with_a_change)
    monkeypatch.setattr(read, "SAVE_EVERY", 10 * COUNT)  # all held to the end
    bed = _bed(tmp_path)
    bed.sync()
    assert len(forks) == 1
    first = min(bed.rows("left", "company"), key=lambda row: int(row["id"]))["id"]
    [city] = [json.loads(data)["city"] for side, rid, _h, data in _snapshots(bed)
              if side == "left" and rid == str(first)]
    assert city == "Torino"


def test_pages_cross_by_marshal_and_anything_else_by_pickle() -> None:
    """Decoded JSON goes by marshal (the fast path); a SQL source's datetimes and decimals,
    which marshal refuses, still arrive whole."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from syncbridge.engine.mapworker import _pack, _unpack

    plain = [{"id": 1, "name": "Rossi S.r.l.", "total": 12.5, "tags": ["a"], "ok": True,
              "notes": None}]
    typed = [{"id": 2, "updated_at": datetime(2024, 1, 2, 10, 0, tzinfo=UTC),
              "total": Decimal("12.50")}]
    assert _pack(plain)[:1] == b"m"
    assert _pack(typed)[:1] == b"p"
    # a page crosses with its context: JSON values by id, which marshal takes
    page = (plain, {"1": {"customer": "company", "tax_rates": {"3": "19"}}})
    assert _pack(page)[:1] == b"m"
    assert _unpack(_pack(page)) == page
    assert _unpack(_pack(plain)) == plain
    assert _unpack(_pack(typed)) == typed
    assert type(_unpack(_pack(typed))[0]["total"]) is Decimal


def test_a_worker_maps_each_record_with_its_context(
    tmp_path: Path, forks: list[MapWorker], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages cross to the worker with their context (``Page.context``), and a record failing
    there comes back with it, to be kept for retry beside its native record."""
    from tests.engine import regions

    def run(folder: Path) -> tuple[Bed, dict[str, dict[str, Any]]]:
        regions.reset()
        folder.mkdir()
        bed = Bed(folder, {"company": {"direction": "left-to-right"}},
                  left_settings={"page_size": PAGE})
        bed.rewrite({"company": {"direction": "left-to-right"}},
                    extensions={"left": ["tests.engine.regions"]})
        bed.put("left", "company", [company(i) for i in range(COUNT)])
        regions.REGIONS.update({f"Company {i:04d}": f"zone {i % 7}" for i in range(COUNT)})
        regions.BROKEN.add("Company 0900")  # on a page the worker maps
        bed.sync()
        seen = dict(regions.SEEN)
        regions.reset()
        return bed, seen

    try:
        worker, seen_here = run(tmp_path / "worker")
        assert len(forks) == 1
        monkeypatch.setattr(mapworker, "available", lambda: False)
        inline, seen_inline = run(tmp_path / "inline")
    finally:
        regions.reset()
    assert len(forks) == 1
    # the worker mapped most pages: this process never saw those records' contexts
    assert len(seen_inline) == COUNT and len(seen_here) < COUNT // 2
    assert _snapshots(worker) == _snapshots(inline)
    notes = {r["name"]: r["notes"] for r in worker.rows("right", "company")}
    assert len(notes) == COUNT - 1
    assert all(note == f"region zone {int(name[-4:]) % 7}" for name, note in notes.items())
    with sqlite3.connect(tmp_path / "worker" / "state.db") as db:
        [(reason, context)] = db.execute("SELECT reason, context FROM pending").fetchall()
    assert reason == "Company 0900: not mapped yet"
    assert json.loads(context) == {"region": "zone 4"}
