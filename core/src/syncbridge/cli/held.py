"""``syncbridge held``: creates an interrupted run may have made, held until you settle them."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.markup import escape
from sqlalchemy import and_, delete, select

from syncbridge.cli.common import console, json_output, open_workspace
from syncbridge.cli.render import new_table
from syncbridge.engine.db import OUTBOX, PENDING
from syncbridge.errors import ConfigError

#: what a row not looked at since its run was killed is waiting for
UNSETTLED = "not looked for yet: the next run of its entity looks for it on the target"


@click.command()
@click.option("--sync", "sync_name", help="Only this sync.")
@click.option(
    "--release",
    "releases",
    multiple=True,
    metavar="ENTITY:ID",
    help="The create of this record (ID on its source side) made nothing: let the next run "
    "create it. Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def held(
    ctx: click.Context, sync_name: str | None, releases: tuple[str, ...], as_json: bool
) -> None:
    """List the creates held as unknown, or release them.

    A run killed while creates were on their way leaves them unconfirmed, and the next run
    looks for each on the target (docs/concepts/safety.md). One it cannot settle (two records
    there hold exactly its content, say) is held: reported as ``unknown — check <target>``
    and never sent again until you settle it, after looking in the target system:

    \b
    - it made the record there: pin the pair in the entity's `links` (left id = right id);
      the next run links them and the hold goes;
    - it made nothing: `syncbridge held --release ENTITY:ID`; the next run creates it.
    """
    json_output(ctx, as_json)
    workspace = open_workspace(ctx)
    syncs = workspace.config.syncs
    if sync_name is not None and sync_name not in syncs:
        raise ConfigError(f"--sync: no sync {sync_name!r} (configured: {', '.join(syncs)})")
    names = [sync_name] if sync_name else list(syncs)
    engine = workspace.store.engine
    if releases:
        with engine.begin() as db:
            for release in releases:
                entity, colon, record_id = release.partition(":")
                if not colon or not entity or not record_id:
                    raise ConfigError(f"--release {release!r}: expected ENTITY:ID, e.g. company:42")
                where = and_(
                    OUTBOX.c.sync.in_(names),
                    OUTBOX.c.entity == entity,
                    OUTBOX.c.source_id == record_id,
                )
                found = sorted(set(db.execute(select(OUTBOX.c.sync).where(where)).scalars()))
                if not found:
                    raise ConfigError(f"--release {release}: nothing is held for it")
                if len(found) > 1:
                    raise ConfigError(
                        f"--release {release}: held in syncs {', '.join(found)}; "
                        "say which with --sync"
                    )
                db.execute(delete(OUTBOX).where(where))
                console.print(
                    f"released {escape(release)} ({escape(found[0])}): the next run creates it"
                )
        return
    rows = _held(workspace.store.engine, names, syncs)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        console.print("nothing is held")
        return
    table = new_table(
        f"{len(rows)} create(s) held", "sync", "entity", "record", "target", "since (UTC)", "why"
    )
    for row in rows:
        table.add_row(
            escape(row["sync"]),
            escape(row["entity"]),
            escape(f"{row['side']} {row['record_id']}"),
            escape(row["target"]),
            f"{row['since']:%Y-%m-%d %H:%M:%S}",
            escape(row["why"]),
        )
    console.print(table)


def _held(engine: Any, names: list[str], syncs: Any) -> list[dict[str, Any]]:
    """The outbox rows of these syncs, with the reason the last run reported for each."""
    with engine.connect() as db:
        rows = db.execute(
            select(OUTBOX).where(OUTBOX.c.sync.in_(names)).order_by(OUTBOX.c.created_at)
        ).all()
        reasons = {
            (sync, entity, side, rid): reason
            for sync, entity, side, rid, reason in db.execute(
                select(
                    PENDING.c.sync,
                    PENDING.c.entity,
                    PENDING.c.side,
                    PENDING.c.record_id,
                    PENDING.c.reason,
                ).where(PENDING.c.sync.in_(names), PENDING.c.kind == "unknown")
            )
        }
    found = []
    for row in rows:
        side = "right" if row.target_side == "left" else "left"
        sync = syncs[row.sync]
        found.append(
            {
                "sync": row.sync,
                "entity": row.entity,
                "side": side,
                "record_id": row.source_id,
                "target": sync.left if row.target_side == "left" else sync.right,
                "since": row.created_at,
                "why": reasons.get((row.sync, row.entity, side, row.source_id), UNSETTLED),
            }
        )
    return found
