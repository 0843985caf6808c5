"""A sync test bed: two SQLite databases through the sql connector, and a state store."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import uuid
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import select, text

from syncbridge.cli import main
from syncbridge.connection import Connection
from syncbridge.engine.report import RUN_ITEM
from syncbridge.engine.runner import RunSummary, run_sync
from syncbridge.models import model_for
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from syncbridge.workspace import Workspace


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + " }"
    raise TypeError(type(value))


class Bed:
    """Left and right SQLite databases, a config syncing ``entities`` between them."""

    def __init__(
        self,
        folder: Path,
        entities: dict[str, dict[str, Any]],
        left_settings: dict[str, Any] | None = None,
        right_settings: dict[str, Any] | None = None,
        state_url: str | None = None,
    ) -> None:
        self.folder = folder
        self.settings = {
            "left": {"url": f"sqlite:///{folder / 'left.db'}", **(left_settings or {})},
            "right": {"url": f"sqlite:///{folder / 'right.db'}", **(right_settings or {})},
        }
        self.config = folder / "syncbridge.toml"
        self.rewrite(entities, state_url=state_url)  # the bed itself must write valid TOML
        self._connector = load_connector("sql")

    def conn(self, side: str) -> Connection:
        return Connection(f"{side}-test", self._connector, self.settings[side])

    def put(self, side: str, entity: str, records: list[dict[str, Any]]) -> list[str]:
        model = model_for(entity)
        with self.conn(side) as conn:
            natives = [conn.map_out(entity, model.model_validate(r)) for r in records]
            results = conn.upsert(
                entity,
                [
                    UpsertItem(key=f"seed-{uuid.uuid4().hex}", record=r)
                    for i, r in enumerate(natives)
                ],
            )
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        return [str(r.id) for r in results]

    def edit(self, side: str, entity: str, record_id: str, **fields: Any) -> None:
        with self.conn(side) as conn:
            [result] = conn.upsert(
                entity,
                [
                    UpsertItem(
                        key=f"edit-{record_id}",
                        id=record_id,
                        record=fields,
                        changed=frozenset(fields),
                    )
                ],
            )
        assert result.ok, result.error

    def remove(self, side: str, entity: str, record_id: str) -> None:
        with self.conn(side) as conn:
            [result] = conn.delete(entity, [record_id])
        assert result.ok, result.error

    def rows(self, side: str, entity: str) -> list[dict[str, Any]]:
        with self.conn(side) as conn:
            return [record for page in conn.fetch(entity) for record in page.records]

    def by(self, side: str, entity: str, field: str) -> dict[Any, dict[str, Any]]:
        rows = self.rows(side, entity)
        keyed = {row[field]: row for row in rows}
        assert len(keyed) == len(rows), f"duplicate {field} on the {side}"
        return keyed

    def sync(self, **options: Any) -> RunSummary:
        with Workspace.load(self.config) as workspace:
            return run_sync(
                "main",
                workspace.config.syncs["main"],
                workspace.sync_connections("main"),
                workspace.store,
                **options,
            )

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["-c", str(self.config), *args])

    def cli_process(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "syncbridge.cli", "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def items(self, run_id: int, entity: str | None = None) -> list[Any]:
        with Workspace.load(self.config) as workspace, workspace.store.engine.connect() as db:
            query = select(RUN_ITEM).where(RUN_ITEM.c.run_id == run_id).order_by(RUN_ITEM.c.id)
            if entity:
                query = query.where(RUN_ITEM.c.entity == entity)
            return list(db.execute(query).all())

    def outcomes(self, run_id: int, entity: str | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.items(run_id, entity):
            counts[item.action] = counts.get(item.action, 0) + 1
        return counts

    # -- helpers of the merge-model tests (tests/engine/test_engine_stateful.py) ------------
    def rewrite(
        self,
        entities: dict[str, dict[str, Any]],
        extensions: dict[str, list[str]] | None = None,
        state_url: str | None = None,
    ) -> None:
        """Write the config again with new rules (and ``extensions`` per side)."""
        lines = [f"[state]\nurl = {toml_value(state_url or 'sqlite:///state.db')}\n"]
        for side in ("left", "right"):
            lines.append(f'[connections.{side}]\nconnector = "sql"')
            if extensions and extensions.get(side):
                lines.append(f"extensions = {toml_value(extensions[side])}")
            lines.append(f"[connections.{side}.settings]")
            lines += [f"{k} = {toml_value(v)}" for k, v in self.settings[side].items()]
            lines.append("")
        lines.append('[syncs.main]\nleft = "left"\nright = "right"\n')
        for entity, rule in entities.items():
            lines.append(f"[syncs.main.entities.{entity}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in rule.items()]
            lines.append("")
        self.config.write_text("\n".join(lines), encoding="utf-8")
        tomllib.loads(self.config.read_text())

    def canonical(self, side: str, entity: str) -> dict[str, Any]:
        """The side's records as canonical models, by id (what the engine compares)."""
        with self.conn(side) as conn:
            return {
                str(record["id"]): conn.map_in(entity, record)
                for page in conn.fetch(entity)
                for record in page.records
            }

    def links(self, entity: str) -> list[tuple[str, str]]:
        """(left id, right id) of every link the state store holds for ``entity``."""
        with Workspace.load(self.config) as workspace, workspace.store.engine.connect() as db:
            rows = db.execute(
                text("SELECT left_id, right_id FROM link WHERE sync = 'main' AND entity = :e"),
                {"e": entity},
            ).all()
        return [(str(left), str(right)) for left, right in rows]


def company(index: int, **extra: Any) -> dict[str, Any]:
    base = {
        "name": f"Company {index:04d}",
        "city": "Milano",
        "country": "IT",
        "address": f"Via Roma {index}",
        "email": f"c{index}@example.com",
    }
    return {**base, **extra}
