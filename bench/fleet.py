"""The fleet's scaling (``make bench``, section "Fleet"): as tenants grow from 10 to 1,000,

- the scheduling overhead per run: what the fleet adds to each run (dispatching the due row,
  the worker's claim and its finish, all in PostgreSQL), against the run itself;
- runs per minute per worker, against emulators with limits off, each tenant due every
  second (more than the workers can run from 100 tenants on, so they never wait for work
  there), after every tenant's first sync;
- how long the first syncs of all tenants took (creating each tenant's schema included).

Needs the local PostgreSQL and Redis; prints one JSON line per size. ``bench/run.py`` runs it
(``--fleet-only`` alone) and writes its rows as the "Fleet" section of RESULTS.md.

    python bench/fleet.py [--sizes 10 100 1000] [--workers 2] [--steady 30]
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from syncbridge.emulator import EmulatorOptions
from syncbridge.emulator.config import toml_value
from syncbridge.emulator.farm import Farm
from syncbridge.emulator.server import running
from syncbridge.fleet import schedule
from syncbridge.fleet.schedule import Dispatch, Wanted

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"
EVERY = 1


def connection(name: str, connector: str, settings: dict[str, Any]) -> str:
    lines = [f"[connections.{name}]", f"connector = {toml_value(connector)}",
             f"[connections.{name}.settings]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def overhead(n: int) -> dict[str, float]:
    """Milliseconds per run of dispatch, claim and finish with ``n`` rows due at once."""
    name = "b" + uuid.uuid4().hex[:8]
    base, engine = schedule.fleet_engine(POSTGRES, f"{name}_fleet")
    schedule.ensure_tables(engine, f"{name}_fleet")
    wanted = {(f"t{i}", "main", "company"): Wanted(0, 60.0) for i in range(n)}
    schedule.reconcile(engine, wanted, {key[0] for key in wanted})
    sent: list[Dispatch] = []
    try:
        began = time.perf_counter()
        schedule.dispatch(engine, sent.append, requeue_after=300,
                          schema_of=lambda tenant: f"{name}_tenant_{tenant}", limit=n * 2)
        dispatched = time.perf_counter() - began
        began = time.perf_counter()
        for group in sent:
            for entity, token in group.items:
                key = (group.tenant, group.sync, entity)
                schedule.claim(engine, key, token, "bench")
                schedule.finish(engine, key, token, result="ok", run_id=1, error=None)
        bookkeeping = time.perf_counter() - began
    finally:
        with base.begin() as db:
            db.exec_driver_sql(f"DROP SCHEMA {name}_fleet CASCADE")
        base.dispose()
    return {
        "dispatch_ms": dispatched / n * 1000,
        "claim_finish_ms": bookkeeping / n * 1000,
    }


def throughput(n: int, workers: int, steady: float, folder: Path) -> dict[str, Any]:
    """Runs per minute per worker with ``n`` tenants always due."""
    from syncbridge_crmincloud.emulator import create_app as crm_app
    from syncbridge_fattureincloud.emulator import create_app as fic_app

    name = "b" + uuid.uuid4().hex[:8]
    quiet = EmulatorOptions(records=3, rate_limits=False)
    crm_farm, fic_farm = Farm(lambda _t: crm_app(quiet)), Farm(lambda _t: fic_app(quiet))
    (folder / "tenants").mkdir()
    (folder / "fleet.toml").write_text(
        f'name = "{name}"\n[state]\nurl = "{POSTGRES}"\ncredentials = "plain"\n'
        f'[broker]\nurl = "{REDIS}"\n[tenants]\ndir = "tenants"\n'
        "[scheduler]\ntick_seconds = 0.2\n", encoding="utf-8")
    tenants = [f"t{i}" for i in range(n)]
    processes: list[subprocess.Popen[bytes]] = []
    base, engine = schedule.fleet_engine(POSTGRES, f"{name}_fleet")
    try:
        with running(crm_farm) as crm_url, running(fic_farm) as fic_url:
            for tenant in tenants:
                crm = crm_farm.emulator(tenant).settings_for(f"{crm_url}/{tenant}")
                fic = fic_farm.emulator(tenant).settings_for(f"{fic_url}/{tenant}")
                (folder / "tenants" / f"{tenant}.toml").write_text(
                    connection("crm", "crmincloud", crm) + connection("fic", "fattureincloud", fic)
                    + '[syncs.main]\nleft = "crm"\nright = "fic"\n'
                    '[syncs.main.entities.company]\ndirection = "left-to-right"\n'
                    f'every = "{EVERY}s"\n', encoding="utf-8")
            command = [sys.executable, "-m", "syncbridge.cli"]
            fleet = ["--fleet", str(folder / "fleet.toml")]
            log = open(folder / "fleet.log", "ab")  # noqa: SIM115
            started = time.monotonic()
            processes.append(subprocess.Popen([*command, "scheduler", *fleet], stdout=log,
                                              stderr=subprocess.STDOUT, cwd=folder))
            for _ in range(workers):
                processes.append(subprocess.Popen(
                    [*command, "worker", *fleet, "--concurrency", "1", "--loglevel", "ERROR"],
                    stdout=log, stderr=subprocess.STDOUT, cwd=folder))

            def onboarded() -> int:
                with engine.connect() as db:
                    if db.exec_driver_sql(f"SELECT to_regclass('{name}_fleet.turn')").scalar():
                        return int(db.execute(sa.select(sa.func.count(sa.distinct(
                            schedule.TURN.c.tenant))).where(
                            schedule.TURN.c.result == "ok")).scalar_one())
                    return 0

            while onboarded() < n:
                if time.monotonic() - started > 60 + n * 2:
                    raise SystemExit(f"{n} tenants not onboarded: see {folder}/fleet.log")
                time.sleep(1)
            onboarding = time.monotonic() - started
            with engine.connect() as db:
                window_start = schedule.db_now(db)
            time.sleep(steady)
            with engine.connect() as db:
                window_end = schedule.db_now(db)
                turns = db.execute(sa.select(schedule.TURN).where(
                    schedule.TURN.c.started_at >= window_start,
                    schedule.TURN.c.finished_at <= window_end)).all()
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for schema in [f"{name}_tenant_{tenant}" for tenant in tenants] + [f"{name}_fleet"]:
            with base.begin() as db:
                db.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        base.dispose()
    minutes = (window_end - window_start).total_seconds() / 60
    runs = [(t.finished_at - t.started_at).total_seconds() for t in turns]
    waits = [(t.started_at - t.due_at).total_seconds() for t in turns if t.due_at]
    return {
        "runs": len(turns),
        "runs_per_minute_per_worker": len(turns) / minutes / workers,
        "run_seconds": statistics.median(runs) if runs else 0.0,
        "onboarding_seconds": onboarding,
        "onboarding_per_tenant_worker_seconds": onboarding * workers / n,
        "median_start_delay_seconds": statistics.median(waits) if waits else 0.0,
    }


def section(rows: list[dict[str, Any]], measured: str, when: str, workers: int) -> str:
    """The "Fleet" section of RESULTS.md from the rows of :func:`main`."""
    first, last = rows[0], rows[-1]
    lines = [
        "## Fleet: scheduling and throughput as tenants grow",
        "",
        f"`python bench/fleet.py` on {when}, commit {measured}: {workers} workers "
        "(`syncbridge worker --concurrency 1`), the scheduler and two emulator farms (CRM in "
        "Cloud, Fatture in Cloud, limits off) on this machine's 2 cores, PostgreSQL and Redis "
        f"local. Each tenant syncs its companies one way every {EVERY} s; *asked* is what that "
        "asks of each worker (tenants x 60 / every / workers), *done* what each did. The "
        "window measured starts once every tenant has had its first sync.",
        "",
        "| tenants | overhead ms per run (dispatch + claim + finish) | run s (median) | "
        "overhead / run | asked runs/min/worker | done runs/min/worker | first syncs: s per "
        "tenant per worker | median start delay s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        cost = row["dispatch_ms"] + row["claim_finish_ms"]
        asked = row["tenants"] * 60 / EVERY / workers
        lines.append(
            f"| {row['tenants']:,} | {cost:.1f} ({row['dispatch_ms']:.1f} + "
            f"{row['claim_finish_ms']:.1f}) | {row['run_seconds']:.3f} | "
            f"{cost / 1000 / row['run_seconds']:.2f} | {asked:,.0f} | "
            f"{row['runs_per_minute_per_worker']:.0f} | "
            f"{row['onboarding_per_tenant_worker_seconds']:.2f} | "
            f"{row['median_start_delay_seconds']:.1f} |"
        )
    saturated = [row for row in rows if row["tenants"] * 60 / EVERY / workers
                 > row["runs_per_minute_per_worker"] * 1.1]
    if len(saturated) >= 2:
        low, high = saturated[0], saturated[-1]
        ratio = high["runs_per_minute_per_worker"] / low["runs_per_minute_per_worker"]
        lines += [
            "",
            f"With {first['tenants']:,} tenants the schedule, not the workers, sets the pace. "
            f"From {low['tenants']:,} on the workers are the limit: "
            f"{low['runs_per_minute_per_worker']:.0f} runs a minute each at "
            f"{low['tenants']:,} tenants, {high['runs_per_minute_per_worker']:.0f} at "
            f"{high['tenants']:,} (ratio {ratio:.2f}): "
            "throughput holds as tenants grow tenfold, and what the fleet adds to each run "
            "stays a few milliseconds. The start delay is how far behind an overloaded "
            f"schedule falls ({last['tenants']:,} tenants asking a run a second each of two "
            "workers): add workers, or lengthen `every`.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steady", type=float, default=30.0)
    args = parser.parse_args()
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix=f"bench-fleet-{n}-") as folder:
            row: dict[str, Any] = {"tenants": n, **overhead(n)}
            row.update(throughput(n, args.workers, args.steady, Path(folder)))
        print(json.dumps(row), flush=True)
        print(f"  {n} tenants: {row['runs_per_minute_per_worker']:.0f} runs/min/worker, "
              f"run {row['run_seconds']:.3f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
