"""The state store's tables.

Hot paths (snapshots, match keys, links) are read and written with SQLAlchemy Core
statements over these tables' ``__table__``, a page at a time; the ORM is for the rest.
Every change to these classes needs a migration in ``migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Snapshot(SQLModel, table=True):
    """The latest canonical content seen of one record on one side of a sync."""

    __tablename__ = "snapshot"

    sync: str = Field(primary_key=True, max_length=100)
    entity: str = Field(primary_key=True, max_length=40)
    side: str = Field(primary_key=True, max_length=5)
    record_id: str = Field(primary_key=True, max_length=200)
    hash: str = Field(max_length=32)
    data: str = Field(sa_column=Column(Text, nullable=False))
    seen_run: int = Field(default=0)
    done_run: int = Field(default=0)

    __table_args__ = (
        Index("ix_snapshot_seen", "sync", "entity", "side", "seen_run", "record_id"),
    )


class MatchKey(SQLModel, table=True):
    """A normalised match-key value of a record, so matching is an index lookup."""

    __tablename__ = "match_key"

    sync: str = Field(primary_key=True, max_length=100)
    entity: str = Field(primary_key=True, max_length=40)
    side: str = Field(primary_key=True, max_length=5)
    record_id: str = Field(primary_key=True, max_length=200)
    level: int = Field(primary_key=True)
    value: str = Field(max_length=32)

    __table_args__ = (Index("ix_match_key_value", "sync", "entity", "side", "level", "value"),)


class Link(SQLModel, table=True):
    """Left record <-> right record, with the hashes and content of both at the last sync.

    ``left_base``/``right_base`` are the merge base (canonical JSON, see
    docs/concepts/merge.md); ``deleted`` names the side a linked record was deleted on while
    its twin was kept: a tombstone, so the twin is never created again.
    """

    __tablename__ = "link"

    id: int | None = Field(default=None, primary_key=True)
    sync: str = Field(max_length=100)
    entity: str = Field(max_length=40)
    left_id: str = Field(max_length=200)
    right_id: str = Field(max_length=200)
    left_hash: str = Field(default="", max_length=32)
    right_hash: str = Field(default="", max_length=32)
    synced_at: datetime
    left_base: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    right_base: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    deleted: str | None = Field(default=None, max_length=5)

    __table_args__ = (
        UniqueConstraint("sync", "entity", "left_id", name="uq_link_left"),
        UniqueConstraint("sync", "entity", "right_id", name="uq_link_right"),
    )


class Cursor(SQLModel, table=True):
    """Where the next incremental read of one side starts; also entity-level metadata."""

    __tablename__ = "cursor"

    sync: str = Field(primary_key=True, max_length=100)
    entity: str = Field(primary_key=True, max_length=40)
    side: str = Field(primary_key=True, max_length=20)
    value: str = Field(sa_column=Column(Text, nullable=False))


class Outbox(SQLModel, table=True):
    """A create about to be sent: committed before the request, removed after the link."""

    __tablename__ = "outbox"

    key: str = Field(primary_key=True, max_length=64)
    sync: str = Field(max_length=100)
    entity: str = Field(max_length=40)
    target_side: str = Field(max_length=5)
    source_id: str = Field(max_length=200)
    created_at: datetime
    #: the canonical content sent (JSON): how a lost create is recognised on the target
    content: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Pending(SQLModel, table=True):
    """A record to retry next run: it failed, or waits on a record it references."""

    __tablename__ = "pending"

    sync: str = Field(primary_key=True, max_length=100)
    entity: str = Field(primary_key=True, max_length=40)
    side: str = Field(primary_key=True, max_length=5)
    record_id: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=10)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    native: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: the native record's context as read (JSON: ``Page.context`` of its id), if any
    context: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    since: datetime


class Run(SQLModel, table=True):
    """One run or plan. ``host`` and ``pid`` say which process runs it, ``alive_at`` when it
    last showed it was alive: how a run whose process died is told from a running one."""

    __tablename__ = "run"

    id: int | None = Field(default=None, primary_key=True)
    sync: str = Field(max_length=100)
    mode: str = Field(max_length=10)
    started_at: datetime
    finished_at: datetime | None = None
    status: str = Field(default="running", max_length=20)
    pid: int = 0
    host: str | None = Field(default=None, max_length=200)
    alive_at: datetime | None = None


class EntityRun(SQLModel, table=True):
    """Counts of one entity in one run, and its outcome (for `syncbridge status`)."""

    __tablename__ = "entity_run"

    run_id: int = Field(primary_key=True)
    entity: str = Field(primary_key=True, max_length=40)
    sync: str = Field(max_length=100)
    started_at: datetime
    finished_at: datetime | None = None
    result: str = Field(default="running", max_length=20)
    counts: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RunItem(SQLModel, table=True):
    """One row of the report: what happened to one record."""

    __tablename__ = "run_item"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(index=True)
    entity: str = Field(max_length=40)
    side: str = Field(max_length=5)
    record_id: str = Field(max_length=200)
    target_id: str | None = Field(default=None, max_length=200)
    action: str = Field(max_length=20)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Lease(SQLModel, table=True):
    """Who runs a sync/entity now; a lock that also holds across machines."""

    __tablename__ = "lease"

    sync: str = Field(primary_key=True, max_length=100)
    entity: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=200)
    host: str = Field(max_length=200)
    pid: int
    acquired_at: datetime
    expires_at: datetime


class RequestLog(SQLModel, table=True):
    """The last requests of each connection (secrets already redacted)."""

    __tablename__ = "request_log"

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=100, index=True)
    at: datetime
    method: str = Field(max_length=10)
    url: str = Field(sa_column=Column(Text, nullable=False))
    status: int | None = None
    duration_ms: float
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Credential(SQLModel, table=True):
    """Stored credentials of a connection (OAuth tokens, realm id)."""

    __tablename__ = "credential"

    connection: str = Field(primary_key=True, max_length=100)
    data: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime
    last_used_at: datetime | None = None


def table(model: type[SQLModel]) -> Table:
    """The Core ``Table`` of a table model, for bulk statements (typed, unlike ``__table__``)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


#: tables of the first schema revision; the second added the request log and credentials
REVISION_1 = (Snapshot, MatchKey, Link, Cursor, Outbox, Pending, Run, EntityRun, RunItem, Lease)
REVISION_2 = (RequestLog, Credential)
