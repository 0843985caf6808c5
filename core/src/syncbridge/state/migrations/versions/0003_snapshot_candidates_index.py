"""Candidates of a run come from an index that also orders them by record id.

``SideStore.candidate_ids`` pages through the records read in a run in id order; with the
id in the index, SQLite no longer scans every snapshot of the side to sort them, so an
incremental run's cost follows the changes, not the size of the tables.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.drop_index("ix_snapshot_seen", table_name="snapshot")
    op.create_index(
        "ix_snapshot_seen", "snapshot", ["sync", "entity", "side", "seen_run", "record_id"]
    )
