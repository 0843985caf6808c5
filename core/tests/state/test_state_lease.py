"""The lease row that keeps two processes from running the same sync/entity."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, update

from syncbridge.engine.lease import LEASE, EntityLease
from syncbridge.errors import LeaseBusy
from syncbridge.state import StateStore


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield store.engine
    store.close()


def holders(engine: Engine) -> list[tuple[str, str, str, int]]:
    with engine.connect() as db:
        rows = db.execute(
            select(LEASE.c.sync, LEASE.c.entity, LEASE.c.holder, LEASE.c.pid).order_by(
                LEASE.c.sync, LEASE.c.entity
            )
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def put_lease(engine: Engine, *, host: str, pid: int, expires_in: timedelta) -> None:
    now = datetime.now(UTC)
    with engine.begin() as db:
        db.execute(
            insert(LEASE).values(
                sync="main",
                entity="company",
                holder=f"{host}:{pid}:cafebabe",
                host=host,
                pid=pid,
                acquired_at=now,
                expires_at=now + expires_in,
            )
        )


def test_a_second_acquire_is_refused_naming_host_and_pid(engine: Engine) -> None:
    first = EntityLease(engine, "main", "company")
    first.acquire()
    with engine.connect() as db:
        acquired = db.execute(select(LEASE.c.acquired_at)).scalar_one()
    with pytest.raises(LeaseBusy) as busy:
        EntityLease(engine, "main", "company").acquire()
    assert str(busy.value) == (
        f"sync 'main' entity 'company' is being run by {socket.gethostname()} pid "
        f"{first.pid} since {acquired:%Y-%m-%d %H:%M:%S}; not starting a second run "
        "(try again later, or pass --wait SECONDS)"
    )
    assert holders(engine) == [("main", "company", first.holder, first.pid)]
    # other entities and syncs have their own lease
    with EntityLease(engine, "main", "contact"), EntityLease(engine, "other", "company"):
        assert len(holders(engine)) == 3
    first.release()
    assert holders(engine) == []
    with EntityLease(engine, "main", "company") as again:
        assert holders(engine) == [("main", "company", again.holder, again.pid)]
    assert holders(engine) == []


def test_an_expired_lease_is_taken_over(engine: Engine) -> None:
    stale = EntityLease(engine, "main", "company")
    stale.acquire()  # held by this (live) process, so only the expiry can free it
    with engine.begin() as db:
        db.execute(update(LEASE).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    taker = EntityLease(engine, "main", "company")
    taker.acquire()
    assert holders(engine) == [("main", "company", taker.holder, taker.pid)]
    stale.release()  # the old holder's release cannot free the new holder's lease
    assert holders(engine) == [("main", "company", taker.holder, taker.pid)]
    taker.release()


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(engine: Engine) -> None:
    pid = dead_pid()
    put_lease(engine, host=socket.gethostname(), pid=pid, expires_in=timedelta(minutes=5))
    started = time.monotonic()
    with EntityLease(engine, "main", "company") as lease:
        assert time.monotonic() - started < 0.4  # no waiting for the expiry
        assert holders(engine) == [("main", "company", lease.holder, lease.pid)]


def test_a_dead_pid_on_another_host_still_holds_until_it_expires(engine: Engine) -> None:
    pid = dead_pid()  # that pid means nothing on another machine
    put_lease(engine, host="other-host.example", pid=pid, expires_in=timedelta(minutes=5))
    with pytest.raises(LeaseBusy) as busy:
        EntityLease(engine, "main", "company").acquire()
    assert re.fullmatch(
        rf"sync 'main' entity 'company' is being run by other-host\.example pid {pid} since "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d; not starting a second run \(try again later, or pass "
        r"--wait SECONDS\)",
        str(busy.value),
    )
    assert holders(engine) == [("main", "company", f"other-host.example:{pid}:cafebabe", pid)]


def test_wait_succeeds_once_the_holder_releases(engine: Engine) -> None:
    first = EntityLease(engine, "main", "company")
    first.acquire()
    releaser = threading.Timer(0.5, first.release)
    started = time.monotonic()
    releaser.start()
    try:
        with EntityLease(engine, "main", "company", wait=2) as second:
            waited = time.monotonic() - started
            assert holders(engine) == [("main", "company", second.holder, second.pid)]
    finally:
        releaser.join()
    assert 0.45 <= waited < 2


def test_wait_gives_up_after_its_time(engine: Engine) -> None:
    with EntityLease(engine, "main", "company"):
        started = time.monotonic()
        with pytest.raises(LeaseBusy):
            EntityLease(engine, "main", "company", wait=0.6).acquire()
        assert 0.6 <= time.monotonic() - started < 1.6
