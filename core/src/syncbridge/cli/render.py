"""Rendering run summaries and report rows for people."""

from __future__ import annotations

from rich.table import Table

from syncbridge.cli.common import console
from syncbridge.engine.report import OUTCOMES
from syncbridge.engine.runner import RunSummary

_PLAN_WORDS = {
    "derived": "derive",
    "created": "create",
    "updated": "update",
    "linked": "link",
    "deleted": "delete",
}


def summary_table(summary: RunSummary) -> None:
    plan = summary.mode == "plan"
    title = f"{'Plan' if plan else 'Run'} #{summary.run_id} of sync {summary.sync}"
    table = Table(title=title)
    table.add_column("entity")
    shown = [o for o in OUTCOMES if any(r.counts[o] for r in summary.entities)]
    for outcome in shown:
        table.add_column(_PLAN_WORDS.get(outcome, outcome) if plan else outcome, justify="right")
    table.add_column("result")
    for result in summary.entities:
        colour = {"ok": "green", "failed": "red", "error": "red"}.get(result.result, "yellow")
        status = f"[{colour}]{result.result}[/{colour}]"
        if result.message:
            status += f" {result.message}"
        table.add_row(result.entity, *(str(result.counts[o]) for o in shown), status)
    console.print(table)
