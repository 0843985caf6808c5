"""Killed runs create records without match keys exactly once, on every connector that creates.

Companies with only a name (no VAT number, no tax code, no city) go from a SQL database to
each target, over real HTTP to its emulator on 127.0.0.1 (SQLite for ``sql``). The match
cascade cannot recognise such a record, so only the outbox stands between a killed run and a
duplicate: by reference where the connector writes one (sql's key column, CRM in Cloud's key
field, Bitrix24's ORIGIN_ID), by content elsewhere (Fatture in Cloud, QuickBooks).

Each trial adds records and SIGKILLs a run while its creates are on their way; a clean run
follows. Then the target holds each record exactly once, each linked once, and every record
was reported ``created`` exactly once over all the runs, "(recovered after an interrupted
run)" where a killed run's create was found afterwards, never ``linked`` or ``unknown``.

The kill moments are random, seeded: the seed is printed, and ``SYNCBRIDGE_KILL_SEED``
replays one. Three kills per connector by default; ``SYNCBRIDGE_SOAK=1`` (the soak) makes it
25, and ``SYNCBRIDGE_KILLS`` any number.
"""

from __future__ import annotations

import os
import random
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from syncbridge.connection import Connection
from syncbridge.credentials import MemoryCredentials
from syncbridge.emulator import EmulatorOptions
from syncbridge.emulator.config import connection_toml
from syncbridge.emulator.server import running
from syncbridge.engine.outbox import RECOVERED
from syncbridge.models import model_for
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from tests.integrations.killing import context, killed_run, run_cli

#: the soak (``SYNCBRIDGE_SOAK=1``, as ``make soak`` sets it) kills many more runs
SOAK = os.environ.get("SYNCBRIDGE_SOAK", "") not in ("", "0")
KILLS = int(os.environ.get("SYNCBRIDGE_KILLS") or (25 if SOAK else 3))
SEED = int(os.environ.get("SYNCBRIDGE_KILL_SEED", "20261124"))
#: records at the start, and added before each trial
FIRST, EACH = 40, 20

TARGETS = ["sql", "fattureincloud", "crmincloud", "quickbooks", "bitrix24"]


@contextmanager
def target_settings(target: str, folder: Path) -> Iterator[dict[str, Any]]:
    """The right connection's settings: an empty SQLite file, or an emulator with no data."""
    if target == "sql":
        yield {"url": f"sqlite:///{folder / 'right.db'}", "batch_size": 1}
        return
    factory = load_emulator(target)
    # every request takes a while, as over a network: kills land inside requests, not only
    # between the bursts a batch endpoint answers in a few milliseconds
    emulator = factory(EmulatorOptions(records=0, seed=1, rate_limits=False, latency_ms=10))
    with running(emulator.app) as url:
        yield {**emulator.settings_for(url), "rate_limit": False}


def load_emulator(target: str) -> Any:
    from importlib.metadata import entry_points

    [entry] = [e for e in entry_points(group="syncbridge.emulators") if e.name == target]
    return entry.load()


def config_for(folder: Path, target: str, right: dict[str, Any]) -> Path:
    config = folder / "syncbridge.toml"
    config.write_text(
        '[state]\nurl = "sqlite:///state.db"\n'
        + connection_toml("erp", "sql", {"url": f"sqlite:///{folder / 'left.db'}"})
        + connection_toml("target", target, right)
        + '[syncs.main]\nleft = "erp"\nright = "target"\n'
        + '[syncs.main.entities.company]\ndirection = "left-to-right"\n'
    )
    return config


def connection(name: str, connector: str, settings: dict[str, Any]) -> Connection:
    return Connection(name, load_connector(connector), settings, credentials=MemoryCredentials())


def add_companies(erp: dict[str, Any], first: int, count: int) -> None:
    model = model_for("company")
    with connection("erp-test", "sql", erp) as conn:
        natives = [
            conn.map_out("company", model.model_validate({"name": f"Company {n:04d}"}))
            for n in range(first, first + count)
        ]
        results = conn.upsert(
            "company",
            [UpsertItem(key=f"seed-{first + n}", record=r) for n, r in enumerate(natives)],
        )
    assert all(r.ok for r in results)


def companies(name: str, connector: str, settings: dict[str, Any]) -> dict[str, str]:
    """id -> name of every company the connection reads."""
    with connection(name, connector, settings) as conn:
        records = [
            conn.map_in("company", native)
            for page in conn.fetch("company")
            for native in page.records
        ]
    return {str(r.id): r.name for r in records}  # type: ignore[attr-defined]


@pytest.mark.parametrize("target", TARGETS)
def test_killed_runs_create_records_without_match_keys_exactly_once(
    target: str, tmp_path: Path
) -> None:
    seed = SEED + TARGETS.index(target)
    print(f"{target}: kill seed {seed} (SYNCBRIDGE_KILL_SEED={SEED} replays this test)")
    rng = random.Random(seed)
    erp = {"url": f"sqlite:///{tmp_path / 'left.db'}"}
    state = tmp_path / "state.db"
    add_companies(erp, 0, FIRST)
    total = FIRST
    with target_settings(target, tmp_path) as right:
        config = config_for(tmp_path, target, right)
        kills = 0
        for _trial in range(KILLS):
            kills += killed_run(config, state, rng)
            add_companies(erp, total, EACH)
            total += EACH
        # a run may finish before its moment comes: most must not
        assert kills >= (KILLS + 1) // 2, f"seed {seed}: only {kills} of {KILLS} runs killed"
        final = context().Process(target=run_cli, args=(str(config),))
        final.start()
        final.join(120)
        assert final.exitcode == 0, f"seed {seed}: the clean run exited {final.exitcode}"
        left = companies("erp-test", "sql", erp)
        made = companies("target-test", target, right)

    assert len(left) == total
    duplicates = {n: c for n, c in Counter(made.values()).items() if c > 1}
    assert not duplicates, f"seed {seed}: duplicates on {target}: {duplicates}"
    assert sorted(made.values()) == sorted(left.values()), f"seed {seed}"
    with sqlite3.connect(state) as db:
        links = db.execute("SELECT left_id, right_id FROM link WHERE entity='company'").fetchall()
        outbox = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        rows = db.execute(
            "SELECT record_id, action, reason FROM run_item WHERE entity='company'"
        ).fetchall()
    assert outbox == 0, f"seed {seed}"
    assert len(links) == total
    assert {left[l_id] for l_id, _r in links} == set(left.values())
    for left_id, right_id in links:
        assert made[right_id] == left[left_id], f"seed {seed}: {left_id} -> {right_id}"
    created = Counter(rid for rid, action, _reason in rows if action == "created")
    assert created == Counter(list(left)), f"seed {seed}: created rows per record {created}"
    assert {action for _rid, action, _reason in rows} == {"created"}, f"seed {seed}"
    recovered = [rid for rid, _action, reason in rows if RECOVERED in reason]
    print(f"{target}: {kills} kills, {len(recovered)} creates recovered after them")
