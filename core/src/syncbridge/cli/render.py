"""Rendering run summaries, report rows and other tables for people.

Tables must fit the terminal, 80 columns included, without cutting a value: every column
folds (wraps, mid-word if it must) instead of ending in "…", so a time, an id or a conflict's
two values are always there in full. :func:`new_table` makes such tables.
"""

from __future__ import annotations

from datetime import datetime

from rich.table import Table

from syncbridge.cli.common import console
from syncbridge.engine.runner import RunSummary
from syncbridge.outcomes import OUTCOMES, Outcome

_PLAN_WORDS = {
    Outcome.DERIVED: "derive",
    Outcome.CREATED: "create",
    Outcome.UPDATED: "update",
    Outcome.LINKED: "link",
    Outcome.DELETED: "delete",
}


def new_table(title: str | None, *columns: str, right: tuple[str, ...] = ()) -> Table:
    """A table whose columns fold long values rather than cut them (``right``: the columns
    aligned right, such as counts)."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold", justify="right" if column in right else "left")
    return table


def when(moment: datetime | str | None) -> str:
    """A time as tables show it: ``2026-12-07 02:05:40``, with a space where a narrow
    column may wrap it (the column header says UTC)."""
    if moment is None:
        return "-"
    text = moment if isinstance(moment, str) else moment.isoformat(timespec="seconds")
    return text.replace("T", " ").removesuffix("+00:00").removesuffix("Z")


def summary_table(summary: RunSummary) -> None:
    plan = summary.mode == "plan"
    title = f"{'Plan' if plan else 'Run'} #{summary.run_id} of sync {summary.sync}"
    shown = [o for o in OUTCOMES if any(r.counts[o] for r in summary.entities)]
    words = [_PLAN_WORDS.get(outcome, str(outcome)) if plan else str(outcome) for outcome in shown]
    table = new_table(title, "entity", *words, "result", right=tuple(words))
    for result in summary.entities:
        colour = {"ok": "green", "failed": "red", "error": "red"}.get(result.result, "yellow")
        status = f"[{colour}]{result.result}[/{colour}]"
        if result.message:
            status += f" {result.message}"
        table.add_row(result.entity, *(str(result.counts[o]) for o in shown), status)
    console.print(table)
