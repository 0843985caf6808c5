"""The fault check, measured: how each installed HTTP connector copes with a faulty network.

For each connector named (default: every installed one with an emulator and the entity), runs
:func:`syncbridge.testing.sync_under_faults` (N records from SQLite to its emulator under 5%
500s, 5% connections dropped after handling, 5% corrupted answers and a first-run burst of ten
429s) for up to ``--runs`` runs, and prints how many runs it took to be clean, the target's
duplicates and losses, tracebacks, and the first failing reasons of the first runs: what a
plugin's owner needs to see what to fix. Nothing is asserted; the verdict the tests apply
(clean within 3 runs) is printed beside each.

    python bench/faults.py [CONNECTOR ...] [--records 1000] [--runs 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from syncbridge.plugins import describe_plugin, load_connector, load_emulators
from syncbridge.testing import FaultSyncReport, sync_under_faults


def _installed(entity: str) -> list[str]:
    factories, _failures = load_emulators()
    names = []
    for name in sorted(factories):
        try:
            info = describe_plugin(load_connector(name))
        except Exception:  # a connector that does not load is not measured
            continue
        if info.uses_http and entity in info.entities:
            names.append(name)
    return names


def _report(report: FaultSyncReport, seconds: float) -> str:
    lines = [report.summary(), f"  wall time {seconds:.1f} s"]
    for run in report.runs[: report.within]:
        if run.failures:
            kinds = Counter(row.reason.split(" (", 1)[0][:70] for row in run.failures)
            lines.append(f"  run {run.number}, first failing reasons:")
            lines += [f"    {row}"[:300] for row in run.failures[:3]]
            lines.append(
                "    by kind: " + "; ".join(f"{n} x {kind}" for kind, n in kinds.most_common(4))
            )
    problems = report.problems()
    verdict = "passes" if not problems else "fails"
    lines.append(f"  the fault check (clean within {report.within} runs) {verdict}")
    shown = [problem for problem in problems if not problem.startswith("no run was clean")]
    lines += [f"  - {problem}"[:1500] for problem in shown]  # the runs are listed above
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("connectors", nargs="*", help="installed connector names (default: all)")
    parser.add_argument("--entity", default="company")
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20, help="runs at most (the check allows 3)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    for name in args.connectors or _installed(args.entity):
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            report = sync_under_faults(
                name,
                name,
                Path(folder),
                entity=args.entity,
                records=args.records,
                runs=args.runs,
                seed=args.seed,
            )
        print(_report(report, time.perf_counter() - started), flush=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
