"""Benchmark cases: each runs in its own process and folder and prints one JSON line.

Usage (what ``run.py`` does for every case): ``python bench/scenarios.py CASE N FOLDER``.
Only ``run_sync`` is timed; seeding and warm-up runs are not. Peak RSS is the process's
high-water mark during the timed run: it is reset just before it where Linux allows
(``/proc/self/clear_refs``), else it is the whole process's ``ru_maxrss``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seed import companies, edit, ids, seed

from syncbridge.engine.runner import RunSummary, run_sync
from syncbridge.workspace import Workspace

CHANGED = 10
REPEATS = 5
CASCADE = [["vat_number"], ["name", "city"]]


# -- memory -----------------------------------------------------------------------------------
def _status_mib(field: str) -> float | None:
    with contextlib.suppress(OSError):  # no /proc: the caller falls back to ru_maxrss
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # kB
    return None


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; False if unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_mib(reset: bool) -> float:
    hwm = _status_mib("VmHWM") if reset else None
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


# -- a sync between two SQLite files ----------------------------------------------------------
class Bench:
    """Left and right SQLite databases and a state store in ``folder``, one entity rule."""

    def __init__(self, folder: Path, rule: dict[str, Any]) -> None:
        self.folder = folder
        self.left = f"sqlite:///{folder / 'left.db'}"
        self.right = f"sqlite:///{folder / 'right.db'}"
        lines = ['[state]\nurl = "sqlite:///state.db"\n']
        for side, url in (("left", self.left), ("right", self.right)):
            lines.append(f'[connections.{side}]\nconnector = "sql"\n'
                         f"[connections.{side}.settings]\nurl = {json.dumps(url)}\n")
        lines.append('[syncs.main]\nleft = "left"\nright = "right"\n')
        lines.append("[syncs.main.entities.company]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in rule.items()]
        self.config = folder / "syncbridge.toml"
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def sync(self) -> RunSummary:
        with Workspace.load(self.config) as workspace:
            return self._run(workspace)

    def timed(self) -> dict[str, Any]:
        """One run, timed, with its peak RSS; the workspace is opened outside the timing."""
        with Workspace.load(self.config) as workspace:
            gc.collect()
            start_mib = _status_mib("VmRSS")
            reset = reset_peak()
            began = time.perf_counter()
            summary = self._run(workspace)
            seconds = time.perf_counter() - began
            peak = peak_mib(reset)
        [result] = summary.entities
        if summary.failed:
            raise RuntimeError(f"the run failed: {result.message or dict(result.counts)}")
        # reads map in a forked worker: the largest child's high-water mark, reported beside
        # (an upper bound: warm-up runs' workers count too)
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        return {"seconds": seconds, "peak_rss_mib": peak, "start_rss_mib": start_mib,
                "peak_is_run_only": reset, "worker_rss_mib": workers,
                "counts": dict(result.counts)}

    @staticmethod
    def _run(workspace: Workspace) -> RunSummary:
        return run_sync("main", workspace.config.syncs["main"],
                        workspace.sync_connections("main"),
                        workspace.store)


def _expect(result: dict[str, Any], outcome: str, count: int) -> None:
    if result["counts"].get(outcome, 0) != count:
        raise RuntimeError(f"expected {count} {outcome}, got {result['counts']}")


# -- the cases -----------------------------------------------------------------------------------
def initial(n: int, folder: Path) -> dict[str, Any]:
    """First one-way sync of ``n`` companies into an empty right side."""
    bench = Bench(folder, {"direction": "left-to-right"})
    seed(bench.left, "company", companies(range(n)))
    result = bench.timed()
    _expect(result, "created", n)
    return {**result, "records": n}


def incremental(n: int, folder: Path) -> dict[str, Any]:
    """A run with ``CHANGED`` edited records after ``n`` linked ones (median of ``REPEATS``).

    Warm-up: the initial sync, then one run that reads back the echoes of its own writes on
    the right (their cursor starts after that run), so the timed run is the steady state.
    """
    bench = Bench(folder, {"direction": "left-to-right"})
    seed(bench.left, "company", companies(range(n)))
    began = time.perf_counter()
    bench.sync()
    setup = time.perf_counter() - began
    began = time.perf_counter()
    bench.sync()
    echo = time.perf_counter() - began
    every = ids(bench.left, "company", n)
    runs = []
    for repeat in range(REPEATS):  # runs of a fraction of a second: the median of a few
        chosen = every[repeat :: max(1, n // CHANGED)][:CHANGED]
        edit(bench.left, "company", chosen, phone=f"+39 02 {repeat:04d}")
        run = bench.timed()
        _expect(run, "updated", CHANGED)
        runs.append(run)
    result = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
    return {**result, "records": CHANGED, "runs_seconds": [r["seconds"] for r in runs],
            "initial_seconds": setup, "echo_seconds": echo}


def match(n: int, folder: Path) -> dict[str, Any]:
    """``n`` unlinked companies on each side (other ids), all linked by the cascade."""
    bench = Bench(folder, {"direction": "left-to-right", "match": CASCADE})
    seed(bench.left, "company", companies(range(n)))
    seed(bench.right, "company", companies(reversed(range(n))))
    result = bench.timed()
    _expect(result, "linked", n)
    return {**result, "records": n}


CASES: dict[str, Callable[[int, Path], dict[str, Any]]] = {
    "initial": initial, "incremental": incremental, "match": match,
}


def main(argv: list[str]) -> None:
    case, n, folder = argv
    began = time.perf_counter()
    result = CASES[case](int(n), Path(folder))
    result["process_seconds"] = time.perf_counter() - began
    result["process_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
