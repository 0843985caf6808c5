"""Progress output: rich bars on a terminal, plain lines otherwise, nothing with --quiet."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from syncbridge.cli.common import console


class ProgressSink(Protocol):
    def __call__(self, entity: str, stage: str, count: int) -> None: ...


@contextmanager
def progress_output(quiet: bool) -> Iterator[ProgressSink]:
    if quiet:
        yield lambda _entity, _stage, _count: None
        return
    if not sys.stdout.isatty():
        totals: dict[tuple[str, str], int] = {}

        def plain(entity: str, stage: str, count: int) -> None:
            totals[(entity, stage)] = totals.get((entity, stage), 0) + count
            console.print(f"{entity}: {stage} {totals[(entity, stage)]}")

        yield plain
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bars:
        tasks: dict[tuple[str, str], TaskID] = {}

        def rich_sink(entity: str, stage: str, count: int) -> None:
            key = (entity, stage)
            if key not in tasks:
                tasks[key] = bars.add_task(f"{entity}: {stage}", total=None)
            bars.advance(tasks[key], count)

        yield rich_sink
