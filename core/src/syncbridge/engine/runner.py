"""A run of one sync: its entities in dependency order, each under its lease."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from syncbridge.config import SyncConfig
from syncbridge.connection import Connection
from syncbridge.engine.context import EntityContext, Side
from syncbridge.engine.entity import sync_entity
from syncbridge.engine.heap import frozen_heap
from syncbridge.engine.lease import EntityLease
from syncbridge.engine.report import FAILURES, EntityResult, Recorder
from syncbridge.errors import ConfigError, LeaseBusy
from syncbridge.models import DEPENDENCY_ORDER
from syncbridge.state import StateStore


@dataclass
class RunSummary:
    sync: str
    run_id: int
    mode: str
    entities: list[EntityResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(
            result.result != "ok" or any(result.counts[o] for o in FAILURES)
            for result in self.entities
        )

    @property
    def writes(self) -> int:
        return sum(result.writes for result in self.entities)


def ordered_entities(sync: SyncConfig, only: list[str] | None = None) -> list[str]:
    names = [name for name in DEPENDENCY_ORDER if name in sync.entities]
    if only:
        unknown = [name for name in only if name not in sync.entities]
        if unknown:
            raise ConfigError(
                f"--entity: {', '.join(unknown)} not configured for this sync "
                f"(configured: {', '.join(names)})"
            )
        names = [name for name in names if name in only]
    return names


def run_sync(
    name: str,
    sync: SyncConfig,
    connections: dict[Side, Connection],
    store: StateStore,
    *,
    entities: list[str] | None = None,
    full: bool = False,
    dry_run: bool = False,
    record: tuple[Side, str] | None = None,
    wait: float = 0.0,
    progress: Callable[[str, str, int], None] | None = None,
) -> RunSummary:
    """Run (or, with ``dry_run``, plan) the sync's entities; returns what happened."""
    with frozen_heap():
        return _run_sync(
            name, sync, connections, store, entities=entities, full=full, dry_run=dry_run,
            record=record, wait=wait, progress=progress,
        )


def _run_sync(
    name: str,
    sync: SyncConfig,
    connections: dict[Side, Connection],
    store: StateStore,
    *,
    entities: list[str] | None,
    full: bool,
    dry_run: bool,
    record: tuple[Side, str] | None,
    wait: float,
    progress: Callable[[str, str, int], None] | None,
) -> RunSummary:
    recorder = Recorder(store.engine, name, "plan" if dry_run else "run")
    summary = RunSummary(sync=name, run_id=recorder.run_id, mode=recorder_mode(dry_run))
    status = "ok"
    planned: set[tuple[str, str, str]] = set()
    try:
        for entity in ordered_entities(sync, entities):
            rule = sync.entities[entity]
            if record is not None and not rule.allows(record[0]):
                raise ConfigError(
                    f"--record: the sync's direction for {entity} is {rule.direction}; a "
                    f"{record[0]} record does not flow from there"
                )
            lease = None if dry_run else EntityLease(store.engine, name, entity, wait=wait)

            def report(stage: str, count: int, entity: str = entity) -> None:
                if progress is not None:
                    progress(entity, stage, count)

            ctx = EntityContext(
                sync=name,
                entity=entity,
                rule=rule,
                connections=connections,
                engine=store.engine,
                recorder=recorder,
                sync_entities=frozenset(sync.entities),
                full=full,
                dry_run=dry_run,
                planned=planned,
                lease=lease,
                progress=report,
            )
            if lease is not None:
                lease.acquire()
            try:
                summary.entities.append(sync_entity(ctx, record))
            finally:
                if lease is not None:
                    lease.release()
        status = "failed" if summary.failed else "ok"
    except LeaseBusy:
        status = "busy"
        raise
    except BaseException:
        status = "error"
        raise
    finally:
        recorder.finish(status)
    return summary


def recorder_mode(dry_run: bool) -> str:
    return "plan" if dry_run else "run"
