"""Where each run runs, and when it last showed it was alive.

A run killed outright (SIGKILL, the machine going down) never writes its end: its row said
``running`` for ever. Its ``pid`` tells whether it still runs only on the host that ran it,
so the row now keeps ``host``; from any other host the sign of life is ``alive_at``, which a
running run renews every few seconds (see :class:`syncbridge.engine.report.Recorder`).
Rows written before this revision have neither: they are judged by the leases their pid
holds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("run") as run:
        run.add_column(sa.Column("host", sa.String(200), nullable=True))
        run.add_column(sa.Column("alive_at", sa.DateTime(timezone=True), nullable=True))
