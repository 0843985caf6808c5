"""One run under faults, and everything it leaves behind for the verdict.

:func:`run_once` arms the emulator's faults, runs the sync as ``syncbridge run`` does (the
engine's ``run_sync``, then the lines the command prints about failures), and keeps what a
user would see: what was printed, the report's rows, each entity that stopped, a crash with
where it was raised (:func:`condensed`), tracebacks logged or raised in threads
(:class:`Tracebacks`), and the faults the emulator served meanwhile.
:func:`unreadable_reasons` then checks every reason a person would read.
"""

from __future__ import annotations

import io
import logging
import sysconfig
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

from sqlalchemy import func, select

from syncbridge.cli.common import explain
from syncbridge.cli.sync import problems
from syncbridge.config import Side
from syncbridge.connection import Connection
from syncbridge.emulator import Emulator, FaultOptions
from syncbridge.engine.report import RUN_ITEM
from syncbridge.engine.runner import run_sync
from syncbridge.outcomes import FAILURES
from syncbridge.state import StateStore
from syncbridge.state.tables import Run, table
from syncbridge.testing.faultreport import ReportRow, RunOutcome
from syncbridge.testing.faultscenario import SOURCE, SYNC, TARGET, Scenario
from syncbridge.testing.readable import is_traceback, unreadable

__all__ = ["Tracebacks", "condensed", "run_once", "unreadable_reasons"]


class Tracebacks(logging.Handler):
    """Collects tracebacks logged, or raised in threads, while it is installed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.found: list[str] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = ""
        if record.exc_info and record.exc_info[1] is not None:
            text = condensed(record.exc_info[1])
        elif is_traceback(record.getMessage()):
            text = record.getMessage()
        if text:
            with self._lock:
                self.found.append(f"logged by {record.name}:\n{text}")

    def thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            text = condensed(args.exc_value)
        else:
            text = "".join(traceback.format_exception_only(args.exc_type, None))
        name = args.thread.name if args.thread is not None else "a thread"
        with self._lock:
            self.found.append(f"raised in thread {name}:\n{text}")

    @contextmanager
    def installed(self) -> Iterator[None]:
        root = logging.getLogger()
        previous = threading.excepthook
        root.addHandler(self)
        threading.excepthook = self.thread_hook
        try:
            yield
        finally:
            threading.excepthook = previous
            root.removeHandler(self)


_LIBRARIES = tuple(
    {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
)


def condensed(error: BaseException, frames: int = 5) -> str:
    """An exception as the lines that locate it: its type and the first line of its message,
    then the innermost ``frames`` frames of syncbridge's or a connector's code (not the
    standard library's or another library's), innermost first."""
    own = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if "syncbridge" in frame.filename or not frame.filename.startswith(_LIBRARIES)
    ]
    message = "".join(traceback.format_exception_only(error)).strip().splitlines()
    first = message[0] if message else type(error).__name__  # a SQL error's next lines: SQL
    lines = [first if len(first) <= 300 else first[:299] + "…"]
    for frame in reversed(own[-frames:]):
        where = "/".join(Path(frame.filename).parts[-2:])
        lines.append(f"  at {where}:{frame.lineno} in {frame.name}: {(frame.line or '').strip()}")
    return "\n".join(line.rstrip() for line in lines)


def _arm(emulator: Emulator, faults: FaultOptions | None, first: bool) -> None:
    live = emulator.faults
    chosen = faults or FaultOptions()
    for name in FaultOptions.model_fields:
        setattr(live, name, getattr(chosen, name))
    if not first:
        live.burst_429 = 0  # one burst, in the first run


def _latest_run(store: StateStore) -> int | None:
    with store.engine.connect() as db:
        value = db.execute(select(func.max(table(Run).c.id))).scalar()
    return int(value) if value is not None else None


def _report_rows(store: StateStore, run_id: int) -> list[ReportRow]:
    with store.engine.connect() as db:
        rows = db.execute(
            select(RUN_ITEM).where(RUN_ITEM.c.run_id == run_id).order_by(RUN_ITEM.c.id)
        ).all()
    return [
        ReportRow(
            entity=row.entity,
            side=row.side,
            record_id=str(row.record_id),
            target_id=None if row.target_id is None else str(row.target_id),
            outcome=row.action,
            reason=row.reason or "",
        )
        for row in rows
    ]


def run_once(scenario: Scenario, number: int, faults: FaultOptions | None) -> RunOutcome:
    """One run, as ``syncbridge run`` makes it, and everything it left behind."""
    emulator = scenario.emulator
    _arm(emulator, faults, first=number == 1)
    outcome = RunOutcome(number=number)
    faults_before = Counter(emulator.injected.by_kind())
    requests_before = emulator.requests.count()
    collector = Tracebacks()
    printed = io.StringIO()
    config = scenario.config
    started = time.perf_counter()
    with scenario.store() as store:
        previous = _latest_run(store)
        connections: dict[Side, Connection] = {
            "left": scenario.connect(SOURCE, store),
            "right": scenario.connect(TARGET, store),
        }
        try:
            with collector.installed(), redirect_stdout(printed), redirect_stderr(printed):
                try:
                    summary = run_sync(SYNC, config.syncs[SYNC], connections, store)
                except Exception as error:
                    outcome.crash = condensed(error)
                    label, sentence, _code = explain(error, scenario.secrets)
                    print(f"{label}: {sentence}", file=printed)
                else:
                    outcome.run_id = summary.run_id
                    for line in problems(summary):  # what `syncbridge run` says on stderr
                        print(line, file=printed)
                    for result in summary.entities:
                        outcome.counts.update(result.counts)
                        if result.result == "error":
                            outcome.stopped.append(f"{result.entity}: {result.message}")
        finally:
            for connection in connections.values():
                connection.close()
        if outcome.run_id is None:
            latest = _latest_run(store)
            outcome.run_id = latest if latest != previous else None
        if outcome.run_id is not None:
            outcome.rows = _report_rows(store, outcome.run_id)
    outcome.seconds = time.perf_counter() - started
    _arm(emulator, None, first=False)  # no fault between runs (nor for the comparison)
    outcome.output = printed.getvalue()
    outcome.tracebacks = list(collector.found)
    if is_traceback(outcome.output):
        outcome.tracebacks.append(f"printed:\n{outcome.output}")
    outcome.requests = emulator.requests.count() - requests_before
    after = emulator.injected.by_kind()
    outcome.faults = {
        kind: n - faults_before.get(kind, 0)
        for kind, n in after.items()
        if n > faults_before.get(kind, 0)
    }
    return outcome


def unreadable_reasons(secrets: set[str], runs: list[RunOutcome]) -> list[str]:
    found = []
    for run in runs:
        for row in run.rows:
            why = unreadable(row.reason, secrets, empty_ok=row.outcome not in FAILURES)
            if why:
                found.append(f"run {run.number}, {row.entity} {row.side} {row.record_id}: {why}")
        for message in run.stopped:
            why = unreadable(message, secrets)
            if why:
                found.append(f"run {run.number}, stopped {why}")
        if run.crash is None:  # a crash's output is its traceback, reported as one
            for line in run.output.splitlines():
                why = unreadable(line, secrets, empty_ok=True)
                if why:
                    found.append(f"run {run.number}, printed line {why}")
    return found
