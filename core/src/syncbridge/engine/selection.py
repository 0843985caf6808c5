"""A reviewed selection: exactly the rows and columns a person ticked, and nothing else.

``syncbridge plan --line L --selection FILE`` writes what the plan would transfer, a row per
record and a column per field, each with a tick (:mod:`syncbridge.cli.selection`); the person
unticks what must not go. ``syncbridge run --selection FILE`` then runs that line for the
ticked rows alone (read by id from their side, as ``--record`` reads one), with the unticked
columns left out as ``exclude`` would. A row whose record changed since the plan (its
fingerprint differs) stops the run before anything is written: the person reviewed other data.

A selection is for one-way lines: a record read alone cannot be merged both ways (its twin's
changes are not read), as with ``--record``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from syncbridge.engine.context import EntityContext, Side
from syncbridge.engine.db import SNAPSHOT, chunks
from syncbridge.errors import ConfigError

__all__ = ["Selection", "check_unchanged"]


@dataclass(frozen=True)
class Selection:
    """The ticked rows of one entity (side -> native id -> fingerprint when planned) and the
    unticked columns (canonical fields never transferred in this run)."""

    entity: str
    rows: Mapping[Side, Mapping[str, str]]
    columns_off: tuple[str, ...] = ()
    #: where it came from, for messages
    source: str = field(default="the selection")

    def ids(self) -> dict[Side, list[str]]:
        return {side: list(rows) for side, rows in self.rows.items() if rows}


def check_unchanged(ctx: EntityContext, selection: Selection) -> None:
    """Stop (a ConfigError, before anything is written) if a ticked record is not as it was
    when the selection was planned: gone, or changed since."""
    changed: list[str] = []
    with ctx.engine.connect() as db:
        for side, rows in selection.rows.items():
            for part in chunks(list(rows)):
                query = select(SNAPSHOT.c.record_id, SNAPSHOT.c.hash).where(
                    SNAPSHOT.c.sync == ctx.sync,
                    SNAPSHOT.c.entity == ctx.entity,
                    SNAPSHOT.c.side == side,
                    SNAPSHOT.c.record_id.in_(part),
                    SNAPSHOT.c.seen_run == ctx.recorder.run_id,
                )
                found = {str(rid): digest for rid, digest in db.execute(query)}
                for rid in part:
                    if rid not in found:
                        changed.append(f"{side} {rid} is gone")
                    elif found[rid] != rows[rid]:
                        changed.append(f"{side} {rid} changed")
    if changed:
        more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        shown = ", ".join(changed[:5]) + more
        raise ConfigError(
            f"{selection.source}: {ctx.entity} {shown} since it was planned; nothing was "
            "transferred. Plan again (syncbridge plan --line ... --selection FILE) and review "
            "the new selection"
        )
