"""Reconciling creates a killed run left in the outbox, before anything else runs.

For each pending row, the target is asked (``lookup``) for a record written with the row's
idempotency key; a found record is linked, so the next stage sees a linked pair instead of a
missing one and nothing is created twice. Connectors whose creates are idempotent by key
need no lookup: the create is simply re-sent with the same key.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import delete, select

from syncbridge.describe import Capability
from syncbridge.engine.context import EntityContext
from syncbridge.engine.db import OUTBOX

log = logging.getLogger(__name__)


def recover(ctx: EntityContext) -> int:
    """Link what pending creates made; returns how many were found on the target."""
    with ctx.engine.connect() as db:
        rows = db.execute(
            select(OUTBOX).where(OUTBOX.c.sync == ctx.sync, OUTBOX.c.entity == ctx.entity)
        ).all()
    if not rows:
        return 0
    linked = 0
    now = datetime.now(UTC)
    for target in ("left", "right"):
        mine = [row for row in rows if row.target_side == target]
        if not mine:
            continue
        connection = ctx.connections[target]  # type: ignore[index]
        keys = [row.key for row in mine]
        found: dict[str, str] = {}
        if connection.can(ctx.entity, Capability.LOOKUP):
            found = connection.lookup(ctx.entity, keys)
        elif not connection.can(ctx.entity, Capability.IDEMPOTENT_CREATE):
            log.warning(
                "%s: %d create(s) of %s may have reached %s before a crash; it offers no "
                "lookup, so they are recovered by the match cascade only",
                ctx.sync,
                len(mine),
                ctx.entity,
                connection.name,
            )
        with ctx.engine.begin() as db:
            for row in mine:
                target_id = found.get(row.key)
                if target_id is not None:
                    source = "right" if target == "left" else "left"
                    existing = ctx.links.by_side(db, source, [row.source_id])
                    if not existing and not ctx.links.by_side(db, target, [target_id]):
                        pair = (
                            (row.source_id, target_id)
                            if source == "left"
                            else (target_id, row.source_id)
                        )
                        ctx.links.add(
                            db,
                            [
                                {
                                    "left_id": pair[0],
                                    "right_id": pair[1],
                                    "left_hash": "",
                                    "right_hash": "",
                                    "synced_at": now,
                                }
                            ],
                        )
                        linked += 1
                db.execute(delete(OUTBOX).where(OUTBOX.c.key == row.key))
    return linked
