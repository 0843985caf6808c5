"""``syncbridge demo``: a real sync between generated databases, narrated."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from syncbridge.cli.common import console


@click.command()
@click.option("--records", default=60, show_default=True, help="Companies in the ERP.")
@click.option("--keep", is_flag=True, help="Keep the demo folder (its path is printed).")
@click.pass_context
def demo(ctx: click.Context, records: int, keep: bool) -> None:
    """Run a two-way sync between two generated SQLite databases and show every step."""
    from syncbridge.cli import main
    from syncbridge.demo import run_demo

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
