"""What ``syncbridge status --tenant`` and ``syncbridge tenants`` show: per tenant and entity,
the last run, its lag and failures, from the schedule and the tenant's own runs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from syncbridge.engine.report import ENTITY_RUN
from syncbridge.fleet.schedule import SCHEDULE, db_now, row_state
from syncbridge.fleet.tenants import Tenants


@dataclass
class EntityStatus:
    sync: str
    entity: str
    every_seconds: float | None
    state: str  # idle, queued, running
    last_result: str | None
    last_run: int | None
    last_finished: str | None
    #: seconds since the start of the last run that went well (None: none has yet)
    lag_seconds: float | None
    failures: int
    error: str | None
    next_due: str | None
    counts: dict[str, int]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def tenant_status(engine: Engine, tenants: Tenants, tenant: str) -> list[EntityStatus]:
    """Every scheduled entity of ``tenant``, in its run order."""
    with engine.connect() as db:
        now = db_now(db)
        rows = db.execute(
            select(SCHEDULE)
            .where(SCHEDULE.c.tenant == tenant)
            .order_by(SCHEDULE.c.position)
        ).all()
    counts: dict[tuple[int, str], dict[str, int]] = {}
    run_ids = [row.run_id for row in rows if row.run_id is not None]
    if run_ids:
        store = tenants.store(tenant)
        try:
            with store.engine.connect() as db:
                for found in db.execute(
                    select(ENTITY_RUN.c.run_id, ENTITY_RUN.c.entity, ENTITY_RUN.c.counts).where(
                        ENTITY_RUN.c.run_id.in_(run_ids)
                    )
                ):
                    counts[(found.run_id, found.entity)] = {
                        k: v for k, v in json.loads(found.counts).items() if v
                    }
        finally:
            store.close()
    found_rows = []
    for row in rows:
        lag = None if row.ok_started_at is None else (now - row.ok_started_at).total_seconds()
        found_rows.append(
            EntityStatus(
                sync=row.sync,
                entity=row.entity,
                every_seconds=row.every_seconds,
                state=row_state(row),
                last_result=row.result,
                last_run=row.run_id,
                last_finished=_iso(row.finished_at),
                lag_seconds=None if lag is None else round(lag, 1),
                failures=row.failures,
                error=row.error,
                next_due=_iso(row.due_at),
                counts=counts.get((row.run_id, row.entity), {}),
            )
        )
    return found_rows


def fleet_summary(engine: Engine) -> dict[str, dict[str, Any]]:
    """Per tenant: entities scheduled, failing, running, and the worst lag."""
    with engine.connect() as db:
        now = db_now(db)
        rows = db.execute(
            select(
                SCHEDULE.c.tenant,
                func.count().label("entities"),
                func.sum((SCHEDULE.c.failures > 0).cast(SCHEDULE.c.runs.type)).label("failing"),
                func.min(SCHEDULE.c.ok_started_at).label("oldest_ok"),
            ).group_by(SCHEDULE.c.tenant)
        ).all()
    return {
        row.tenant: {
            "entities": row.entities,
            "failing": int(row.failing or 0),
            "worst_lag_seconds": None
            if row.oldest_ok is None
            else round((now - row.oldest_ok).total_seconds(), 1),
        }
        for row in rows
    }


def as_dicts(rows: list[EntityStatus]) -> list[dict[str, Any]]:
    return [asdict(row) for row in rows]
