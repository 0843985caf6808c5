"""Progress output, on stderr: a live line per stage on a terminal, plain lines otherwise.

Progress is for the person watching, so it never mixes with the results on stdout (a
summary table, or ``--json``) and ``--quiet`` silences it. The engine reports stages as
``read left`` or ``sync right`` with a count per page or chunk; this turns them into
sentences that say what is counted and where (``company: 200 records read from the left
(crm)``), and, without a terminal, prints at most one line a second per stage plus the
stage's final count, instead of a line per page.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol

from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from syncbridge.cli.common import errors

#: seconds between two plain lines of the same stage
PLAIN_EVERY = 1.0


class ProgressSink(Protocol):
    def __call__(self, entity: str, stage: str, count: int) -> None: ...


def describe(
    entity: str, stage: str, total: int, sides: Mapping[str, str], dry_run: bool = False
) -> str:
    """One stage's progress as a sentence: ``company: 200 records read from the left (crm)``."""
    verb, _, side = stage.partition(" ")
    where = f"the {side}" + (f" ({sides[side]})" if side in sides else "") if side else ""
    records = f"{total} record" + ("" if total == 1 else "s")
    if verb == "read":
        return f"{entity}: {records} read from {where}"
    if verb == "sync":
        done = "planned" if dry_run else "reconciled"
        return f"{entity}: {records} from {where} {done}"
    return f"{entity}: {stage} {total}"


@contextmanager
def progress_output(
    quiet: bool, *, sides: Mapping[str, str] | None = None, dry_run: bool = False
) -> Iterator[ProgressSink]:
    """A progress sink for the engine; ``sides`` names the connection of each side."""
    named = dict(sides or {})
    if quiet:
        yield lambda _entity, _stage, _count: None
        return
    if not errors.is_terminal:
        with _plain_lines(named, dry_run) as sink:
            yield sink
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=errors,
        transient=False,
    ) as bars:
        tasks: dict[tuple[str, str], TaskID] = {}
        totals: dict[tuple[str, str], int] = {}

        def rich_sink(entity: str, stage: str, count: int) -> None:
            key = (entity, stage)
            totals[key] = totals.get(key, 0) + count
            text = describe(entity, stage, totals[key], named, dry_run)
            if key not in tasks:
                tasks[key] = bars.add_task(text, total=None)
            bars.update(tasks[key], description=text)

        yield rich_sink
        for task in tasks.values():
            bars.update(task, total=1, completed=1)  # stops the spinner


@contextmanager
def _plain_lines(sides: Mapping[str, str], dry_run: bool) -> Iterator[ProgressSink]:
    totals: dict[tuple[str, str], int] = {}
    shown: dict[tuple[str, str], int] = {}
    last: dict[tuple[str, str], float] = {}

    def show(key: tuple[str, str]) -> None:
        errors.print(describe(*key, totals[key], sides, dry_run), markup=False)
        shown[key] = totals[key]
        last[key] = time.monotonic()

    def settle(keep: tuple[str, str] | None = None) -> None:
        """Print the final count of every stage whose last count was not shown yet."""
        for key in totals:
            if key != keep and shown.get(key) != totals[key]:
                show(key)

    def plain(entity: str, stage: str, count: int) -> None:
        key = (entity, stage)
        if key not in totals:
            settle()  # a new stage: the ones before it are done
        totals[key] = totals.get(key, 0) + count
        if time.monotonic() - last.get(key, float("-inf")) >= PLAIN_EVERY:
            show(key)

    yield plain
    settle()
