"""CRM in Cloud's category description out of pending native records, into their context.

The crmincloud connector once added a Catalog item's category description to the native
record under ``_categoryDescription`` (``map`` read it there); it now gives it as the
record's context (``{"category": ...}``), as 0006 did for QuickBooks' and Bitrix24's keys.
A pending row kept before holds the key in ``native``: it moves into ``context`` here, beside
whatever context the row already has, so the record is mapped with its category when it is
retried. A description that was null (an item without a category) is simply dropped: an
empty context reads the same. Other keys are left as they are.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

#: what crmincloud once kept in native records, and its key in the context now
_OLD, _NEW = "_categoryDescription", "category"


def upgrade() -> None:
    pending = sa.table(
        "pending",
        sa.column("sync", sa.String),
        sa.column("entity", sa.String),
        sa.column("side", sa.String),
        sa.column("record_id", sa.String),
        sa.column("native", sa.Text),
        sa.column("context", sa.Text),
    )
    key = (pending.c.sync, pending.c.entity, pending.c.side, pending.c.record_id)
    db = op.get_bind()
    found = db.execute(
        sa.select(*key, pending.c.native, pending.c.context).where(
            pending.c.native.contains(f'"{_OLD}"', autoescape=True)
        )
    ).all()
    for *where, native, context in found:
        moved = _moved(native, context)
        if moved is None:
            continue
        db.execute(
            sa.update(pending)
            .where(*(column == value for column, value in zip(key, where, strict=True)))
            .values(native=moved[0], context=moved[1])
        )


def _moved(text: str, context_text: str | None) -> tuple[str, str | None] | None:
    """``(native, context)`` as JSON for a row's native and context JSON, or None: nothing
    to move."""
    try:
        native: Any = json.loads(text)
        context: Any = json.loads(context_text) if context_text else {}
    except ValueError:
        return None
    if not isinstance(native, dict) or _OLD not in native or not isinstance(context, dict):
        return None
    description = native.pop(_OLD)
    if description is not None:
        context.setdefault(_NEW, description)
    return json.dumps(native), (json.dumps(context) if context else None)
