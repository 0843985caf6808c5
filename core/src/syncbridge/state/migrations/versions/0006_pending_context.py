"""The context of each pending record, beside its native record.

A record that failed to map in is kept in ``pending`` with its native record (``native``,
JSON) so the next run can map it again. What ``map`` needs besides the record (the facts
``fetch`` gave it in ``Page.context``: whether its customer is a company, the rates of its
tax codes, why its rows could not be read) is now kept beside it in ``context`` (JSON, null
when it had none), instead of inside the native record under ``_``-prefixed keys.

Rows written before this revision carry such keys in ``native``: the connectors that wrote
them no longer read them, so they are moved out here. QuickBooks' ``_sb`` facts become the
context as they are; Bitrix24's ``_error`` becomes the context's ``error``, and its
``_status`` is dropped (the status now comes from the stage and the connection's settings).
Other keys are left as they are.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

#: what the connectors' mappings once kept in native records, now in their context
_MOVED = ("_sb", "_status", "_error")


def upgrade() -> None:
    with op.batch_alter_table("pending") as pending:
        pending.add_column(sa.Column("context", sa.Text, nullable=True))
    _move_private_keys()


def _move_private_keys() -> None:
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
        sa.select(*key, pending.c.native).where(
            sa.or_(*(pending.c.native.contains(f'"{name}"', autoescape=True) for name in _MOVED))
        )
    ).all()
    for *where, text in found:
        moved = _moved(text)
        if moved is None:
            continue
        native, context = moved
        db.execute(
            sa.update(pending)
            .where(*(column == value for column, value in zip(key, where, strict=True)))
            .values(native=native, context=context)
        )


def _moved(text: str) -> tuple[str, str | None] | None:
    """``(native, context)`` as JSON for a row's native JSON, or None: nothing to move."""
    try:
        native: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(native, dict) or not any(name in native for name in _MOVED):
        return None
    context: dict[str, Any] = {}
    notes = native.pop("_sb", None)
    if isinstance(notes, dict):
        context.update(notes)
    error = native.pop("_error", None)
    if error:
        context["error"] = str(error)
    native.pop("_status", None)
    return json.dumps(native), (json.dumps(context) if context else None)
