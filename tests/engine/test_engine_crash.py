"""Crash safety: SIGKILL a run at random moments; re-runs converge with no duplicates."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.engine.bed import Bed, company

TRIALS = 12
PER_TRIAL = 80


def test_killed_runs_never_duplicate_nor_lose_a_record(tmp_path: Path) -> None:
    bed = Bed(
        tmp_path, {"company": {"direction": "left-to-right"}}, right_settings={"batch_size": 5}
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "syncbridge.cli", "-c", str(bed.config), "run", "-q"]
    # how long a run with one trial's worth of work takes here, so kills land inside runs
    bed.put("left", "company", [company(i) for i in range(PER_TRIAL)])
    started = time.monotonic()
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    duration = time.monotonic() - started

    rng = random.Random(20261123)
    kills = 0
    for trial in range(1, TRIALS + 1):
        # every trial brings twice the baseline's records, so every run has creates to
        # interrupt and lasts longer than the moment it is killed at
        first = PER_TRIAL + (trial - 1) * 2 * PER_TRIAL
        bed.put("left", "company", [company(i) for i in range(first, first + 2 * PER_TRIAL)])
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.15, 0.9) * duration)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills >= TRIALS - 3, f"only {kills} of {TRIALS} runs were interrupted"
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr

    left = bed.by("left", "company", "name")
    right = bed.by("right", "company", "name")  # asserts no duplicate names on the right
    assert len(left) == (2 * TRIALS + 1) * PER_TRIAL
    assert set(right) == set(left)
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    with engine.connect() as db:
        links = db.execute(text("SELECT left_id, right_id FROM link WHERE entity='company'")).all()
        outbox = db.execute(text("SELECT count(*) FROM outbox")).scalar()
    assert outbox == 0
    assert len(links) == len(left)
    left_names = {row["id"]: name for name, row in left.items()}
    right_names = {row["id"]: name for name, row in right.items()}
    assert {left_id for left_id, _r in links} == set(left_names)
    assert {right_id for _l, right_id in links} == set(right_names)
    for left_id, right_id in links:
        assert left_names[left_id] == right_names[right_id]
    assert bed.sync().writes == 0
