"""No key of the connector's own travels in a Bitrix24 record: what ``map`` needs besides the
record (a stage's semantics on the portal, why an invoice's rows could not be read) is its
context, never a ``_``-prefixed key, whether read, sent to the portal or kept for retry."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import syncbridge_bitrix24.connector
import syncbridge_sql.connector
from syncbridge.config import EntityRule, SyncConfig
from syncbridge.connection import Connection
from syncbridge.emulator import EmulatorOptions, running
from syncbridge.engine.runner import run_sync
from syncbridge.models import Company, DocumentLine, Invoice
from syncbridge.records import UpsertItem
from syncbridge.state import StateStore
from syncbridge.testing.watch import Received, Watched, private_keys
from syncbridge_bitrix24 import phpquery
from syncbridge_bitrix24.emulator import Bitrix24Emulator, create_app
from syncbridge_bitrix24.emulator.calls import MethodError


def sent_params(body: bytes) -> list[Any]:
    """What one request to the portal carried: its JSON, and each batch command's query."""
    payload = json.loads(body or b"{}")
    found = [payload]
    commands = payload.get("cmd") if isinstance(payload, dict) else None
    for command in (commands or {}).values():
        _method, _, query = str(command).partition("?")
        found.append(phpquery.decode(query))
    return found


class Served:
    """An emulated portal served behind a :class:`Received`."""

    def __init__(self, emulator: Bitrix24Emulator, url: str, recorder: Received) -> None:
        self.emulator, self.url, self.recorder = emulator, url, recorder

    def connect(self) -> Connection:
        settings = {**self.emulator.settings_for(self.url), "rate_limit": False}
        return Connection("b24", syncbridge_bitrix24.connector, settings)

    def call(self, method: str, **params: Any) -> Any:
        """A method run directly on the emulated portal (arranging data, checking results)."""
        return self.emulator.portal.call(method, {k.lower(): v for k, v in params.items()}).result


@pytest.fixture
def served() -> Iterator[Served]:
    emulator = create_app(EmulatorOptions(records=0, rate_limits=False))
    recorder = Received(emulator.app)
    with running(recorder) as url:
        yield Served(emulator, url, recorder)


def _invoice(number: str, company_id: str) -> Invoice:
    return Invoice(
        number=number,
        date=date(2025, 3, 14),
        currency="EUR",
        company_id=company_id,
        status="sent",
        lines=[
            DocumentLine(description="Wartung", quantity=Decimal(2), unit_price=Decimal("95.00"),
                         vat_percent=Decimal(19)),
        ],
    )


def test_no_private_key_is_read_sent_or_kept_and_the_context_says_what_map_needs(
    served: Served, tmp_path: Path
) -> None:
    handle, recorder = served, served.recorder
    out_db = Connection("erp-out", syncbridge_sql.connector, {"url": f"sqlite:///{tmp_path}/o.db"})
    in_db = Connection("erp-in", syncbridge_sql.connector, {"url": f"sqlite:///{tmp_path}/i.db"})
    [company] = out_db.upsert("company", [UpsertItem(
        key="c", record=out_db.map_out("company", Company(name="Müller Bau GmbH")))])
    assert company.id is not None
    out_db.upsert("invoice", [
        UpsertItem(key=n, record=out_db.map_out("invoice", _invoice(n, str(company.id))))
        for n in ("RE-1", "RE-2", "RE-3")
    ])
    bitrix = handle.connect()
    watched = Watched(bitrix)
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    rules = {"company": EntityRule(), "invoice": EntityRule()}

    # sent: the invoices go out with their stage, their rows and nothing else
    out = run_sync("out", SyncConfig(left="erp-out", right="b24", entities=rules),
                   {"left": out_db, "right": bitrix}, store)  # type: ignore[arg-type]
    assert not out.failed, [(e.entity, e.message) for e in out.entities]
    listed = handle.call("crm.item.list", entityTypeId=31)["items"]
    invoices = {invoice["accountNumber"]: invoice for invoice in listed}
    assert {n: i["stageId"] for n, i in invoices.items()} == dict.fromkeys(
        ("RE-1", "RE-2", "RE-3"), "DT31_1:S")

    # the portal moves RE-2 to a stage of its own that the stage map does not name, and
    # cannot list the rows of RE-3
    handle.emulator.portal.invoices.statuses.insert({
        "ENTITY_ID": "SMART_INVOICE_STAGE_1", "STATUS_ID": "DT31_1:UC_LOST", "NAME": "Verloren",
        "SORT": "50", "SEMANTICS": "F", "EXTRA": {"SEMANTICS": "failure"}})
    handle.call("crm.item.update", entityTypeId=31, id=invoices["RE-2"]["id"],
                fields={"stageId": "DT31_1:UC_LOST"})
    broken = str(invoices["RE-3"]["id"])
    rows: Callable[[dict[str, Any]], Any] = handle.emulator.portal.handlers[
        "crm.item.productrow.list"]

    def refuse_rows(params: dict[str, Any]) -> Any:
        if str((params.get("filter") or {}).get("=ownerId")) == broken:
            raise MethodError("INTERNAL_SERVER_ERROR", "Rows are unavailable")
        return rows(params)

    handle.emulator.portal.handlers["crm.item.productrow.list"] = refuse_rows

    # read: the facts map needs come as the context, by id
    back = run_sync("in", SyncConfig(left="b24", right="erp-in", entities=rules),
                    {"left": bitrix, "right": in_db}, store)  # type: ignore[arg-type]
    reason = "its product rows could not be read: Rows are unavailable"
    assert watched.contexts[str(invoices["RE-2"]["id"])] == {"stage_semantics": "F"}
    assert watched.contexts[broken] == {"error": reason}
    [failed] = [e for e in back.entities if e.entity == "invoice"]
    assert (dict(failed.counts)["created"], dict(failed.counts)["failed"]) == (2, 1)
    statuses = {r["number"]: r["status"] for page in in_db.fetch("invoice") for r in page.records}
    assert statuses == {"RE-1": "sent", "RE-2": "cancelled"}  # RE-2 read by its semantics

    # no native record crossing the hooks, nor any request the portal received, has one
    assert watched.natives
    assert [(n, k) for n, native in enumerate(watched.natives) for k in private_keys(native)] == []
    assert any(b"crm.item.add" in body for _m, _p, body in recorder.bodies)
    leaked = [(path, key) for _method, path, body in recorder.bodies
              for params in sent_params(body) for key in private_keys(params)]
    assert leaked == []

    # kept for retry: RE-3's record as read, and its context beside it
    store.close()
    with sqlite3.connect(tmp_path / "state.db") as db:
        pending = db.execute(
            "SELECT record_id, reason, native, context FROM pending WHERE side = 'left'"
        ).fetchall()
    [(rid, why, native, context)] = pending
    assert (rid, why) == (broken, reason)
    assert json.loads(native)["accountNumber"] == "RE-3"
    assert private_keys(json.loads(native)) == []
    assert json.loads(context) == {"error": reason}
    for connection in (out_db, in_db, bitrix):
        connection.close()
