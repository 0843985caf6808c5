"""A run whose process died is shown as killed the next time anyone looks; a live one is not.

A run is held in the middle of its first entity deterministically: the test holds an
exclusive lock on the left database, so the run's read waits for it (up to the 60 s the URL
allows) with its run and entity rows written and still ``running``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, update

from syncbridge.engine import report
from syncbridge.engine.lease import LEASE, pid_alive
from syncbridge.engine.report import (
    ENTITY_RUN,
    KILLED_MESSAGE,
    RUN,
    Recorder,
    settle_runs,
)
from syncbridge.state import StateStore
from tests.engine.bed import Bed, company

KILLED_NOTE = f"main company: run #1 {KILLED_MESSAGE}"


def held_bed(tmp_path: Path) -> Bed:
    bed = Bed(
        tmp_path,
        {"company": {"direction": "left-to-right", "every": "10m"}},
        left_settings={"url": f"sqlite:///{tmp_path / 'left.db'}?timeout=60"},
    )
    bed.put("left", "company", [company(i) for i in range(3)])
    return bed


def state_rows(tmp_path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(id, status) of every run and (run_id, entity, result, message) of every entity run."""
    with sqlite3.connect(tmp_path / "state.db") as db:
        runs = db.execute("SELECT id, status FROM run ORDER BY id").fetchall()
        entities = db.execute(
            "SELECT run_id, entity, result, message FROM entity_run ORDER BY run_id"
        ).fetchall()
    return runs, entities


class Held:
    """A `syncbridge run` in its own process, held while reading its first entity."""

    def __init__(self, process: subprocess.Popen[bytes], lock: sqlite3.Connection) -> None:
        self.process, self._lock = process, lock

    def release(self) -> None:
        """Let the run read on."""
        if self._lock.in_transaction:
            self._lock.rollback()


@contextmanager
def run_in_the_middle(bed: Bed, tmp_path: Path) -> Iterator[Held]:
    lock = sqlite3.connect(tmp_path / "left.db", isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    process = subprocess.Popen(
        [sys.executable, "-m", "syncbridge.cli", "-c", str(bed.config), "run", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    held = Held(process, lock)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                if state_rows(tmp_path)[1]:
                    break
            except sqlite3.OperationalError:
                pass  # not created yet, or being migrated
            assert time.monotonic() < deadline, "the run never started its entity"
            time.sleep(0.05)
        yield held
    finally:
        held.release()
        lock.close()
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stderr:
            process.stderr.close()


def killed(held: Held) -> None:
    held.process.send_signal(signal.SIGKILL)
    held.process.wait()  # reaped, as a shell would


def test_a_killed_run_is_shown_killed_by_status_and_report(tmp_path: Path) -> None:
    bed = held_bed(tmp_path)
    with run_in_the_middle(bed, tmp_path) as held:
        killed(held)
    assert state_rows(tmp_path) == ([(1, "running")], [(1, "company", "running", None)])

    status = bed.cli("status", "--json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout) == [
        {
            "sync": "main",
            "entity": "company",
            "last_run": 1,
            "finished": None,
            "result": "killed",
            "counts": {},
            "next_due": "now",
            "message": KILLED_MESSAGE,
        }
    ]
    table = bed.cli("status")
    assert table.exit_code == 0
    assert "│ killed │" in table.stdout
    assert table.stdout.endswith(KILLED_NOTE + "\n")

    shown = bed.cli("report", "1")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("Run #1 of main — killed\n")
    assert f"Run #1 {KILLED_MESSAGE}.\n" in shown.stdout
    # marked in the store, once: every later look agrees
    assert state_rows(tmp_path) == ([(1, "killed")], [(1, "company", "killed", KILLED_MESSAGE)])


def test_a_killed_run_is_shown_killed_from_a_second_process(tmp_path: Path) -> None:
    bed = held_bed(tmp_path)
    with run_in_the_middle(bed, tmp_path) as held:
        killed(held)

    status = bed.cli_process("status", "--json")  # the first look, from another process
    assert status.returncode == 0, status.stderr
    [row] = json.loads(status.stdout)
    assert (row["last_run"], row["result"], row["message"]) == (1, "killed", KILLED_MESSAGE)
    assert state_rows(tmp_path)[0] == [(1, "killed")]

    shown = bed.cli_process("report")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Run #1 of main — killed\n")
    assert f"Run #1 {KILLED_MESSAGE}.\n" in shown.stdout


def test_the_next_run_marks_a_killed_run_and_resumes(tmp_path: Path) -> None:
    bed = held_bed(tmp_path)
    with run_in_the_middle(bed, tmp_path) as held:
        killed(held)

    again = bed.cli_process("run", "-q")
    assert again.returncode == 0, again.stderr
    assert state_rows(tmp_path) == (
        [(1, "killed"), (2, "ok")],
        [(1, "company", "killed", KILLED_MESSAGE), (2, "company", "ok", None)],
    )
    assert sorted(row["name"] for row in bed.rows("right", "company")) == [
        "Company 0000",
        "Company 0001",
        "Company 0002",
    ]
    [row] = json.loads(bed.cli("status", "--json").stdout)
    assert (row["last_run"], row["result"], row["message"]) == (2, "ok", None)


def test_a_run_still_alive_is_not_marked_killed(tmp_path: Path) -> None:
    bed = held_bed(tmp_path)
    with run_in_the_middle(bed, tmp_path) as held:
        status = bed.cli_process("status", "--json")  # from another process
        assert status.returncode == 0, status.stderr
        [row] = json.loads(status.stdout)
        assert (row["last_run"], row["result"], row["message"]) == (1, "running", None)
        shown = bed.cli("report")  # and from this one
        assert shown.stdout.startswith("Run #1 of main — running\n")
        assert KILLED_MESSAGE not in shown.stdout
        assert state_rows(tmp_path) == ([(1, "running")], [(1, "company", "running", None)])

        held.release()  # let it go: it finishes with its own result
        assert held.process.wait(timeout=60) == 0
    assert state_rows(tmp_path) == ([(1, "ok")], [(1, "company", "ok", None)])
    [row] = json.loads(bed.cli("status", "--json").stdout)
    assert (row["last_run"], row["result"]) == (1, "ok")


# -- judging a run by its host, pid and sign of life ------------------------------------------
@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield store.engine
    store.close()


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def put_run(engine: Engine, *, host: str | None, pid: int, silent: timedelta | None) -> int:
    """A ``running`` run with one running entity, last alive ``silent`` ago (None: never)."""
    now = datetime.now(UTC)
    with engine.begin() as db:
        key = db.execute(
            insert(RUN).values(
                sync="main",
                mode="run",
                started_at=now - timedelta(hours=1),
                status="running",
                pid=pid,
                host=host,
                alive_at=None if silent is None else now - silent,
            )
        ).inserted_primary_key
        assert key is not None
        run_id = int(key[0])
        db.execute(
            insert(ENTITY_RUN).values(
                run_id=run_id,
                entity="company",
                sync="main",
                started_at=now,
                result="running",
                counts="{}",
            )
        )
    return run_id


def statuses(engine: Engine) -> dict[int, str]:
    with engine.connect() as db:
        return {row.id: row.status for row in db.execute(select(RUN.c.id, RUN.c.status))}


def test_a_pid_counts_only_on_its_own_host(engine: Engine) -> None:
    here = socket.gethostname()
    elsewhere = here + "-elsewhere"
    quiet = report.SILENCE + timedelta(seconds=5)
    gone_here = put_run(engine, host=here, pid=dead_pid(), silent=timedelta(0))
    # pid 1 runs here, which says nothing of a process on another host: its silence does
    silent_there = put_run(engine, host=elsewhere, pid=1, silent=quiet)
    # a pid that is gone here may well run there: it beats, so it is alive
    beating_there = put_run(engine, host=elsewhere, pid=dead_pid(), silent=timedelta(0))
    # alive pid here, but silent: the pid was reused by another process after the run died
    reused_here = put_run(engine, host=here, pid=1, silent=quiet)
    beating_here = put_run(engine, host=here, pid=1, silent=timedelta(seconds=1))

    assert settle_runs(engine) == {gone_here, silent_there, reused_here}
    assert statuses(engine) == {
        gone_here: "killed",
        silent_there: "killed",
        beating_there: "running",
        reused_here: "killed",
        beating_here: "running",
    }
    with engine.connect() as db:
        results = dict(db.execute(select(ENTITY_RUN.c.run_id, ENTITY_RUN.c.message)).all())
    assert results[gone_here] == KILLED_MESSAGE
    assert results[beating_there] is None
    assert settle_runs(engine) == set()  # already marked


def test_a_run_from_before_hosts_were_kept_is_alive_while_its_pid_holds_a_lease(
    engine: Engine,
) -> None:
    held = put_run(engine, host=None, pid=4242, silent=None)
    unheld = put_run(engine, host=None, pid=4343, silent=None)
    now = datetime.now(UTC)
    with engine.begin() as db:
        db.execute(
            insert(LEASE).values(
                sync="main",
                entity="company",
                holder="other-host:4242:cafebabe",
                host="other-host",
                pid=4242,
                acquired_at=now,
                expires_at=now + timedelta(seconds=30),
            )
        )
    assert settle_runs(engine) == {unheld}
    assert statuses(engine) == {held: "running", unheld: "killed"}
    with engine.begin() as db:
        db.execute(update(LEASE).values(expires_at=now - timedelta(seconds=1)))
    assert settle_runs(engine) == {held}


def test_a_running_run_beats_and_comes_back_from_a_wrong_killed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "BEAT", 0.02)
    recorder = Recorder(engine, "main", "run")
    recorder.start_entity("company")

    def row() -> Any:
        with engine.connect() as db:
            return db.execute(select(RUN).where(RUN.c.id == recorder.run_id)).one()

    first = row()
    assert (first.host, first.pid, first.status) == (socket.gethostname(), os.getpid(), "running")
    deadline = time.monotonic() + 10
    while row().alive_at == first.alive_at:
        assert time.monotonic() < deadline, "no heartbeat"
        time.sleep(0.01)

    with engine.begin() as db:  # judged dead (stopped for a while, say): it is not
        db.execute(update(RUN).where(RUN.c.id == recorder.run_id).values(status="killed"))
        db.execute(
            update(ENTITY_RUN)
            .where(ENTITY_RUN.c.run_id == recorder.run_id)
            .values(result="killed", message=KILLED_MESSAGE)
        )
    while row().status != "running":
        assert time.monotonic() < deadline, "not revived"
        time.sleep(0.01)
    with engine.connect() as db:
        entity = db.execute(select(ENTITY_RUN.c.result, ENTITY_RUN.c.message)).one()
    assert tuple(entity) == ("running", None)

    recorder.finish("ok")
    assert row().status == "ok"
    assert recorder._heartbeat is not None and not recorder._heartbeat._thread.is_alive()


def test_a_killed_process_not_yet_reaped_is_not_alive() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert pid_alive(process.pid)
        os.kill(process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pid_alive(process.pid):  # a zombie until waited for
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        process.kill()
        process.wait()
    assert not pid_alive(process.pid)
