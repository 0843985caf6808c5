"""``syncbridge run`` in processes of its own, killed with SIGKILL at chosen moments.

A fresh interpreter spends about two seconds importing the CLI, the engine and the connectors
before it does anything; a handful of killed runs per connector would spend most of their
time there. The runs are forked instead from a server process that imported all that once
(multiprocessing's ``forkserver``, started without the test process's threads: the emulators
serving requests live in the test process, not in the runs).
"""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
import time
from multiprocessing.context import ForkServerContext
from pathlib import Path

PRELOAD = [
    "syncbridge.cli",
    "syncbridge.cli.sync",
    "syncbridge.engine.runner",
    "syncbridge.workspace",
    "syncbridge_sql.connector",
    "syncbridge_fattureincloud.connector",
    "syncbridge_crmincloud.connector",
    "syncbridge_quickbooks.connector",
    "syncbridge_bitrix24.connector",
    "tests.integrations.killing",
]

_context: ForkServerContext | None = None


def context() -> ForkServerContext:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def run_cli(config: str) -> None:
    """The body of a run process: ``syncbridge -c CONFIG run -q``."""
    from syncbridge.cli import main

    main(["-c", config, "run", "-q"], prog_name="syncbridge")


def outbox_keys(state: Path) -> set[str]:
    """The outbox's keys as the state store holds them now (the run is writing meanwhile)."""
    if not state.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5) as db:
            return {key for (key,) in db.execute("SELECT key FROM outbox")}
    except sqlite3.OperationalError:  # not created yet
        return set()


def killed_run(config: Path, state: Path, rng: random.Random, *, timeout: float = 60) -> bool:
    """Start a run and SIGKILL it while its creates are on their way; whether it was killed.

    The moment: once the run has handed over its first 1-6 creates (their outbox rows, new
    since it started, are committed right before the request), plus 0-40 ms, so that kills
    land before, during and after requests and the commits that follow them. A run that ends
    first was not killed.
    """
    before = outbox_keys(state)
    wanted = rng.randint(1, 6)
    extra = rng.uniform(0, 0.04)
    process = context().Process(target=run_cli, args=(str(config),))
    process.start()
    deadline = time.monotonic() + timeout
    killed = False
    try:
        while process.is_alive() and time.monotonic() < deadline:
            if len(outbox_keys(state) - before) >= wanted:
                time.sleep(extra)
                if process.is_alive():
                    process.kill()
                    killed = True
                break
            time.sleep(0.001)
    finally:
        if process.is_alive() and not killed:
            process.kill()
        process.join(timeout)
    return killed
