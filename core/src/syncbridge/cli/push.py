"""``syncbridge push``: one record against the sync's direction, explicitly."""

from __future__ import annotations

import click
from pydantic import ValidationError

from syncbridge.cli.common import EXIT_FAILURES, open_workspace, say
from syncbridge.cli.progress import progress_output
from syncbridge.cli.render import summary_table
from syncbridge.cli.sync import problems
from syncbridge.engine.mapin import describe_error
from syncbridge.engine.push import push as push_record
from syncbridge.errors import ConfigError, RecordError
from syncbridge.models import MODELS


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
    config = workspace.config.syncs[sync]
    connections = workspace.sync_connections(sync)
    origin = connections["left" if side == "left" else "right"].name
    where = f'on the {side} (connection "{origin}")'
    sides = {"left": config.left, "right": config.right}
    try:
        with progress_output(quiet, sides=sides) as progress:
            summaries = push_record(
                sync,
                config,
                connections,
                workspace.store,
                entity,
                "left" if side == "left" else "right",
                record_id,
                progress=progress,
            )
    except ValidationError as error:
        raise RecordError(_invalid(entity, side, record_id, where, error)) from error
    if not quiet:
        for summary in summaries:
            summary_table(summary)
    for summary in summaries:
        for line in problems(summary):
            say(line)
    if any(summary.failed for summary in summaries):
        ctx.exit(EXIT_FAILURES)


def _invalid(entity: str, side: str, record_id: str, where: str, error: ValidationError) -> str:
    """The sentence for a record that does not map to a valid canonical record: the pushed
    one, or one it references (named by its kind: the push reads those itself)."""
    reason = describe_error(error)
    model = MODELS.get(entity)
    if model is not None and model.__name__ == error.title:
        what = "it is not valid"
    else:
        what = f"a {error.title.lower()} it references is not valid"
    return (
        f"{entity} {side} {record_id} cannot be pushed: {what}: {reason}; correct it {where} "
        "and push it again"
    )
