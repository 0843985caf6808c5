"""The scene of a sync under faults: a SQLite source, the connector's emulator, a config.

:class:`Scenario` holds what :func:`~syncbridge.testing.faultsync.sync_under_faults` set up
and opens what a run needs from it (connections, the state store), as ``syncbridge run`` would
from the config it writes (:func:`write_config`), which a person can also run by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from syncbridge.config import Config, load
from syncbridge.connection import Connection
from syncbridge.emulator import Emulator
from syncbridge.emulator.config import connection_toml, toml_value
from syncbridge.models import CanonicalRecord
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem
from syncbridge.state import StateStore
from syncbridge.state.tables import Link, table
from syncbridge.testing.hooks import as_canonical

__all__ = ["SOURCE", "SYNC", "TARGET", "Sampler", "Scenario", "seed_source", "write_config"]

#: names in the generated config
SYNC, SOURCE, TARGET = "faults", "source", "target"

Sampler = Callable[[str, int], Mapping[str, Any] | CanonicalRecord]


@dataclass
class Scenario:
    plugin: Any
    name: str
    entity: str
    emulator: Emulator
    target_settings: dict[str, Any]
    source_settings: dict[str, Any]
    config_path: Path
    secrets: set[str]

    @property
    def config(self) -> Config:
        return load(self.config_path)

    def connect(self, side: str, store: StateStore | None = None) -> Connection:
        plugin = load_connector("sql") if side == SOURCE else self.plugin
        settings = self.source_settings if side == SOURCE else self.target_settings
        if store is None:
            return Connection(side, plugin, settings)
        return Connection(
            side,
            plugin,
            settings,
            credentials=store.credentials(side),
            request_log=store.request_log(side),
            rate_budget=store.rate_budget,
        )

    @contextmanager
    def store(self) -> Iterator[StateStore]:
        state = self.config.state
        store = StateStore(state.url, credentials=state.credentials)
        try:
            yield store
        finally:
            store.close()

    @contextmanager
    def faults_off(self) -> Iterator[None]:
        live = self.emulator.faults
        saved = live.model_dump()
        for name in ("error_rate", "drop_rate", "corrupt_rate", "burst_429", "latency_ms"):
            setattr(live, name, 0)
        try:
            yield
        finally:
            for name, value in saved.items():
                setattr(live, name, value)

    def read(self, side: str) -> dict[str, CanonicalRecord | str]:
        """Every record of ``side`` mapped in, by id (or why it does not map)."""
        found: dict[str, CanonicalRecord | str] = {}
        with self.faults_off(), self.connect(side) as connection:
            id_field = connection.info.entity(self.entity).id_field
            for page in connection.fetch(self.entity):
                for native in page.records:
                    native_id = str(native.get(id_field))
                    try:  # with the context fetch gave it, as the engine maps it
                        found[native_id] = connection.map_in(
                            self.entity, native, page.context_of(native_id)
                        )
                    except Exception as error:  # reported as unmappable, not raised
                        found[native_id] = f"{type(error).__name__}: {error}"
        return found

    def links(self) -> dict[str, str]:
        """Target id -> source id of every link of the entity."""
        links = table(Link)
        with self.store() as store, store.engine.connect() as db:
            rows = db.execute(
                select(links.c.left_id, links.c.right_id).where(
                    links.c.sync == SYNC, links.c.entity == self.entity
                )
            ).all()
        return {str(right): str(left) for left, right in rows}


def write_config(scenario: Scenario, state_url: str) -> None:
    """A config a person can run by hand too (``syncbridge -c <folder>/syncbridge.toml run``)."""
    scenario.config_path.write_text(
        "\n".join(
            [
                "[state]",
                f"url = {toml_value(state_url)}",
                'credentials = "plain"',
                "",
                connection_toml(SOURCE, "sql", scenario.source_settings),
                connection_toml(TARGET, scenario.name, scenario.target_settings),
                f"[syncs.{SYNC}]",
                f'left = "{SOURCE}"',
                f'right = "{TARGET}"',
                f"[syncs.{SYNC}.entities.{scenario.entity}]",
                'direction = "left-to-right"',
                "",
            ]
        ),
        encoding="utf-8",
    )


def seed_source(scenario: Scenario, records: int, sample: Sampler) -> dict[str, CanonicalRecord]:
    """Create the source records; returns the samples by source id."""
    expected: dict[str, CanonicalRecord] = {}
    with scenario.connect(SOURCE) as source:
        batch = max(1, source.info.entity(scenario.entity).batch_size)
        for start in range(0, records, batch):
            indexes = range(start, min(records, start + batch))
            samples = [as_canonical(scenario.entity, sample(scenario.entity, i)) for i in indexes]
            items = [
                UpsertItem(key=f"fault-seed-{i}", record=source.map_out(scenario.entity, record))
                for i, record in zip(indexes, samples, strict=True)
            ]
            results = {result.key: result for result in source.upsert(scenario.entity, items)}
            for item, record in zip(items, samples, strict=True):
                result = results.get(item.key)
                if result is None or not result.ok or result.id is None:
                    why = result.error if result is not None else "no result"
                    raise RuntimeError(f"seeding the sql source failed: {item.key}: {why}")
                expected[str(result.id)] = record
    return expected
