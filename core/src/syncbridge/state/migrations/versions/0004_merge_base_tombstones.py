"""The merge base of each link, tombstones, and the content of each pending create.

A per-field three-way merge needs what both sides held after the pair's last sync, not only
its hash: ``left_base``/``right_base`` keep that canonical content (JSON). ``deleted`` marks a
link whose record was deleted on that side and kept on the other (deletions not
propagated), so the kept twin is never created again. ``outbox.content`` keeps what a create
sent, so a create whose response was lost can be found on the target by its content where
the API has no place for a reference.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("link") as link:
        link.add_column(sa.Column("left_base", sa.Text, nullable=True))
        link.add_column(sa.Column("right_base", sa.Text, nullable=True))
        link.add_column(sa.Column("deleted", sa.String(5), nullable=True))
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("content", sa.Text, nullable=True))
