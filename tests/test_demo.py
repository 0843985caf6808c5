"""`make demo` runs `syncbridge demo`: it must finish, sync, and show the conflict."""

from __future__ import annotations

import os
import subprocess
import sys


def test_demo_runs_a_two_way_sync_and_shows_the_conflict_resolved_by_priority() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "syncbridge.cli", "demo", "--records", "24"],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "conflict — changed on both sides; left wins by priority" in out
    assert "city: left 'Bergamo' / right 'Brescia'" in out
    assert "updated — changed on the right" in out
