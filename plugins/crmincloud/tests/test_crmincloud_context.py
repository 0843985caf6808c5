"""No key of the connector's own travels in a CRM in Cloud record: a Catalog item's category
description, which ``map`` needs and the item names only by id, is its context, never a
``_``-prefixed key, whether read, sent to the CRM or kept for retry."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import syncbridge_crmincloud.connector
from syncbridge.config import EntityRule, SyncConfig
from syncbridge.connection import Connection
from syncbridge.emulator import EmulatorOptions, running
from syncbridge.engine.runner import run_sync
from syncbridge.models import Product
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from syncbridge.state import StateStore
from syncbridge.testing.watch import Received, Watched, private_keys
from syncbridge_crmincloud import mapping
from syncbridge_crmincloud.emulator import CrmInCloudEmulator


@pytest.fixture
def served() -> Iterator[tuple[CrmInCloudEmulator, str, Received]]:
    emulator = CrmInCloudEmulator(EmulatorOptions(records=4, rate_limits=False))
    recorder = Received(emulator)
    with running(recorder) as url:
        yield emulator, url, recorder


def test_no_private_key_is_read_sent_or_kept_and_the_context_holds_the_category(
    served: tuple[CrmInCloudEmulator, str, Received], tmp_path: Path
) -> None:
    emulator, url, recorder = served
    sql = load_connector("sql")
    erp_out = Connection("erp-out", sql, {"url": f"sqlite:///{tmp_path}/o.db"})
    erp_in = Connection("erp-in", sql, {"url": f"sqlite:///{tmp_path}/i.db"})
    erp_out.upsert("product", [
        UpsertItem(key=code, record=erp_out.map_out("product", Product(
            name=name, code=code, category=category, price="10")))
        for name, code, category in (("Sedia ergonomica", "ARR-01", "Arredo"),
                                     ("Corso Excel", "FORM-01", None))
    ])
    crm = Connection("crm", syncbridge_crmincloud.connector, emulator.settings_for(url))
    watched = Watched(crm)
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    categories = emulator.store.table("catalogcategories")
    catalog = emulator.store.table("catalog")

    # sent: the category goes to upsert as the item's context, and reaches the CRM as an id
    out = run_sync("out", SyncConfig(left="erp-out", right="crm",
                                     entities={"product": EntityRule()}),
                   {"left": erp_out, "right": crm}, store)  # type: ignore[arg-type]
    assert not out.failed, [(e.entity, e.message, dict(e.counts)) for e in out.entities]
    sent = {native["code"]: context for _entity, native, context in watched.sent}
    assert sent == {"ARR-01": {mapping.CATEGORY: "Arredo"}, "FORM-01": {mapping.CATEGORY: None}}
    [chair] = catalog.list(lambda row: row["code"] == "ARR-01")
    [course] = catalog.list(lambda row: row["code"] == "FORM-01")
    assert categories.get(chair["category"])["description"] == "Arredo"
    assert course.get("category") in (None, 0)
    # what a write returns comes with the context fetch would give it
    assert {mapping.CATEGORY: "Arredo"} in [result.context for result in watched.returned]

    # read: a seeded item the sync cannot map (no name) is kept for retry, its context beside
    seeded = [row for row in catalog.list() if row["code"] not in ("ARR-01", "FORM-01")]
    broken = next(row for row in seeded if row.get("category"))
    catalog.update(broken["id"], {"productName": None})
    back = run_sync("in", SyncConfig(left="crm", right="erp-in",
                                     entities={"product": EntityRule()}),
                    {"left": crm, "right": erp_in}, store)  # type: ignore[arg-type]
    counts = {e.entity: dict(e.counts) for e in back.entities}
    assert counts["product"].get("failed") == 1, counts
    description = categories.get(broken["category"])["description"]
    assert watched.read[f"product {broken['id']}"] == {mapping.CATEGORY: description}
    assert watched.read[f"product {chair['id']}"] == {mapping.CATEGORY: "Arredo"}
    mapped = {p["code"]: p for page in erp_in.fetch("product") for p in page.records}
    assert mapped["ARR-01"]["category"] == "Arredo"

    # no native record crossing the hooks, nor any request the CRM received, has one
    assert watched.natives
    assert [(n, k) for n, native in enumerate(watched.natives) for k in private_keys(native)] == []
    bodies = recorder.json_bodies()
    assert any("/Catalog/" in path for path, _json in bodies)
    assert [(path, key) for path, body in bodies for key in private_keys(body)] == []

    # kept for retry: the item as read, and its context beside it
    store.close()
    with sqlite3.connect(tmp_path / "state.db") as db:
        pending = db.execute(
            "SELECT entity, record_id, native, context FROM pending "
            "WHERE sync = 'in' AND kind = 'failed'"
        ).fetchall()
    [(entity, rid, native, context)] = pending
    assert (entity, rid) == ("product", str(broken["id"]))
    assert private_keys(json.loads(native)) == []
    assert json.loads(context) == {mapping.CATEGORY: description}
    for connection in (erp_out, erp_in, crm):
        connection.close()
