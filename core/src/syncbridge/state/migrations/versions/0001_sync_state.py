"""Sync state: snapshots, match keys, links, cursors, outbox, pending, runs, leases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

_TS = sa.DateTime(timezone=True)


def _key() -> list[sa.Column[str]]:
    return [
        sa.Column("sync", sa.String(100), primary_key=True),
        sa.Column("entity", sa.String(40), primary_key=True),
    ]


def upgrade() -> None:
    op.create_table(
        "snapshot",
        *_key(),
        sa.Column("side", sa.String(5), primary_key=True),
        sa.Column("record_id", sa.String(200), primary_key=True),
        sa.Column("hash", sa.String(32), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("seen_run", sa.Integer, nullable=False),
        sa.Column("done_run", sa.Integer, nullable=False),
    )
    op.create_index("ix_snapshot_seen", "snapshot", ["sync", "entity", "side", "seen_run"])
    op.create_table(
        "match_key",
        *_key(),
        sa.Column("side", sa.String(5), primary_key=True),
        sa.Column("record_id", sa.String(200), primary_key=True),
        sa.Column("level", sa.Integer, primary_key=True),
        sa.Column("value", sa.String(32), nullable=False),
    )
    op.create_index("ix_match_key_value", "match_key", ["sync", "entity", "side", "level", "value"])
    op.create_table(
        "link",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sync", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("left_id", sa.String(200), nullable=False),
        sa.Column("right_id", sa.String(200), nullable=False),
        sa.Column("left_hash", sa.String(32), nullable=False),
        sa.Column("right_hash", sa.String(32), nullable=False),
        sa.Column("synced_at", _TS, nullable=False),
        sa.UniqueConstraint("sync", "entity", "left_id", name="uq_link_left"),
        sa.UniqueConstraint("sync", "entity", "right_id", name="uq_link_right"),
    )
    op.create_table(
        "cursor",
        *_key(),
        sa.Column("side", sa.String(20), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("sync", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("target_side", sa.String(5), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "pending",
        *_key(),
        sa.Column("side", sa.String(5), primary_key=True),
        sa.Column("record_id", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("native", sa.Text, nullable=True),
        sa.Column("since", _TS, nullable=False),
    )
    op.create_table(
        "run",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sync", sa.String(100), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
    )
    op.create_table(
        "entity_run",
        sa.Column("run_id", sa.Integer, primary_key=True),
        sa.Column("entity", sa.String(40), primary_key=True),
        sa.Column("sync", sa.String(100), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=True),
    )
    op.create_table(
        "run_item",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("side", sa.String(5), nullable=False),
        sa.Column("record_id", sa.String(200), nullable=False),
        sa.Column("target_id", sa.String(200), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("ix_run_item_run_id", "run_item", ["run_id"])
    op.create_table(
        "lease",
        *_key(),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("acquired_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
    )
