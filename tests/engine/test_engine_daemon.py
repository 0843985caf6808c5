"""`syncbridge daemon` runs each entity on its own interval and picks up new records."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.engine.bed import Bed, company


def test_the_daemon_runs_entities_on_their_schedules_and_picks_up_changes(
    tmp_path: Path,
) -> None:
    bed = Bed(
        tmp_path,
        {
            "company": {"direction": "left-to-right", "every": "1s"},
            "product": {"direction": "left-to-right", "every": "manual"},
        },
    )
    bed.put("left", "company", [company(i) for i in range(3)])
    bed.put("left", "product", [{"name": "Left alone", "code": "P1"}])
    daemon = subprocess.Popen(
        [sys.executable, "-m", "syncbridge.cli", "-c", str(bed.config), "daemon", "--for", "6"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    deadline = time.monotonic() + 20
    while len(bed.rows("right", "company")) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    bed.put("left", "company", [company(10)])  # arrives while the daemon runs
    out, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    assert "scheduled main/company every 1 s" in out
    assert "main/product" not in out  # manual entities are left to `syncbridge run`
    assert "main/company: ok" in out and "created 3" in out and "created 1" in out
    assert out.rstrip().endswith("daemon stopped")
    names = sorted(row["name"] for row in bed.rows("right", "company"))
    assert names == ["Company 0000", "Company 0001", "Company 0002", "Company 0010"]
    assert bed.rows("right", "product") == []
