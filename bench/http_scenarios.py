"""HTTP benchmarks: syncbridge against a bare client, both talking to one emulator process.

The emulator runs in its own process (``syncbridge emulate``) so that it does not compete
with the measured client for the interpreter lock; the client side is what is measured.
Each function returns a dict of figures; ``bench/run.py`` turns them into table rows.

    python bench/http_scenarios.py fic_read 20000
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from syncbridge.config import EntityRule, SyncConfig
from syncbridge.connection import Connection
from syncbridge.engine.context import EntityContext
from syncbridge.engine.heap import frozen_heap
from syncbridge.engine.read import read_side
from syncbridge.engine.report import Recorder
from syncbridge.engine.runner import run_sync
from syncbridge.models import model_for
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from syncbridge.state import StateStore


@contextmanager
def emulator(system: str, records: int, *, limits: bool = False) -> Iterator[dict[str, Any]]:
    """``syncbridge emulate SYSTEM`` in a child process; yields its connection settings."""
    command = [sys.executable, "-m", "syncbridge.cli", "emulate", system, "--port", "0",
               "--records", str(records), "--print-settings"]
    if not limits:
        command.append("--no-rate-limits")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None and process.stderr is not None
    try:
        # stdout is the TOML block alone, closed once the server accepts connections
        text = process.stdout.read()
        if not text:
            raise RuntimeError(f"the {system} emulator did not start: {process.stderr.read()}")
        import tomllib

        block = tomllib.loads(text)
        settings = dict(block["connections"][system]["settings"])
        if not limits:  # limits off on both ends: the client must not pace itself either
            settings["rate_limit"] = False
        yield settings
    finally:
        process.terminate()
        process.wait(timeout=30)


def _sync_read(settings: dict[str, Any], folder: Path) -> tuple[float, int]:
    """syncbridge's read of every client into a fresh state store."""
    store = StateStore(f"sqlite:///{folder / 'state.db'}")
    fic = Connection("fic", load_connector("fattureincloud"), settings,
                     request_log=store.request_log("fic"))
    sql = Connection("sql", load_connector("sql"), {"url": f"sqlite:///{folder / 'x.db'}"})
    recorder = Recorder(store.engine, "bench", "run")
    ctx = EntityContext(sync="bench", entity="company",
                        rule=EntityRule(direction="left-to-right"),
                        connections={"left": fic, "right": sql}, engine=store.engine,
                        recorder=recorder, sync_entities=frozenset({"company"}))
    started = time.perf_counter()
    with frozen_heap():  # as run_sync reads, with the collector kept off the imported world
        read = read_side(ctx, "left")
    seconds = time.perf_counter() - started
    fic.close()
    sql.close()
    store.close()
    return seconds, read.count


def _bare_read(settings: dict[str, Any], sqlite_path: Path | None) -> tuple[float, int]:
    """The same pages with a bare httpx loop (and optionally a SQLite row per record)."""
    base = settings["base_url"]
    headers = {"Authorization": f"Bearer {settings['access_token']}"}
    path = f"/c/{settings['company_id']}/entities/clients"
    db = sqlite3.connect(sqlite_path) if sqlite_path else None
    if db is not None:
        db.execute("CREATE TABLE record (id TEXT PRIMARY KEY, data BLOB)")
    count = 0
    started = time.perf_counter()
    with httpx.Client(base_url=base, headers=headers) as client:
        page = 1
        while True:
            body = orjson.loads(client.get(path, params={
                "page": page, "per_page": 100, "fieldset": "detailed",
                "sort": "updated_at,id"}).content)
            rows = body["data"]
            if db is not None:
                with db:
                    db.executemany("INSERT INTO record VALUES (?, ?)",
                                   [(str(r["id"]), orjson.dumps(r)) for r in rows])
            count += len(rows)
            if page >= body["last_page"]:
                break
            page += 1
    seconds = time.perf_counter() - started
    if db is not None:
        db.close()
    return seconds, count


def fic_read(n: int, folder: Path) -> dict[str, Any]:
    """Full read of N clients: syncbridge into its state store vs bare loops."""
    with emulator("fattureincloud", n) as settings:
        _bare_read(settings, None)  # warm the server's caches once
        bare, bare_count = _bare_read(settings, None)
        bare_db, _ = _bare_read(settings, folder / "bare.db")
        ours, count = _sync_read(settings, folder)
    assert count == bare_count, (count, bare_count)
    return {"n": count, "seconds": ours, "bare_seconds": bare, "bare_db_seconds": bare_db,
            "ratio_bare": bare / ours, "ratio_bare_db": bare_db / ours,
            "us_per_record": ours / count * 1e6, "bare_us_per_record": bare / count * 1e6}


def _company(index: int) -> dict[str, Any]:
    return {"name": f"Bench {index:06d} S.r.l.", "city": "Milano", "country": "IT",
            "address": f"Via Roma {index}", "email": f"bench{index}@example.it"}


def fic_write(n: int, folder: Path) -> dict[str, Any]:
    """N creates: a sync sql -> Fatture in Cloud vs a bare POST loop, same concurrency."""
    sql_url = f"sqlite:///{folder / 'erp.db'}"
    with Connection("erp", load_connector("sql"), {"url": sql_url}) as erp:
        model = model_for("company")
        erp.upsert("company", [UpsertItem(key=f"k{i}", record=erp.map_out(
            "company", model.model_validate(_company(i)))) for i in range(n)])
    with emulator("fattureincloud", 0) as settings:
        fic = Connection("fic", load_connector("fattureincloud"), settings)
        # the very bodies the connector sends (its own clean-up of the mapped record)
        from syncbridge_fattureincloud.mapping import CLEARABLE
        from syncbridge_fattureincloud.writes import clean

        natives = [clean(fic.map_out("company", model_for("company").model_validate(
            _company(i))), True, CLEARABLE.get("company", frozenset())) for i in range(n, 2 * n)]
        workers = fic.info.max_concurrency
        headers = {"Authorization": f"Bearer {settings['access_token']}"}
        path = f"/c/{settings['company_id']}/entities/clients"
        with httpx.Client(base_url=settings["base_url"], headers=headers,
                          limits=httpx.Limits(max_connections=workers)) as client:
            started = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                statuses = list(pool.map(
                    lambda native: client.post(path, json={"data": native}).status_code,
                    natives))
            bare = time.perf_counter() - started
        assert set(statuses) == {200}, set(statuses)
        fic.close()
        store = StateStore(f"sqlite:///{folder / 'state.db'}")
        left = Connection("erp", load_connector("sql"), {"url": sql_url})
        right = Connection("fic", load_connector("fattureincloud"), settings,
                           request_log=store.request_log("fic"))
        sync = SyncConfig(left="erp", right="fic",
                          entities={"company": EntityRule(direction="left-to-right")})
        started = time.perf_counter()
        summary = run_sync("bench", sync, {"left": left, "right": right}, store)
        ours = time.perf_counter() - started
        left.close()
        right.close()
    created = summary.entities[0].counts["created"]
    assert created == n, dict(summary.entities[0].counts)
    return {"n": n, "seconds": ours, "bare_seconds": bare, "ratio_bare": bare / ours,
            "workers": workers}


def main(argv: list[str]) -> None:
    name, n = argv[0], int(argv[1])
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder:
        result = globals()[name](n, Path(folder))
    print(json.dumps(result))



def _invoice(index: int, company_id: str) -> dict[str, Any]:
    return {"number": f"INV-{index:06d}", "date": "2026-11-02", "company_id": company_id,
            "currency": "EUR", "status": "sent",
            "lines": [{"description": "Consulting", "quantity": "2", "unit_price": "95.00"}]}


def b24_import(n: int, folder: Path) -> dict[str, Any]:
    """N customers and 1.5 N invoices into Bitrix24 with its real leaky bucket switched on.

    The theoretical maximum under the limit, after the burst: 2 requests a second, each one
    batch (50 companies, or 25 invoices: two commands each). ``ratio_theoretical`` = the
    achieved records/s / that maximum = (write requests / 2 s) / the achieved time.
    """
    sql_url = f"sqlite:///{folder / 'erp.db'}"
    invoices = n * 3 // 2
    with Connection("erp", load_connector("sql"), {"url": sql_url}) as erp:
        company = model_for("company")
        done = erp.upsert("company", [UpsertItem(key=f"c{i}", record=erp.map_out(
            "company", company.model_validate(_company(i)))) for i in range(n)])
        ids = [str(r.id) for r in done]
        invoice = model_for("invoice")
        erp.upsert("invoice", [UpsertItem(key=f"i{i}", record=erp.map_out(
            "invoice", invoice.model_validate(_invoice(i, ids[i % n])))) for i in range(invoices)])
    with emulator("bitrix24", 0, limits=True) as settings:
        store = StateStore(f"sqlite:///{folder / 'state.db'}")
        left = Connection("erp", load_connector("sql"), {"url": sql_url})
        right = Connection("b24", load_connector("bitrix24"), settings,
                           request_log=store.request_log("b24"))
        batches = {e: right.info.entities[e].batch_size for e in ("company", "invoice")}
        sync = SyncConfig(left="erp", right="b24", entities={
            "company": EntityRule(direction="left-to-right"),
            "invoice": EntityRule(direction="left-to-right")})
        started = time.perf_counter()
        summary = run_sync("bench", sync, {"left": left, "right": right}, store)
        seconds = time.perf_counter() - started
        left.close()
        right.close()
    created = sum(r.counts["created"] for r in summary.entities)
    failed = sum(r.counts["failed"] for r in summary.entities)
    requests = -(-n // batches["company"]) - (-invoices // batches["invoice"])
    best = requests / 2.0
    return {"n": n + invoices, "seconds": seconds, "created": created, "failed": failed,
            "write_requests": requests, "theoretical_seconds": best,
            "ratio_theoretical": best / seconds if seconds else 0.0,
            "records_per_second": created / seconds}


def qbo_write(n: int, folder: Path) -> dict[str, Any]:
    """N customers into QuickBooks with its real limits on (500/min, 40 batches/min).

    The binding limit of a bulk write is the batch one: 30 items a request, 40 requests in
    any minute. The theoretical best sends the k-th batch at 60 s x floor((k-1)/40);
    ``ratio_theoretical`` = that best time / the achieved time.
    """
    sql_url = f"sqlite:///{folder / 'erp.db'}"
    with Connection("erp", load_connector("sql"), {"url": sql_url}) as erp:
        company = model_for("company")
        erp.upsert("company", [UpsertItem(key=f"c{i}", record=erp.map_out(
            "company", company.model_validate(_company(i)))) for i in range(n)])
    with emulator("quickbooks", 0, limits=True) as settings:
        store = StateStore(f"sqlite:///{folder / 'state.db'}")
        left = Connection("erp", load_connector("sql"), {"url": sql_url})
        right = Connection("qbo", load_connector("quickbooks"), settings,
                           credentials=store.credentials("qbo"),
                           request_log=store.request_log("qbo"))
        batch = right.info.entities["company"].batch_size
        sync = SyncConfig(left="erp", right="qbo",
                          entities={"company": EntityRule(direction="left-to-right")})
        started = time.perf_counter()
        summary = run_sync("bench", sync, {"left": left, "right": right}, store)
        seconds = time.perf_counter() - started
        left.close()
        right.close()
    counts = summary.entities[0].counts
    batches = -(-n // batch)
    best = 60.0 * ((batches - 1) // 40)
    return {"n": n, "seconds": seconds, "created": counts["created"], "failed": counts["failed"],
            "batches": batches, "theoretical_seconds": best,
            "ratio_theoretical": best / seconds if seconds and best else 1.0}


if __name__ == "__main__":
    os.environ.setdefault("SYNCBRIDGE_RETRY_BACKOFF", "0.05")
    main(sys.argv[1:])
