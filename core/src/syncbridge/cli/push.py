"""``syncbridge push``: one record against the sync's direction, explicitly."""

from __future__ import annotations

import click

from syncbridge.cli.common import EXIT_FAILURES, handle_errors, open_workspace
from syncbridge.cli.progress import progress_output
from syncbridge.cli.render import summary_table
from syncbridge.engine.push import push as push_record
from syncbridge.errors import ConfigError


@click.command()
@click.argument("sync")
@click.argument("entity")
@click.option(
    "--from",
    "side",
    type=click.Choice(["left", "right"]),
    required=True,
    help="The side the record is on.",
)
@click.option("--record", "record_id", required=True, help="Its id on that side.")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary.")
@click.pass_context
@handle_errors
def push(
    ctx: click.Context, sync: str, entity: str, side: str, record_id: str, quiet: bool
) -> None:
    """Create or update one record on the other side, whatever the sync's direction.

    The records it references (its company, contact, products) are pushed first when they
    are not linked yet. Example, the "Create invoice" button of a CRM:
    `syncbridge push qbo_b24 invoice --from right --record 42`.

    Exit code 1 when the record (or one it references) does not exist on that side, or
    failed; 2 for a sync or entity that is not configured.
    """
    workspace = open_workspace(ctx)
    if sync not in workspace.config.syncs:
        known = ", ".join(sorted(workspace.config.syncs)) or "none"
        raise ConfigError(f"SYNC: no sync named {sync!r} (syncs: {known})")
    connections = workspace.sync_connections(sync)
    with progress_output(quiet) as progress:
        summaries = push_record(
            sync,
            workspace.config.syncs[sync],
            connections,
            workspace.store,
            entity,
            "left" if side == "left" else "right",
            record_id,
            progress=progress,
        )
    if not quiet:
        for summary in summaries:
            summary_table(summary)
    if any(summary.failed for summary in summaries):
        ctx.exit(EXIT_FAILURES)
