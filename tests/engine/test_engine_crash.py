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


def test_killed_runs_never_duplicate_nor_lose_a_record(tmp_path: Path) -> None:
    bed = Bed(
        tmp_path, {"company": {"direction": "left-to-right"}}, right_settings={"batch_size": 7}
    )
    bed.put("left", "company", [company(i) for i in range(400)])
    rng = random.Random(20261123)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "syncbridge.cli", "-c", str(bed.config), "run", "-q"]
    kills = 0
    for trial in range(TRIALS):
        if trial == TRIALS // 2:  # new records half-way, so later kills land in creates too
            bed.put("left", "company", [company(i) for i in range(400, 700)])
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.3, 2.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills >= TRIALS // 2, "the runs finished too fast to be interrupted"
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr

    left = bed.by("left", "company", "name")
    right = bed.by("right", "company", "name")  # asserts no duplicate names on the right
    assert set(right) == set(left)
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    with engine.connect() as db:
        links = db.execute(text("SELECT left_id, right_id FROM link WHERE entity='company'")).all()
        outbox = db.execute(text("SELECT count(*) FROM outbox")).scalar()
    assert outbox == 0
    assert len(links) == len(left)
    assert {left_id for left_id, _r in links} == {row["id"] for row in left.values()}
    assert {r for _l, r in links} == {row["id"] for row in right.values()}
    for left_id, right_id in links:
        left_row = next(row for row in left.values() if row["id"] == left_id)
        right_row = next(row for row in right.values() if row["id"] == right_id)
        assert left_row["name"] == right_row["name"]
    assert bed.sync().writes == 0
