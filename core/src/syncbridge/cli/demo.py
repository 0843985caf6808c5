"""``syncbridge demo``: a real sync between generated databases, narrated."""

from __future__ import annotations

import shutil
import tempfile
from importlib import import_module
from pathlib import Path

import click

from syncbridge.cli.common import console
from syncbridge.errors import ConfigError

#: ``--seed`` -> the demo module (syncbridge.demo.<module>) reproducing that integration
SEEDS = {
    "000": "crm_fic",
    "001": "minicrm_szamlazz",
    "002": "simplycrm_dinero",
    "003": "ofiviaje_oficrm",
}


@click.command()
@click.option("--records", default=12, show_default=True,
              help="Records per entity in each system.")
@click.option("--seed", type=click.Choice(sorted(SEEDS)), default=None,
              help="The integration to show: 000 CRM in Cloud <-> Fatture in Cloud (the "
              "default), 001 Számlázz.könnyen <-> MiniCRM, 002 Simply CRM <-> Dinero, 003 a "
              "management application <-> OfiCRM (sync lines, review, statistics).")
@click.option("--sql", "use_sql", is_flag=True,
              help="The SQLite-only demo (also the fallback without the HTTP plugins).")
@click.option("--keep", is_flag=True, help="Keep the demo folder (its path is printed).")
@click.pass_context
def demo(ctx: click.Context, records: int, seed: str | None, use_sql: bool, keep: bool) -> None:
    """Run a real sync and show every step: plan, run, edits, run again, report.

    By default between the CRM in Cloud and Fatture in Cloud emulators over HTTP (seed 000);
    --seed 001, 002 or 003 shows another seed integration between its emulators; with --sql, or
    without the plugins a seed needs, between two generated SQLite databases.
    """
    from syncbridge.cli import main
    from syncbridge.demo import sql

    if seed is not None and use_sql:
        raise click.UsageError("--seed and --sql are two different demos: choose one")
    chosen = import_module(f"syncbridge.demo.{SEEDS[seed or '000']}")
    if seed is not None and not chosen.available():
        needs = ", ".join(f"syncbridge-{system}" for system in chosen.SYSTEMS)
        raise ConfigError(f"--seed {seed}: install the plugins it needs first ({needs})")
    run_demo = sql.run_demo if use_sql or not chosen.available() else chosen.run_demo

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
