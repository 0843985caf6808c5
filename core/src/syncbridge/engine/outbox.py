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
from syncbridge.engine.db import OUTBOX, LinkStore

log = logging.getLogger(__name__)


def recover(
    ctx: EntityContext,
    stored: str | None = None,
    native: str | None = None,
    links: LinkStore | None = None,
) -> int:
    """Link what pending creates made; returns how many were found on the target.

    ``stored`` is the entity name the outbox rows carry (derivations use their own),
    ``native`` the connector entity to look the keys up in, ``links`` where to link them;
    all default to the context's entity.
    """
    stored = stored or ctx.entity
    native = native or ctx.entity
    links = links or ctx.links
    with ctx.engine.connect() as db:
        rows = db.execute(
            select(OUTBOX).where(OUTBOX.c.sync == ctx.sync, OUTBOX.c.entity == stored)
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
        if connection.can(native, Capability.LOOKUP):
            found = connection.lookup(native, keys)
        elif not connection.can(native, Capability.IDEMPOTENT_CREATE):
            log.warning(
                "%s: %d create(s) of %s may have reached %s before a crash; it offers no "
                "lookup, so they are recovered by the match cascade only",
                ctx.sync,
                len(mine),
                native,
                connection.name,
            )
        with ctx.engine.begin() as db:
            for row in mine:
                target_id = found.get(row.key)
                if target_id is not None:
                    source = "right" if target == "left" else "left"
                    existing = links.by_side(db, source, [row.source_id])
                    if not existing and not links.by_side(db, target, [target_id]):
                        pair = (
                            (row.source_id, target_id)
                            if source == "left"
                            else (target_id, row.source_id)
                        )
                        links.add(
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
