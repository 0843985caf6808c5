"""Pushing one record against the sync's usual direction, with what it references.

Seed 004's "Create invoice" button: a Bitrix24 invoice (right) goes to QuickBooks (left)
although the sync imports QuickBooks into Bitrix24. Its customer is pushed first when it is
not linked yet, so the invoice is never written with a dangling reference.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from syncbridge.config import SyncConfig
from syncbridge.connection import Connection
from syncbridge.engine.context import Side
from syncbridge.engine.db import LinkStore
from syncbridge.engine.runner import (
    NoSuchRecord,
    RunSummary,
    missing_record,
    read_failed,
    run_sync,
)
from syncbridge.errors import ConfigError
from syncbridge.models import model_for
from syncbridge.state import StateStore

Progress = Callable[[str, str, int], None]


def _references(
    connection: Connection,
    side: Side,
    entity: str,
    record_id: str,
    referenced_by: tuple[str, str] | None,
) -> list[tuple[str, str]]:
    """(entity, id) of every record ``record_id`` references, read from its system.

    A missing record is :class:`NoSuchRecord` (exit 1), named as ``run --record`` names it;
    a missing reference also says which record points to it, the one that was asked for.
    """
    id_field = connection.info.entities[entity].id_field
    try:
        natives = [
            (r, page.context_of(r.get(id_field)))
            for page in connection.fetch(entity, None, {"ids": [record_id]})
            for r in page.records
        ]
    except httpx.HTTPError as error:
        raise read_failed(connection, entity, record_id, error) from None
    if not natives:
        message = missing_record([entity], side, record_id, connection.name)
        if referenced_by is not None:
            message += f", referenced by {referenced_by[0]} {referenced_by[1]}"
        raise NoSuchRecord(message)
    record = connection.map_in(entity, *natives[0])
    found: list[tuple[str, str]] = []
    for path, target in type(record).references.items():
        head, _, tail = path.partition(".")
        value = getattr(record, head)
        if not tail:
            if value is not None:
                found.append((target, str(value)))
        else:
            found += [
                (target, str(getattr(item, tail)))
                for item in value or []
                if getattr(item, tail) is not None
            ]
    return found


def push(
    name: str,
    sync: SyncConfig,
    connections: dict[Side, Connection],
    store: StateStore,
    entity: str,
    side: Side,
    record_id: str,
    *,
    progress: Progress | None = None,
    _seen: set[tuple[str, str]] | None = None,
    _referenced_by: tuple[str, str] | None = None,
) -> list[RunSummary]:
    """Sync ``record_id`` of ``side`` to the other side, pushing unlinked references first."""
    if entity not in sync.entities:
        configured = ", ".join(sorted(sync.entities)) or "none"
        raise ConfigError(
            f"ENTITY: {entity} is not configured for sync {name} (configured: {configured})"
        )
    model_for(entity)
    seen = _seen if _seen is not None else set()
    seen.add((entity, record_id))
    summaries: list[RunSummary] = []
    with store.engine.connect() as db:
        pending = [
            (target, value)
            for target, value in _references(
                connections[side], side, entity, record_id, _referenced_by
            )
            if target in sync.entities
            and (target, value) not in seen
            and not LinkStore(name, target).by_side(db, side, [value])
        ]
    for target, value in dict.fromkeys(pending):
        summaries += push(
            name,
            sync,
            connections,
            store,
            target,
            side,
            value,
            progress=progress,
            _seen=seen,
            _referenced_by=(entity, record_id),
        )
    direction = "left-to-right" if side == "left" else "right-to-left"
    forced = sync.model_copy(
        update={
            "entities": {
                key: rule.model_copy(update={"direction": direction}) if key == entity else rule
                for key, rule in sync.entities.items()
            }
        }
    )
    summaries.append(
        run_sync(
            name,
            forced,
            connections,
            store,
            entities=[entity],
            record=(side, record_id),
            record_checked=True,  # just read by _references
            progress=progress,
        )
    )
    return summaries
