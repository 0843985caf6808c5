"""``syncbridge demo``: a real sync between generated databases, narrated."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from syncbridge.cli.common import console


@click.command()
@click.option("--records", default=12, show_default=True,
              help="Records per entity in each system.")
@click.option("--sql", "use_sql", is_flag=True,
              help="The SQLite-only demo (also the fallback without the HTTP plugins).")
@click.option("--keep", is_flag=True, help="Keep the demo folder (its path is printed).")
@click.pass_context
def demo(ctx: click.Context, records: int, use_sql: bool, keep: bool) -> None:
    """Run a real two-way sync and show every step: plan, run, edits, run again, report.

    By default between the CRM in Cloud and Fatture in Cloud emulators over HTTP (seed 000);
    with --sql, or without those plugins, between two generated SQLite databases.
    """
    from syncbridge.cli import main
    from syncbridge.demo import crm_fic, sql

    run_demo = sql.run_demo if use_sql or not crm_fic.available() else crm_fic.run_demo

    folder = Path(tempfile.mkdtemp(prefix="syncbridge-demo-"))

    def invoke(args: list[str]) -> int:
        shown = args[2:] if args[:1] == ["-c"] else args
        console.rule(f"$ syncbridge {' '.join(shown)}")
        try:
            result = main.main(args=args, standalone_mode=False)
        except SystemExit as done:
            return int(done.code or 0)
        return result if isinstance(result, int) else 0

    try:
        code = run_demo(folder, records, lambda text: console.print(text), invoke)
    finally:
        if keep:
            console.print(f"demo files kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    ctx.exit(code)
