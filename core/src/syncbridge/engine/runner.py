"""A run of one sync: its entities in dependency order, each under its lease."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from syncbridge.config import SyncConfig
from syncbridge.connection import Connection
from syncbridge.engine.context import EntityContext, Side
from syncbridge.engine.entity import sync_entity
from syncbridge.engine.heap import frozen_heap
from syncbridge.engine.lease import EntityLease
from syncbridge.engine.report import EntityResult, Recorder
from syncbridge.engine.selection import Selection
from syncbridge.errors import ConfigError, ConnectorError, LeaseBusy, SyncbridgeError
from syncbridge.models import DEPENDENCY_ORDER
from syncbridge.outcomes import FAILURES
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


class NoSuchRecord(SyncbridgeError):
    """``--record`` names an id its side does not have. Exit code 1, like a run whose record
    failed: the command line is right, the data is not what it expected."""


def missing_record(entities: list[str], side: Side, record_id: str, connection: str) -> str:
    """The message for an id that no entity of ``entities`` has on ``side``."""
    where = f'no such record on the {side} (connection "{connection}")'
    if len(entities) == 1:
        return f"{entities[0]} {side} {record_id}: {where}"
    kinds = ", ".join(f"a {e}" for e in entities[:-1]) + f" or a {entities[-1]}"
    return f"{side} {record_id}: {where}; looked for {kinds}"


def read_failed(
    connection: Connection, entity: str, record_id: str, error: httpx.HTTPError
) -> ConnectorError:
    """A transport error that escaped the connector, as a sentence without the URL (a
    webhook URL carries its secret), for reading one record by id."""
    if isinstance(error, httpx.HTTPStatusError):
        what = f"HTTP {error.response.status_code}"
    else:
        what = type(error).__name__
    return ConnectorError(
        f'{entity} {record_id}: cannot read it from connection "{connection.name}" ({what}); '
        f"check it with `syncbridge check`"
    )


def has_record(connection: Connection, entity: str, record_id: str) -> bool:
    """Whether ``connection``'s system has ``entity`` ``record_id``, asked by id."""
    try:
        return any(
            page.records for page in connection.fetch(entity, None, {"ids": [record_id]})
        )
    except httpx.HTTPError as error:
        raise read_failed(connection, entity, record_id, error) from None


def locate_record(
    name: str,
    sync: SyncConfig,
    connections: dict[Side, Connection],
    side: Side,
    record_id: str,
    only: list[str] | None = None,
) -> str:
    """The one entity of the sync (of ``only``, if given) that has ``record_id`` on ``side``.

    Ids are per entity (company 6 and contact 6 are two records), so an id alone can name
    several records. The side's system is asked, one read by id per entity the record could
    flow from, rather than the state store's snapshots: snapshots hold only what an earlier
    run read, so a record created since (the usual reason to sync one record now) would be
    missed, and a record deleted since would still be found. A single-record run can afford
    a read per entity; guessing would sync the wrong record.

    Raises ConfigError (exit 2) when the direction rules the side out or the id is
    ambiguous, :class:`NoSuchRecord` (exit 1) when no entity has it.
    """
    names = ordered_entities(sync, only)
    if only:
        for entity in names:
            rule = sync.entities[entity]
            if not rule.allows(side):
                raise ConfigError(
                    f"--record: the sync's direction for {entity} is {rule.direction}; a "
                    f"{side} record does not flow from there"
                )
    else:
        names = [entity for entity in names if sync.entities[entity].allows(side)]
        if not names:
            raise ConfigError(
                f"--record: no entity of sync {name} flows from the {side} (their directions: "
                + ", ".join(f"{e} {rule.direction}" for e, rule in sync.entities.items())
                + ")"
            )
    connection = connections[side]
    found = [entity for entity in names if has_record(connection, entity, record_id)]
    if not found:
        raise NoSuchRecord(missing_record(names, side, record_id, connection.name))
    if len(found) > 1:
        raise ConfigError(
            f"--record {record_id} is ambiguous: the {side} (connection "
            f'"{connection.name}") has a '
            + " and a ".join(f"{entity} {record_id}" for entity in found)
            + "; say which with "
            + " or ".join(f"--entity {entity}" for entity in found)
        )
    return found[0]


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
    record_checked: bool = False,
    selection: Selection | None = None,
    wait: float = 0.0,
    progress: Callable[[str, str, int], None] | None = None,
) -> RunSummary:
    """Run (or, with ``dry_run``, plan) the sync's entities; returns what happened.

    With ``record``, only the entity that has that record runs (see :func:`locate_record`),
    before any run is recorded: a wrong id starts no run. ``record_checked`` says the
    caller has just read the record from its side and names its one entity in
    ``entities`` (``push`` does), so its system is not asked again. With ``selection``
    (:mod:`syncbridge.engine.selection`), only its entity runs, for its ticked records and
    without its unticked columns.
    """
    if selection is not None:
        entities = [selection.entity]
    if record is not None and not (record_checked and entities and len(entities) == 1):
        entities = [locate_record(name, sync, connections, record[0], record[1], entities)]
    with frozen_heap():
        return _run_sync(
            name, sync, connections, store, entities=entities, full=full, dry_run=dry_run,
            record=record, selection=selection, wait=wait, progress=progress,
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
    selection: Selection | None,
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
            if selection is not None:
                if rule.direction == "both":
                    raise ConfigError(
                        f"{selection.source}: {entity} syncs both ways in {name}; a selection "
                        "of records is transferred only by a one-way rule (records read "
                        "alone cannot be merged both ways)"
                    )
                rule = rule.model_copy(
                    update={"exclude": [*rule.exclude, *selection.columns_off]}
                )
            if record is not None and rule.direction == "both":
                # read alone, one record cannot be merged both ways: its twin's changes since
                # the last run are not read, so which side wins would be a guess
                raise ConfigError(
                    f"--record: {entity} syncs both ways in {name}; a single record is synced "
                    f"only by a one-way rule. Run the whole sync, or send this record one way "
                    f"with `syncbridge push {name} {entity} --from {record[0]} --record "
                    f"{record[1]}`"
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
                borrowed=sync.borrowed,
                full=full,
                dry_run=dry_run,
                planned=planned,
                lease=lease,
                progress=report,
            )
            if lease is not None:
                lease.acquire()
            try:
                summary.entities.append(sync_entity(ctx, record, selection))
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
