"""The benchmark harness (``make bench``): runs the scenarios, writes bench/RESULTS.md.

Each case runs in a fresh process (``scenarios.py``) in its own temporary folder, so its
memory figures are its own. Nothing here asserts a timing: scale is judged by ratios of two
cases measured in the same run, against the targets of the engine issue.

    python bench/run.py [--quick] [--only NAME ...] [--output PATH]
    python bench/run.py --requests-only   # requests per record alone (a minute)
    python bench/run.py --fleet-only      # the fleet's scaling alone (PostgreSQL, Redis)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    #: (case, N) run for this scenario, smaller first
    cases: tuple[tuple[str, int], ...]
    #: the figure compared between the last and the first case, and its upper bound
    ratio_of: str | None = None
    target: float | None = None
    #: rounds of its cases, run in turn (small, large, small, large, ...): the ratio reported
    #: is the median of each round's own, so a slow spell of the machine moves one round only
    rounds: int = 1


SCENARIOS = (
    Scenario("initial", "initial one-way sync sql->sql", (("initial", 100_000),)),
    Scenario("incremental", "incremental run, 10 changed records",
             (("incremental", 10_000), ("incremental", 100_000)), "seconds", 1.5),
    Scenario("match", "match cascade [vat_number], [name, city]; N vs N unlinked",
             (("match", 100_000), ("match", 200_000)), "seconds", 2.3, rounds=3),
    Scenario("memory", "peak RSS of an initial one-way sync",
             (("initial", 100_000), ("initial", 200_000)), "peak_rss_mib", 1.3),
)
SYMBOLS = {"seconds": "t", "peak_rss_mib": "RSS"}


def run_case(case: str, n: int) -> dict[str, Any]:
    """One case in a fresh process and folder; its JSON result."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{case}-{n}-") as folder:
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(BENCH / "scenarios.py"), case, str(n), folder],
            capture_output=True, text=True, cwd=folder)
        elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{case} N={n} failed (exit {done.returncode}):\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {case:<12} N={n:<8} run {result['seconds']:8.2f} s, "
          f"peak {result['peak_rss_mib']:7.1f} MiB (process {elapsed:.0f} s)", file=sys.stderr)
    return result


def commit() -> str:
    """The checked-out commit, to tell which code was measured ("?" outside git)."""
    try:
        # "-dirty": the working tree had changes, measured with the commit
        done = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=7"],
                              capture_output=True, text=True, cwd=BENCH, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return done.stdout.strip() or "?"


def size(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def table(
    scenarios: list[Scenario],
    results: dict[tuple[str, int], dict[str, Any]],
    rounds: dict[str, list[float]],
) -> str:
    lines = [
        "| scenario | N | records | wall s | records/s | peak RSS MiB | RSS growth MiB "
        "| mapping worker peak RSS MiB | ratio | target | meets target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for scenario in scenarios:
        for position, (case, n) in enumerate(scenario.cases):
            r = results[(case, n)]
            growth = r["peak_rss_mib"] - r["start_rss_mib"] if r.get("start_rss_mib") else None
            ratio = target = meets = ""
            if scenario.ratio_of and position == len(scenario.cases) - 1:
                (_c0, n0), (_c1, n1) = scenario.cases[0], scenario.cases[-1]
                value = r[scenario.ratio_of] / results[scenario.cases[0]][scenario.ratio_of]
                if scenario.name in rounds:
                    value = statistics.median(rounds[scenario.name])
                symbol = SYMBOLS[scenario.ratio_of]
                ratio = f"{symbol}({size(n1)})/{symbol}({size(n0)}) = {value:.2f}"
                target = f"<= {scenario.target}"
                meets = "yes" if scenario.target is not None and value <= scenario.target else "NO"
            lines.append(
                f"| {scenario.name}: {scenario.title} | {n:,} | {r['records']:,} "
                f"| {r['seconds']:.2f} | {r['records'] / r['seconds']:,.0f} "
                f"| {r['peak_rss_mib']:.0f} | {'' if growth is None else f'{growth:.0f}'} "
                f"| {r.get('worker_rss_mib') or 0:.0f} | {ratio} | {target} | {meets} |")
    return "\n".join(lines)


def notes(results: dict[tuple[str, int], dict[str, Any]], rounds: dict[str, list[float]]) -> str:
    """The untimed warm-up runs of the incremental cases: what reaching steady state cost;
    the ratio of each round of a scenario run in rounds."""
    lines = [
        f"- {name}: the ratio of each round {', '.join(f'{v:.2f}' for v in values)}, "
        "median reported (the table shows the median round's times)"
        for name, values in rounds.items()
    ] + [
        f"- incremental N={n:,}: warm-up initial sync {r['initial_seconds']:.2f} s, then a run "
        f"re-reading the echoes of its own writes {r['echo_seconds']:.2f} s (neither timed); "
        f"timed runs {', '.join(f'{t:.3f}' for t in r['runs_seconds'])} s, median reported"
        for (case, n), r in sorted(results.items()) if case == "incremental"
    ]
    return "\n".join(lines)


#: HTTP benchmarks (bench/http_scenarios.py): name, N, the ratio figures and their targets
#: (case, N, title, fresh processes to run it in, ratios (key, label, target)); the short
#: cases run five times and report the median run's ratios: one run of two seconds on a
#: shared machine moves by a tenth either way
HTTP_CASES = (
    ("fic_read", 20_000, "full read of N Fatture in Cloud clients into the state store", 5,
     (("ratio_bare", "syncbridge / bare httpx loop", 0.5),
      ("ratio_bare_db", "syncbridge / bare loop + SQLite row per record", 0.8))),
    ("fic_write", 2_000, "N creates into Fatture in Cloud (sql -> fic)", 5,
     (("ratio_bare", "syncbridge / bare POST loop, same concurrency", 0.8),)),
    ("b24_import", 2_000, "N customers + 1.5 N invoices into Bitrix24, real leaky bucket on", 1,
     (("ratio_theoretical", "achieved / theoretical max (2 req/s x batch)", 0.9),)),
    ("qbo_write", 2_000, "N customers into QuickBooks, real limits on (batch 30, 40/min)", 1,
     (("ratio_theoretical", "achieved / theoretical max (40 batches a minute)", 0.9),)),
)


def run_http(quick: bool) -> str:
    """The HTTP cases, each run in fresh processes: a markdown table of their ratios."""
    rows = ["| scenario | N | runs | wall s | records/s | ratio | value (median) | all runs "
            "| target | meets target |",
            "|---|---:|---:|---:|---:|---|---:|---|---|---|"]
    for name, n, title, repeats, ratios in HTTP_CASES:
        n = n // 10 if quick else n
        runs = []
        for attempt in range(1, repeats + 1):
            print(f"{name} ({attempt}/{repeats}):", file=sys.stderr)
            done = subprocess.run(
                [sys.executable, str(BENCH / "http_scenarios.py"), name, str(n)],
                capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"{name} failed:\n{done.stderr}")
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        # wall time and rate of the median run by the first ratio; each ratio its own median
        runs.sort(key=lambda run: run[ratios[0][0]])
        result = runs[len(runs) // 2]
        rate = result["n"] / result["seconds"]
        for key, label, target in ratios:
            value = statistics.median(run[key] for run in runs)
            every = ", ".join(f"{run[key]:.2f}" for run in sorted(runs, key=lambda r: r[key]))
            rows.append(f"| {title} | {result['n']:,} | {repeats} | {result['seconds']:.2f} "
                        f"| {rate:,.0f} | {label} | {value:.2f} | {every} | >= {target} | "
                        f"{'yes' if value >= target else 'NO'} |")
    return "\n".join(rows)


REQUESTS_HEADING = "## Requests per record"


def run_requests() -> str:
    """The requests-per-record section (bench/requests_per_record.py, in a fresh process)."""
    done = subprocess.run([sys.executable, str(BENCH / "requests_per_record.py")],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"requests per record failed:\n{done.stderr}")
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    from requests_per_record import section  # type: ignore[import-not-found]

    return str(section(rows, commit(), f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"))


FLEET_HEADING = "## Fleet"
FLEET_WORKERS = 2


def run_fleet() -> str:
    """The fleet section (bench/fleet.py, in a fresh process): empty without PostgreSQL and
    Redis on this machine."""
    import socket

    for port in (5432, 6379):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            print(f"fleet: nothing listens on 127.0.0.1:{port}; skipped", file=sys.stderr)
            return ""
    done = subprocess.run(
        [sys.executable, str(BENCH / "fleet.py"), "--workers", str(FLEET_WORKERS)],
        stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit("the fleet benchmark failed")
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    from fleet import section  # type: ignore[import-not-found]

    return str(section(rows, commit(), f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                       FLEET_WORKERS))


def with_section(text: str, heading: str, body: str) -> str:
    """``text`` with the section under ``heading`` replaced by ``body`` (or added at the end)."""
    start = text.find(heading)
    if start < 0:
        return text.rstrip("\n") + "\n\n" + body
    end = text.find("\n## ", start + len(heading))
    return text[:start] + body + ("" if end < 0 else "\n" + text[end + 1 :])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes divided by 10 (smoke run)")
    parser.add_argument("--only", action="append", choices=[s.name for s in SCENARIOS],
                        metavar="NAME", help="run only this scenario (repeatable)")
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP connector cases")
    parser.add_argument("--http-only", action="store_true",
                        help="only the HTTP connector cases (printed, RESULTS.md untouched)")
    parser.add_argument("--requests-only", action="store_true",
                        help="only the requests per record: its section of RESULTS.md rewritten")
    parser.add_argument("--fleet-only", action="store_true",
                        help="only the fleet's scaling: its section of RESULTS.md rewritten")
    args = parser.parse_args()
    # the scenarios store OAuth tokens (QuickBooks) in throwaway state stores: encrypted, as
    # a deployment's are, with a key made for this run unless one is set
    if not os.environ.get("SYNCBRIDGE_CREDENTIALS_KEY"):
        from cryptography.fernet import Fernet

        os.environ["SYNCBRIDGE_CREDENTIALS_KEY"] = Fernet.generate_key().decode("ascii")
    if args.http_only:
        print(run_http(args.quick))
        return
    for only, heading, run in ((args.fleet_only, FLEET_HEADING, run_fleet),
                               (args.requests_only, REQUESTS_HEADING, run_requests)):
        if only:  # one section of RESULTS.md measured again, the rest kept
            body = run()
            old = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
            args.output.write_text(with_section(old, heading, body), encoding="utf-8")
            print(body)
            return
    divisor = 10 if args.quick else 1
    scenarios = [
        replace(s, cases=tuple((c, n // divisor) for c, n in s.cases))
        for s in SCENARIOS if not args.only or s.name in args.only
    ]
    load, measured = os.getloadavg()[0], commit()  # other work on the machine skews timings
    results: dict[tuple[str, int], dict[str, Any]] = {}
    rounds: dict[str, list[float]] = {}
    for scenario in scenarios:
        print(f"{scenario.name}:", file=sys.stderr)
        if scenario.rounds > 1 and scenario.ratio_of:
            runs = [[run_case(*case) for case in scenario.cases] for _ in range(scenario.rounds)]
            key = scenario.ratio_of
            rounds[scenario.name] = [run[-1][key] / run[0][key] for run in runs]
            middle = sorted(runs, key=lambda run: run[-1][key] / run[0][key])[len(runs) // 2]
            results.update(zip(scenario.cases, middle, strict=True))
            continue
        for case in scenario.cases:
            if case not in results:  # memory reuses the initial sync's 100k run
                results[case] = run_case(*case)
    text = table(scenarios, results, rounds)
    header = (
        "# syncbridge benchmarks\n\n"
        f"`python bench/run.py{' --quick' if args.quick else ''}` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, commit {measured}, "
        f"load average {load:.1f} at the start and {os.getloadavg()[0]:.1f} at the end; SQLite "
        "files on both sides and for the state store.\n\n"
        "Only `run_sync` is timed (seeding and warm-up runs are not). Each case runs in a fresh "
        "process: peak RSS is that process's high-water mark during the timed run, RSS growth "
        "is that peak minus the RSS just before the run. *records* is what the run had to do: "
        "records created, changed or linked. Ratios compare two cases of the same run; the "
        "targets are those of the engine issue. Absolute figures depend on the machine. "
        "Long reads map in a forked worker process (Linux, two cores or more, thousands of "
        "records to come): its high-water mark is a column of its own.\n\n"
    )
    extra = notes(results, rounds)
    if not args.no_http and not args.only:
        http = run_http(args.quick)
        text += ("\n\n## HTTP connectors, against their emulators in another process\n\n"
                 "Ratios of throughput measured in the same run (targets from the connector "
                 "issues).\n\n" + http)
    requests = "" if args.only else "\n" + run_requests()
    fleet = "" if args.only else run_fleet()
    args.output.write_text(header + text + "\n" + (f"\n{extra}\n" if extra else "") + requests
                           + (f"\n{fleet}" if fleet else ""), encoding="utf-8")
    print(text + (f"\n\n{extra}" if extra else ""))


if __name__ == "__main__":
    main()
