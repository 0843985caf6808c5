"""No key of the connector's own travels in a QuickBooks record: what ``map`` needs besides
the record (whether a customer is a company, a tax code's rate, a line's VAT percentage on
the way out) is its context, never a ``_``-prefixed key, whether read, sent to QuickBooks or
kept for retry."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import syncbridge_quickbooks.connector
from syncbridge.config import EntityRule, SyncConfig
from syncbridge.connection import Connection
from syncbridge.credentials import MemoryCredentials
from syncbridge.emulator import EmulatorOptions, running
from syncbridge.engine.runner import run_sync
from syncbridge.models import Company, Contact, DocumentLine, DocumentStatus, Invoice
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from syncbridge.state import StateStore
from syncbridge.testing.watch import Received, Watched, private_keys
from syncbridge_quickbooks.emulator import QuickBooksEmulator


@pytest.fixture
def served() -> Iterator[tuple[QuickBooksEmulator, str, Received]]:
    emulator = QuickBooksEmulator(EmulatorOptions(records=0, rate_limits=False))
    recorder = Received(emulator.app)
    with running(recorder) as url:
        yield emulator, url, recorder


def _invoice(number: str, company_id: str) -> Invoice:
    return Invoice(
        number=number,
        date=date(2026, 11, 23),
        currency="EUR",
        company_id=company_id,
        lines=[
            DocumentLine(description="Braugerste", quantity=Decimal(2),
                         unit_price=Decimal("100.00"), vat_percent=Decimal(19)),
            DocumentLine(description="Hopfen", quantity=Decimal(1),
                         unit_price=Decimal("50.00"), vat_percent=Decimal(7)),
        ],
    )


def test_no_private_key_is_read_sent_or_kept_and_the_context_says_what_map_needs(
    served: tuple[QuickBooksEmulator, str, Received], tmp_path: Path
) -> None:
    emulator, url, recorder = served
    sql = load_connector("sql")
    out_db = Connection("erp-out", sql, {"url": f"sqlite:///{tmp_path}/o.db"})
    in_db = Connection("erp-in", sql, {"url": f"sqlite:///{tmp_path}/i.db"})
    [company] = out_db.upsert("company", [UpsertItem(key="c", record=out_db.map_out(
        "company", Company(name="Brauhaus Ansbach GmbH", currency="EUR", country="DE")))])
    assert company.id is not None
    out_db.upsert("contact", [UpsertItem(key="p", record=out_db.map_out(
        "contact", Contact(first_name="Lea", last_name="Becker", company_id=company.id)))])
    out_db.upsert("invoice", [
        UpsertItem(key=n, record=out_db.map_out("invoice", _invoice(n, str(company.id))))
        for n in ("1121", "1122")
    ])
    qbo = Connection("qbo", syncbridge_quickbooks.connector, emulator.settings_for(url),
                     credentials=MemoryCredentials(emulator.issue_tokens()))
    watched = Watched(qbo)
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    parties = {"company": EntityRule(), "contact": EntityRule()}

    # sent: what QuickBooks cannot hold goes to upsert as the item's context
    out = run_sync("out", SyncConfig(left="erp-out", right="qbo",
                                     entities={**parties, "invoice": EntityRule()}),
                   {"left": out_db, "right": qbo}, store)  # type: ignore[arg-type]
    assert not out.failed, [(e.entity, e.message, dict(e.counts)) for e in out.entities]
    contexts = {(entity, json.dumps(ctx, sort_keys=True)) for entity, _n, ctx in watched.sent}
    assert contexts == {
        ("company", "{}"),
        ("contact", '{"parent": "company"}'),
        ("invoice", '{"customer": "company", "vat_percents": ["19", "7"]}'),
    }
    invoices = {i["DocNumber"]: i for i in emulator.books.rendered("Invoice")}
    codes = [line["SalesItemLineDetail"]["TaxCodeRef"]["value"]
             for line in invoices["1121"]["Line"] if "SalesItemLineDetail" in line]
    assert codes == ["3", "4"]  # upsert gave each line the tax code of its percentage

    # a payment over both invoices: QuickBooks has it, syncbridge does not map it
    customer = invoices["1121"]["CustomerRef"]["value"]
    payment = emulator.books.create("Payment", {
        "CustomerRef": {"value": customer}, "TotalAmt": 20, "CurrencyRef": {"value": "EUR"},
        "TxnDate": "2026-11-30",
        "Line": [{"Amount": 10, "LinkedTxn": [{"TxnId": invoices[n]["Id"], "TxnType": "Invoice"}]}
                 for n in ("1121", "1122")],
    })

    # read: the facts map needs come as the context, by id
    back = run_sync("in", SyncConfig(left="qbo", right="erp-in", entities={
        **parties, "invoice": EntityRule(), "payment": EntityRule()}),
        {"left": qbo, "right": in_db}, store)  # type: ignore[arg-type]
    counts = {e.entity: dict(e.counts) for e in back.entities}
    assert [counts[e].get("created") for e in ("company", "contact", "invoice")] == [1, 1, 2]
    assert counts["payment"].get("failed") == 1
    assert watched.read[f"invoice {invoices['1121']['Id']}"] == {
        "customer": "company", "tax_rates": {"3": "19", "4": "7"}}
    assert watched.read[f"payment {payment['Id']}"] == {"customer": "company"}
    [lea] = [r for page in in_db.fetch("contact") for r in page.records]
    [brauhaus] = [r for page in in_db.fetch("company") for r in page.records]
    assert str(lea["company_id"]) == str(brauhaus["id"])  # the parent's kind came as context
    [read_back] = [r for page in in_db.fetch("invoice")
                   for r in in_db.map_page("invoice", page) if r.number == "1121"]
    assert [line.vat_percent for line in read_back.lines] == [19, 7]

    # no native record crossing the hooks, nor any request QuickBooks received, has one
    assert watched.natives
    assert [(n, k) for n, native in enumerate(watched.natives) for k in private_keys(native)] == []
    bodies = recorder.json_bodies()
    assert any(path.endswith("/invoice") or path.endswith("/batch") for path, _json in bodies)
    assert [(path, key) for path, body in bodies for key in private_keys(body)] == []

    # kept for retry: the payment as read, and its context beside it
    store.close()
    with sqlite3.connect(tmp_path / "state.db") as db:
        pending = db.execute(
            "SELECT entity, record_id, reason, native, context FROM pending WHERE side = 'left'"
        ).fetchall()
    [(entity, rid, reason, native, context)] = pending
    assert (entity, rid) == ("payment", payment["Id"])
    assert "applied to 2 invoices" in reason
    assert private_keys(json.loads(native)) == []
    assert json.loads(context) == {"customer": "company"}
    for connection in (out_db, in_db, qbo):
        connection.close()


def test_a_draft_invoice_quickbooks_holds_as_issued_is_in_step_on_a_full_run(
    served: tuple[QuickBooksEmulator, str, Received], tmp_path: Path
) -> None:
    """QuickBooks has no drafts: a draft invoice written there reads back as issued. What it
    would hold is worked out by mapping the write out and back in, with the context map(out)
    gave it (the customer's kind): then a full run finds the pair in step."""
    emulator, url, _recorder = served
    erp = Connection("erp", load_connector("sql"), {"url": f"sqlite:///{tmp_path}/o.db"})
    [company] = erp.upsert("company", [UpsertItem(key="c", record=erp.map_out(
        "company", Company(name="Brauhaus Ansbach GmbH", currency="EUR", country="DE")))])
    draft = _invoice("1121", str(company.id)).model_copy(update={"status": DocumentStatus.DRAFT})
    erp.upsert("invoice", [UpsertItem(key="i", record=erp.map_out("invoice", draft))])
    qbo = Connection("qbo", syncbridge_quickbooks.connector, emulator.settings_for(url),
                     credentials=MemoryCredentials(emulator.issue_tokens()))
    store = StateStore(f"sqlite:///{tmp_path}/state.db")
    sync = SyncConfig(left="erp", right="qbo",
                      entities={"company": EntityRule(), "invoice": EntityRule()})
    try:
        first = run_sync("s", sync, {"left": erp, "right": qbo}, store)  # type: ignore[arg-type]
        assert first.writes == 2
        full = run_sync("s", sync, {"left": erp, "right": qbo}, store,  # type: ignore[arg-type]
                        full=True)
        assert full.writes == 0, {e.entity: dict(e.counts) for e in full.entities}
    finally:
        store.close()
        erp.close()
        qbo.close()
