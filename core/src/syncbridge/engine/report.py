"""Recording a run: the run row, per-entity counts and one row per record (the report)."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, update

from syncbridge.engine.db import insert_rows
from syncbridge.state.tables import EntityRun, Run, RunItem, table

RUN = table(Run)
ENTITY_RUN = table(EntityRun)
RUN_ITEM = table(RunItem)

#: outcomes, in the order reports list them
OUTCOMES = (
    "created",
    "derived",
    "updated",
    "linked",
    "deleted",
    "conflict",
    "ambiguous",
    "waiting",
    "failed",
    "missing",
    "filtered",
    "skipped",
    # counted only, without a report row: identical on both sides to the last sync
    "unchanged",
)
#: outcomes that make `syncbridge run` exit 1
FAILURES = frozenset({"failed"})


@dataclass
class Item:
    entity: str
    side: str
    record_id: str
    action: str
    reason: str = ""
    target_id: str | None = None
    detail: dict[str, Any] | None = None


@dataclass
class EntityResult:
    entity: str
    counts: Counter[str] = field(default_factory=Counter)
    result: str = "ok"
    message: str | None = None
    writes: int = 0


class Recorder:
    """Writes a run's rows as it goes, so a killed run still leaves its report behind."""

    def __init__(self, engine: Engine, sync: str, mode: str) -> None:
        self.engine = engine
        self.sync = sync
        with engine.begin() as db:
            key = db.execute(
                insert(RUN).values(
                    sync=sync,
                    mode=mode,
                    started_at=datetime.now(UTC),
                    status="running",
                    pid=os.getpid(),
                )
            ).inserted_primary_key
            assert key is not None
            self.run_id = int(key[0])

    def start_entity(self, entity: str) -> None:
        with self.engine.begin() as db:
            db.execute(
                insert(ENTITY_RUN).values(
                    run_id=self.run_id,
                    entity=entity,
                    sync=self.sync,
                    started_at=datetime.now(UTC),
                    result="running",
                    counts="{}",
                )
            )

    def items(self, db: Any, items: list[Item]) -> None:
        """Insert report rows inside the caller's transaction (with the writes they report)."""
        if items:
            insert_rows(
                db,
                RUN_ITEM,
                [
                    {
                        "run_id": self.run_id,
                        "entity": i.entity,
                        "side": i.side,
                        "record_id": i.record_id,
                        "target_id": i.target_id,
                        "action": i.action,
                        "reason": i.reason,
                        "detail": json.dumps(i.detail, default=str) if i.detail else None,
                    }
                    for i in items
                ],
            )

    def finish_entity(self, result: EntityResult) -> None:
        with self.engine.begin() as db:
            db.execute(
                update(ENTITY_RUN)
                .where(ENTITY_RUN.c.run_id == self.run_id, ENTITY_RUN.c.entity == result.entity)
                .values(
                    finished_at=datetime.now(UTC),
                    result=result.result,
                    counts=json.dumps(dict(result.counts)),
                    message=result.message,
                )
            )

    def finish(self, status: str) -> None:
        with self.engine.begin() as db:
            db.execute(
                update(RUN)
                .where(RUN.c.id == self.run_id)
                .values(finished_at=datetime.now(UTC), status=status)
            )
