"""Selection files: the review step between ``plan`` and ``run`` (seed 003).

``syncbridge plan --line L --selection FILE`` writes what the plan would transfer: a row per
record (its side, id, what the plan would do with it and a label to recognise it) and a
column per field the line transfers, each with ``tick = true``. The person unticks rows and
columns that must not be transferred (in an editor, or with the picker). ``syncbridge run
--selection FILE`` transfers exactly the ticked rows and columns, and refuses a selection
made against records that changed since (see :mod:`syncbridge.engine.selection`).
"""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomlkit
from sqlalchemy import select

from syncbridge.engine.db import SNAPSHOT
from syncbridge.engine.report import RUN_ITEM
from syncbridge.engine.selection import Selection
from syncbridge.errors import ConfigError
from syncbridge.models import META_FIELDS, model_for
from syncbridge.outcomes import Outcome
from syncbridge.workspace import Workspace

__all__ = ["columns_of", "read_selection", "write_selection"]

#: outcomes of a plan that transfer something: the rows a selection offers
TRANSFERS = (
    Outcome.CREATED,
    Outcome.UPDATED,
    Outcome.LINKED,
    Outcome.DELETED,
    Outcome.CONFLICT,
)
#: canonical fields a record is recognised by in a selection, the first one set
_LABELS = ("name", "number", "last_name", "code", "email")

HEADER = """syncbridge selection: untick (tick = false) the rows and the columns that must not be
transferred, then `syncbridge run --selection {path}`. A row whose record changes before that
run stops the run: plan again."""


def columns_of(workspace: Workspace, sync: str, entity: str) -> list[str]:
    """The fields the line transfers: the model's, less what its rule excludes, that both
    connections map."""
    rule = workspace.config.syncs[sync].entities[entity]
    fields = [
        name for name in model_for(entity).model_fields
        if name not in META_FIELDS and name not in rule.exclude and name != "locked"
    ]
    for connection in workspace.sync_connections(sync).values():
        declared = connection.info.entities[entity].fields
        if declared is not None:
            fields = [name for name in fields if name in declared]
    return fields


def write_selection(
    workspace: Workspace, path: Path, *, run_id: int, sync: str, entity: str, line: str
) -> int:
    """Write the selection of plan ``run_id`` for the line; returns the number of rows."""
    with workspace.store.engine.connect() as db:
        items = db.execute(
            select(RUN_ITEM.c.side, RUN_ITEM.c.record_id, RUN_ITEM.c.action, RUN_ITEM.c.reason)
            .where(
                RUN_ITEM.c.run_id == run_id,
                RUN_ITEM.c.entity == entity,
                RUN_ITEM.c.action.in_([str(outcome) for outcome in TRANSFERS]),
            )
            .order_by(RUN_ITEM.c.id)
        ).all()
        snapshots: dict[tuple[str, str], tuple[str, str]] = {}
        for side in ("left", "right"):
            ids = [item.record_id for item in items if item.side == side]
            if ids:
                for rid, digest, data in db.execute(
                    select(SNAPSHOT.c.record_id, SNAPSHOT.c.hash, SNAPSHOT.c.data).where(
                        SNAPSHOT.c.sync == sync,
                        SNAPSHOT.c.entity == entity,
                        SNAPSHOT.c.side == side,
                        SNAPSHOT.c.record_id.in_(ids),
                    )
                ):
                    snapshots[(side, str(rid))] = (digest, data)
    document = tomlkit.document()
    for text in HEADER.format(path=path).splitlines():
        document.add(tomlkit.comment(text))
    document.add(tomlkit.nl())
    document["line"] = line
    document["sync"] = sync
    document["entity"] = entity
    document["planned"] = datetime.now(UTC).isoformat(timespec="seconds")
    columns = tomlkit.table()
    for name in columns_of(workspace, sync, entity):
        columns[name] = True
    document["columns"] = columns
    rows = tomlkit.aot()
    for item in items:
        digest, data = snapshots.get((item.side, item.record_id), ("", "{}"))
        row = tomlkit.table()
        row["tick"] = True
        row["side"] = item.side
        row["id"] = item.record_id
        row["action"] = item.action
        row["record"] = _label(json.loads(data))
        row["reason"] = item.reason
        row["fingerprint"] = digest
        rows.append(row)
    document["rows"] = rows
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return len(items)


def _label(content: dict[str, Any]) -> str:
    for name in _LABELS:
        value = content.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def read_selection(workspace: Workspace, path: Path) -> tuple[str, Selection]:
    """The sync and the :class:`Selection` a file holds; a ConfigError naming the key and the
    fix for anything else."""
    where = f"--selection {path}"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{where}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where} is not valid TOML: {error}") from None
    sync, entity = raw.get("sync"), raw.get("entity")
    config = workspace.config
    if not isinstance(sync, str) or sync not in config.syncs:
        raise ConfigError(f"{where}: sync {sync!r} is not in the config; plan again")
    if not isinstance(entity, str) or entity not in config.syncs[sync].entities:
        raise ConfigError(f"{where}: sync {sync} has no entity {entity!r}; plan again")
    columns = raw.get("columns", {})
    known = set(columns_of(workspace, sync, entity))
    if not isinstance(columns, dict) or not all(isinstance(v, bool) for v in columns.values()):
        raise ConfigError(f"{where}: columns must be field = true|false")
    unknown = sorted(set(columns) - known)
    if unknown:
        raise ConfigError(
            f"{where}: columns.{unknown[0]} is not a field the line transfers; fields are "
            f"{', '.join(sorted(known))}"
        )
    rows: dict[str, dict[str, str]] = {"left": {}, "right": {}}
    for index, row in enumerate(raw.get("rows", [])):
        if not isinstance(row, dict) or row.get("side") not in rows or "id" not in row:
            raise ConfigError(f"{where}: rows[{index}] needs side (left|right) and id")
        if row.get("tick", True) is True:
            rows[str(row["side"])][str(row["id"])] = str(row.get("fingerprint", ""))
    selection = Selection(
        entity=entity,
        rows={side: ids for side, ids in rows.items() if ids},  # type: ignore[misc]
        columns_off=tuple(name for name, tick in columns.items() if not tick),
        source=where,
    )
    return sync, selection
