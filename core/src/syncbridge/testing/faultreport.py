"""What a sync under faults did, and the verdict on it (see :mod:`syncbridge.testing.faultsync`).

:class:`RunOutcome` is one run, :class:`TargetState` the target compared with the source
afterwards, :class:`FaultSyncReport` all of it: :meth:`~FaultSyncReport.problems` lists each way
the sync fell short, :meth:`~FaultSyncReport.assert_clean` fails with them, and
:meth:`~FaultSyncReport.summary` is the measurement a person reads.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from syncbridge.emulator import FaultOptions
from syncbridge.outcomes import FAILURES

__all__ = ["FaultSyncReport", "ReportRow", "RunOutcome", "TargetState", "describe_faults"]

#: how many offending records and reasons an assertion message lists
SHOWN = 5


def _shown(values: list[str], limit: int = SHOWN) -> str:
    more = f" (+{len(values) - limit} more)" if len(values) > limit else ""
    return ", ".join(values[:limit]) + more


def _tail(text: str, lines: int = 12) -> str:
    rows = text.strip().splitlines()
    return "\n".join("    " + row for row in rows[-lines:])


def describe_faults(faults: FaultOptions) -> str:
    """``5% answered 500, 5% dropped after handling, ...`` for a message."""
    parts = [
        f"{faults.error_rate:.0%} answered 500" if faults.error_rate else "",
        f"{faults.drop_rate:.0%} dropped {faults.drop_mode} handling" if faults.drop_rate else "",
        f"{faults.corrupt_rate:.0%} corrupted ({', '.join(faults.corrupt_kinds)})"
        if faults.corrupt_rate
        else "",
        f"a first-run burst of {faults.burst_429} 429s (Retry-After: {faults.retry_after:g})"
        if faults.burst_429
        else "",
    ]
    return ", ".join(part for part in parts if part) or "no faults"


@dataclass(frozen=True)
class ReportRow:
    """One row of a run's report (what ``syncbridge report --json`` shows)."""

    entity: str
    side: str
    record_id: str
    target_id: str | None
    outcome: str
    reason: str

    def __str__(self) -> str:
        target = f" -> {self.target_id}" if self.target_id else ""
        return f"{self.entity} {self.side} {self.record_id}{target}: {self.outcome} — {self.reason}"


@dataclass
class RunOutcome:
    """What one run did: its summary, its report, and what it met."""

    number: int
    run_id: int | None = None
    #: what the run printed, and the lines ``syncbridge run`` says about it on stderr
    output: str = ""
    #: an exception that escaped the run: its type, message and where it was raised (None:
    #: the run finished)
    crash: str | None = None
    #: tracebacks printed, logged or raised in a thread during the run
    tracebacks: list[str] = field(default_factory=list)
    #: ``entity: message`` of each entity that stopped (a connector-wide error)
    stopped: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    rows: list[ReportRow] = field(default_factory=list)
    #: the faults the emulator served during the run, by kind
    faults: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0

    @property
    def failures(self) -> list[ReportRow]:
        return [row for row in self.rows if row.outcome in FAILURES]

    @property
    def clean(self) -> bool:
        """Finished, no entity stopped, no record failed or held as unknown."""
        return (
            self.crash is None
            and not self.stopped
            and not self.failures
            and not any(self.counts[outcome] for outcome in FAILURES)
        )

    def summary(self) -> str:
        """``run 2 (#5): 3 failed (40 created, ...); 62 requests, faults met: ...; 0.4 s``."""
        head = f"run {self.number}" + (f" (#{self.run_id})" if self.run_id else "")
        what = []
        if self.crash is not None:
            what.append("crashed: " + self.crash.strip().splitlines()[0])
        what += [f"stopped {message}" for message in self.stopped]
        what += [f"{self.counts[o]} {o}" for o in sorted(FAILURES) if self.counts[o]]
        if not what:
            what.append("clean")
        done = ", ".join(
            f"{n} {o}" for o, n in sorted(self.counts.items()) if n and o not in FAILURES
        )
        met = ", ".join(f"{n} x {kind}" for kind, n in sorted(self.faults.items())) or "none"
        return (
            f"{head}: {'; '.join(what)}"
            + (f" ({done})" if done else "")
            + f"; {self.requests} requests, faults met: {met}; {self.seconds:.1f} s"
        )


@dataclass
class TargetState:
    """The target after the runs, compared with the source."""

    expected: int
    #: records on the target that were not there before the first run
    new: int = 0
    #: source id -> the target ids holding it, where more than one does
    duplicated: dict[str, list[str]] = field(default_factory=dict)
    #: source ids with no record on the target
    missing: list[str] = field(default_factory=list)
    #: new target records that are no source record's
    strangers: list[str] = field(default_factory=list)
    #: ``source id -> target id: field: expected X, got Y`` per record whose values differ
    differing: list[str] = field(default_factory=list)
    #: target records that do not map in (``id: error``)
    unmappable: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not (
            self.duplicated or self.missing or self.strangers or self.differing or self.unmappable
        )

    def problems(self) -> list[str]:
        found = []
        if self.duplicated:
            copies = [
                f"source {source} x{len(held)} (target {', '.join(held)})"
                for source, held in self.duplicated.items()
            ]
            found.append(
                f"{len(self.duplicated)} source record(s) duplicated on the target: "
                + _shown(copies)
            )
        if self.missing:
            found.append(
                f"{len(self.missing)} source record(s) missing on the target: "
                + _shown(self.missing)
            )
        if self.strangers:
            found.append(
                f"{len(self.strangers)} new target record(s) that are no source record: "
                + _shown(self.strangers)
            )
        if self.unmappable:
            found.append(
                f"{len(self.unmappable)} target record(s) that do not map in: "
                + _shown(self.unmappable, 3)
            )
        if self.differing:
            found.append(
                f"{len(self.differing)} record(s) whose values differ from the source: "
                + _shown(self.differing, 3)
            )
        return found


@dataclass
class FaultSyncReport:
    """What a sync under faults did; :meth:`assert_clean` turns it into a verdict."""

    connector: str
    entity: str
    records: int
    faults: FaultOptions
    #: the sync must be clean within this many runs
    within: int
    runs: list[RunOutcome]
    target: TargetState
    #: ``where: why`` of every reason that is not one readable line
    unreadable: list[str] = field(default_factory=list)

    @property
    def converged_after(self) -> int | None:
        """The number of the first clean run, or None."""
        return next((run.number for run in self.runs if run.clean), None)

    @property
    def tracebacks(self) -> list[str]:
        """Every traceback of every run, headed by where it came from."""
        found = []
        for run in self.runs:
            if run.crash is not None:
                found.append(f"run {run.number} crashed: {run.crash}")
            found += [f"run {run.number}, traceback {_tail(text)}" for text in run.tracebacks]
        return found

    def problems(self) -> list[str]:
        """Each way the sync fell short, a paragraph each (empty: it passed)."""
        found = []
        converged = self.converged_after
        if converged is None or converged > self.within:
            considered = self.runs[: self.within]
            found.append(
                f"no run was clean within {self.within} run(s):\n  "
                + "\n  ".join(run.summary() for run in considered)
            )
            last = considered[-1] if considered else None
            if last is not None and last.failures:
                found.append(
                    f"first failing reasons of run {last.number}:\n  "
                    + "\n  ".join(str(row) for row in last.failures[:SHOWN])
                )
            if last is not None and last.stopped:
                found.append(f"run {last.number} stopped: " + "; ".join(last.stopped))
        found += self.target.problems()
        found += self.tracebacks
        if self.unreadable:
            found.append(
                f"{len(self.unreadable)} reason(s) are not one readable line:\n  "
                + "\n  ".join(self.unreadable[:SHOWN])
            )
        return found

    def assert_clean(self) -> None:
        """Fail (AssertionError) saying exactly what went wrong, unless everything held."""
        found = self.problems()
        if found:
            raise AssertionError(
                f"{self.connector}/{self.entity}: {self.records} records synced one way from "
                f"sql under faults ({describe_faults(self.faults)}):\n- " + "\n- ".join(found)
            )

    def summary(self) -> str:
        """Every run and the target's state: the measurement, for a person or a script."""
        converged = self.converged_after
        verdict = (
            f"clean after {converged} run(s)"
            if converged
            else f"not clean in {len(self.runs)} run(s)"
        )
        target = self.target
        return "\n".join(
            [
                f"{self.connector}/{self.entity}: {self.records} records under "
                f"{describe_faults(self.faults)}; {verdict}",
                *(f"  {run.summary()}" for run in self.runs),
                f"  target: {target.new} new record(s) for {target.expected}; "
                f"{len(target.duplicated)} duplicated, {len(target.missing)} missing, "
                f"{len(target.strangers)} unexpected, {len(target.differing)} differing, "
                f"{len(target.unmappable)} unmappable",
                f"  tracebacks: {len(self.tracebacks)}; unreadable reasons: {len(self.unreadable)}",
            ]
        )
