"""The fleet's schedule: one row per (tenant, sync, entity), in the shared store.

Who runs what, and when, is decided here, in PostgreSQL, so that any number of schedulers,
webhook receivers and workers agree without talking to each other:

- **due** — a row is due when ``due_at`` has passed (its ``every`` from the tenant's config,
  or a webhook's nudge) and no run of it is queued.
- **dispatch** — whoever finds due rows (``FOR UPDATE SKIP LOCKED``: two schedulers never take
  the same row) gives each a fresh ``token``, moves ``due_at`` one interval on (turns missed
  while the fleet was busy are merged, not run in a burst), and sends one task per
  (tenant, sync, priority) naming the entities and their tokens, in the tenant's run order.
- **claim** — a worker runs an entity only if its token is still the row's: a message
  delivered twice, or superseded by a requeue, is a no-op. The entity's lease (a row in the
  tenant's schema) stays the lock around the run itself.
- **requeue** — a row queued longer than ``requeue_after`` whose lease nobody holds was lost
  (its worker was killed, or its message): it is dispatched again with a new token. Its
  outbox makes the rerun safe: nothing is created twice.

Every dispatched turn is also a row of ``turn``: when it was due, queued, started and
finished, by which worker, with what result (``syncbridge status --tenant`` and the tests
read it); a turn requeued is ``lost``, whether its worker died or its message.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    create_engine,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection as Db

from syncbridge.engine.lease import pid_alive

#: the schema the tables below are declared in; each fleet's engine puts its own there
#: (:func:`fleet_engine`: ``<name>_fleet``)
SCHEMA = "syncbridge_fleet"
METADATA = MetaData(schema=SCHEMA)

SCHEDULE = Table(
    "schedule",
    METADATA,
    Column("tenant", String(50), primary_key=True),
    Column("sync", String(100), primary_key=True),
    Column("entity", String(40), primary_key=True),
    #: the entity's place in the tenant's run order (a line after the lines of its after)
    Column("position", Integer, nullable=False, default=0),
    #: None: "manual", run only when nudged (a webhook) or by hand
    Column("every_seconds", Float, nullable=True),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("queued_at", DateTime(timezone=True), nullable=True),
    Column("token", String(32), nullable=True),
    Column("priority", String(5), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    #: the start of the latest run that finished ok: what the other side holds is this fresh
    Column("ok_started_at", DateTime(timezone=True), nullable=True),
    Column("result", String(20), nullable=True),
    Column("run_id", Integer, nullable=True),
    Column("runs", Integer, nullable=False, default=0),
    #: failed or erred runs in a row (0 after one that went well)
    Column("failures", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    #: a nudge came while a run was under way: run again as soon as it ends
    Column("again", Boolean, nullable=False, default=False),
    Column("worker", String(200), nullable=True),
)

TURN = Table(
    "turn",
    METADATA,
    Column("token", String(32), primary_key=True),
    Column("tenant", String(50), nullable=False, index=True),
    Column("sync", String(100), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("queued_at", DateTime(timezone=True), nullable=False, index=True),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("result", String(20), nullable=True),
    Column("run_id", Integer, nullable=True),
    Column("worker", String(200), nullable=True),
    #: why it was queued: "due", "nudge" (a webhook) or "requeue"
    Column("reason", String(10), nullable=False),
)

Key = tuple[str, str, str]


def fleet_engine(url: str, schema: str, **options: Any) -> tuple[Engine, Engine]:
    """(the engine to dispose, the engine to use): the second puts the schedule's tables in
    ``schema`` (SQLAlchemy's schema translation: every statement here is built from the
    tables above)."""
    base = create_engine(url, **options)
    return base, base.execution_options(schema_translate_map={SCHEMA: schema})


def ensure_tables(engine: Engine, schema: str) -> None:
    """Create the fleet's schema and tables if missing (every fleet process calls it)."""
    with engine.begin() as db:
        db.exec_driver_sql(f"SELECT pg_advisory_xact_lock(hashtext('syncbridge:{schema}'))")
        db.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        METADATA.create_all(db)


def db_now(db: Db) -> datetime:
    """The database's clock: schedulers and workers on several machines share it."""
    value = db.execute(select(func.now())).scalar_one()
    assert isinstance(value, datetime)
    return value


@dataclass(frozen=True)
class Wanted:
    """What a tenant's config asks of one row."""

    position: int
    every_seconds: float | None


def reconcile(engine: Engine, wanted: dict[Key, Wanted], tenants: Iterable[str]) -> int:
    """Make the rows of ``tenants`` what ``wanted`` says: new entities due now, changed
    intervals taken, entities (and tenants) no longer configured removed. Rows of tenants
    not in ``tenants`` (a tenant whose config is broken just now) are left as they are.
    Returns how many rows changed."""
    tenants = set(tenants)
    changed = 0
    with engine.begin() as db:
        now = db_now(db)
        current = {
            (row.tenant, row.sync, row.entity): row
            for row in db.execute(
                select(
                    SCHEDULE.c.tenant, SCHEDULE.c.sync, SCHEDULE.c.entity,
                    SCHEDULE.c.position, SCHEDULE.c.every_seconds, SCHEDULE.c.due_at,
                )
            )
        }
        gone = [key for key in current if key[0] in tenants and key not in wanted]
        for chunk in _chunks(gone):
            db.execute(
                delete(SCHEDULE).where(
                    tuple_(SCHEDULE.c.tenant, SCHEDULE.c.sync, SCHEDULE.c.entity).in_(chunk)
                )
            )
        changed += len(gone)
        new = [
            {
                "tenant": key[0], "sync": key[1], "entity": key[2],
                "position": want.position, "every_seconds": want.every_seconds,
                "due_at": now if want.every_seconds is not None else None,
                "runs": 0, "failures": 0, "again": False,
            }
            for key, want in wanted.items()
            if key not in current
        ]
        if new:
            db.execute(insert(SCHEDULE), new)
        changed += len(new)
        for key, want in wanted.items():
            row = current.get(key)
            if row is None or (row.position, row.every_seconds) == (
                want.position, want.every_seconds
            ):
                continue
            due = row.due_at
            if want.every_seconds is None:
                due = None
            elif due is None or (
                row.every_seconds is not None and want.every_seconds < row.every_seconds
            ):
                due = now  # newly scheduled, or more often: a turn now
            db.execute(
                update(SCHEDULE)
                .where(*_key(key))
                .values(position=want.position, every_seconds=want.every_seconds, due_at=due)
            )
            changed += 1
    return changed


@dataclass
class Dispatch:
    """One task: entities of one tenant's sync, in run order, each with its token."""

    tenant: str
    sync: str
    priority: str
    items: list[tuple[str, str]] = field(default_factory=list)


def lease_alive(db: Db, schema: str, sync: str, entity: str, now: datetime) -> bool:
    """Whether someone holds the lease of (sync, entity) in the tenant's ``schema`` now: it
    has not expired, and, when its holder ran on this host, that process is still alive (as
    the lease itself judges: a killed worker's turn is taken over at once, not a lease's
    lifetime later)."""
    exists = db.execute(select(func.to_regclass(f"{schema}.lease"))).scalar()
    if exists is None:
        return False
    held = db.execute(
        text(
            f"SELECT host, pid, expires_at FROM {schema}.lease "
            "WHERE sync = :sync AND entity = :entity"
        ),
        {"sync": sync, "entity": entity},
    ).first()
    if held is None:
        return False
    expires = held.expires_at
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=now.tzinfo)
    if held.host == socket.gethostname() and not pid_alive(held.pid):
        return False
    return bool(expires > now)


def dispatch(
    engine: Engine,
    send: Callable[[Dispatch], None],
    *,
    requeue_after: float,
    schema_of: Callable[[str], str],
    only: Iterable[Key] | None = None,
    limit: int = 2000,
) -> list[Dispatch]:
    """Queue the due rows (of ``only``, if given): tokens and next due times committed,
    then each task handed to ``send``. A crash between the two leaves rows queued without a
    message: ``requeue_after`` later they are dispatched again. ``schema_of`` names a
    tenant's schema (where a lost turn's lease is looked at)."""
    groups: dict[tuple[str, str, str], Dispatch] = {}
    with engine.begin() as db:
        now = db_now(db)
        stale = now - timedelta(seconds=requeue_after)
        due = or_(
            and_(SCHEDULE.c.queued_at.is_(None), SCHEDULE.c.due_at <= now),
            # lost: queued long ago and not started lately (a worker that has just claimed
            # it has until requeue_after to take its lease), its lease free (checked below)
            and_(
                SCHEDULE.c.queued_at < stale,
                or_(SCHEDULE.c.started_at.is_(None), SCHEDULE.c.started_at < stale),
            ),
        )
        query = select(SCHEDULE).where(due)
        if only is not None:
            keys = list(only)
            if not keys:
                return []
            query = query.where(
                tuple_(SCHEDULE.c.tenant, SCHEDULE.c.sync, SCHEDULE.c.entity).in_(keys)
            )
        rows = db.execute(
            query.order_by(SCHEDULE.c.due_at, SCHEDULE.c.tenant, SCHEDULE.c.position)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        turns = []
        for row in rows:
            key = (row.tenant, row.sync, row.entity)
            requeue = row.queued_at is not None
            if requeue and lease_alive(db, schema_of(row.tenant), row.sync, row.entity, now):
                continue  # still running: a long run, not a lost one
            token = uuid.uuid4().hex
            priority = "poll" if row.ok_started_at is not None else "bulk"
            every = row.every_seconds
            next_due = None
            if every is not None:
                base = row.due_at if row.due_at is not None else now
                next_due = base + timedelta(seconds=every)
                if next_due <= now:
                    next_due = now + timedelta(seconds=every)
            if requeue:
                next_due = row.due_at  # a lost turn comes back; its schedule is unchanged
                db.execute(
                    update(TURN)
                    .where(TURN.c.token == row.token, TURN.c.finished_at.is_(None))
                    .values(finished_at=now, result="lost")
                )
            db.execute(
                update(SCHEDULE)
                .where(*_key(key))
                .values(
                    queued_at=now, token=token, priority=priority, due_at=next_due,
                    started_at=None, again=False,
                )
            )
            turns.append(
                {
                    "token": token, "tenant": row.tenant, "sync": row.sync,
                    "entity": row.entity, "due_at": row.due_at, "queued_at": now,
                    "reason": "requeue" if requeue else ("due" if every else "nudge"),
                }
            )
            group = groups.setdefault(
                (row.tenant, row.sync, priority), Dispatch(row.tenant, row.sync, priority)
            )
            group.items.append((row.entity, token))
        if turns:
            db.execute(insert(TURN), turns)
    for group in groups.values():
        send(group)
    return list(groups.values())


def _bookkeeping(db: Db) -> None:
    """A claim or a finish need not wait for the disk: lost in a crash of the database, a
    finish makes the turn look lost (it is run again, safely, after ``requeue_after``) and a
    claim lets a duplicate message start a run the entity's lease still keeps single."""
    db.exec_driver_sql("SET LOCAL synchronous_commit = off")


def claim(engine: Engine, key: Key, token: str, worker: str) -> bool:
    """Mark ``key``'s turn ``token`` started by ``worker``; False when it is not the row's
    turn any more (a duplicate message, or a requeued turn)."""
    with engine.begin() as db:
        _bookkeeping(db)
        started = db.execute(
            update(SCHEDULE)
            .where(*_key(key), SCHEDULE.c.token == token, SCHEDULE.c.started_at.is_(None))
            .values(started_at=func.now(), worker=worker)
            .returning(SCHEDULE.c.started_at)
        ).scalar()
        if started is not None:
            db.execute(
                update(TURN).where(TURN.c.token == token).values(started_at=started, worker=worker)
            )
        return started is not None


def finish(
    engine: Engine,
    key: Key,
    token: str,
    *,
    result: str,
    run_id: int | None,
    error: str | None,
) -> None:
    """Record how ``key``'s turn ``token`` ended and free the row for its next turn (at once
    when a nudge came during the run)."""
    ok = result == "ok"
    with engine.begin() as db:
        _bookkeeping(db)
        db.execute(
            update(TURN)
            .where(TURN.c.token == token)
            .values(finished_at=func.now(), result=result, run_id=run_id)
        )
        db.execute(
            update(SCHEDULE)
            .where(*_key(key), SCHEDULE.c.token == token)
            .values(
                queued_at=None,
                finished_at=func.now(),
                result=result,
                run_id=run_id,
                error=error,
                runs=SCHEDULE.c.runs + 1,
                failures=0 if ok or result == "busy" else SCHEDULE.c.failures + 1,
                ok_started_at=SCHEDULE.c.started_at if ok else SCHEDULE.c.ok_started_at,
                # a nudge came during the run: due again at once
                due_at=case((SCHEDULE.c.again, func.now()), else_=SCHEDULE.c.due_at),
                again=False,
            )
        )  # no row: requeued meanwhile, the row is the new turn's


def nudge(engine: Engine, keys: Iterable[Key]) -> list[Key]:
    """A webhook says these rows' records changed: due now, or, when a run is under way
    (it may have read before the change), once more after it. Returns the keys that exist."""
    found = []
    with engine.begin() as db:
        now = db_now(db)
        for key in keys:
            row = db.execute(
                select(SCHEDULE.c.queued_at, SCHEDULE.c.started_at)
                .where(*_key(key))
                .with_for_update()
            ).first()
            if row is None:
                continue
            found.append(key)
            if row.queued_at is None:
                db.execute(update(SCHEDULE).where(*_key(key)).values(due_at=now))
            elif row.started_at is not None:
                db.execute(update(SCHEDULE).where(*_key(key)).values(again=True))
    return found


def forget_turns(engine: Engine, days: float) -> int:
    """Delete the turns queued more than ``days`` ago (the schedule keeps each entity's
    last outcome; the tenant's store keeps its runs); returns how many."""
    with engine.begin() as db:
        before = db_now(db) - timedelta(days=days)
        return int(db.execute(delete(TURN).where(TURN.c.queued_at < before)).rowcount)


def row_state(row: Any) -> str:
    """``idle``, ``queued`` (waiting for a worker) or ``running``: a schedule row's state."""
    if row.queued_at is None:
        return "idle"
    return "queued" if row.started_at is None else "running"


def _key(key: Key) -> tuple[Any, ...]:
    return (
        SCHEDULE.c.tenant == key[0],
        SCHEDULE.c.sync == key[1],
        SCHEDULE.c.entity == key[2],
    )


def _chunks(items: list[Key], size: int = 500) -> Iterable[list[Key]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
