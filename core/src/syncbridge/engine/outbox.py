"""Creates a killed run left unconfirmed: settled before anything else runs, never made twice.

A create's intent, an outbox row, is committed immediately before the request that carries it
is handed to the connector (:func:`commit_intents`, called by the sender per batch): its
idempotency key, its source record, and the canonical content it sends. The row is deleted
in the transaction that stores the create's link. So a row left behind is a create that was
handed over and may or may not have made a record; creates never handed over leave none.
(Derivations commit theirs just before their one ``upsert`` call.)

:func:`recover` asks the target about each row, by the first means it has:

* **a reference** (``Capability.LOOKUP``): the connector writes the key with the record and
  finds records by it. Found means made; not found means not made, since the key travels in
  the same request as the record.
* **content**: the target's records changed since the row was written (its last cursor
  still predates them) that are unlinked and hold exactly the content the create sent, as the
  target would hold it (mapped out and back in). One such record, wanted by no other row: it
  is the one made. None, and no other new record there that could be it edited: nothing was
  made.

A record found is linked, reported as ``created`` "(recovered after an interrupted run)" and
counted as created; one not made is simply created again by this run. Whatever recovery
cannot settle (two identical candidates, a new record that may be it edited, a target that
cannot be asked) is **held**: the row stays, the record is reported ``unknown`` and is not
sent again (:func:`held_creates`) until the user pins the record it made in the entity's
``links`` or releases it (``syncbridge held --release``), or a later recovery settles it. An
idempotent create (``Capability.IDEMPOTENT_CREATE``) does not settle anything on its own:
QuickBooks recognises a resent batch only with the same items in it, which a later run does not
rebuild.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import delete, func, select

from syncbridge.connection import Connection as Target
from syncbridge.describe import Capability
from syncbridge.engine.context import SIDES, EntityContext, Side, other
from syncbridge.engine.db import (
    OUTBOX,
    LinkStore,
    SideStore,
    chunks,
    insert_rows,
    link_row,
    loads,
)
from syncbridge.engine.report import ENTITY_RUN, RUN, Item
from syncbridge.errors import ConnectorError, RecordError, SkipRecord
from syncbridge.models import CanonicalRecord, model_for
from syncbridge.outcomes import Outcome
from syncbridge.records import UpsertItem

log = logging.getLogger(__name__)

#: how much earlier than the row a record it made may say it changed: the target's clock
#: and ours differ, and some systems keep whole seconds
CLOCK_MARGIN = timedelta(minutes=5)
RECOVERED = "recovered after an interrupted run"
#: the reason of a held row this run has not looked at (a plan does not recover)
STILL_HELD = "an earlier create of it is unconfirmed (see `syncbridge held`)"
#: at most this many candidate ids are named in a reason
NAMED = 5


# -- writing intents ------------------------------------------------------------------------


def intent(
    ctx: EntityContext, key: str, target: Side, source_id: str, content: Mapping[str, Any]
) -> dict[str, Any]:
    """The outbox row of one create, without its time (set when it is committed).

    ``content`` is the canonical record the create sends (references in the target's ids):
    how the record is recognised on a target that has no place for a reference.
    """
    return {
        "key": key,
        "sync": ctx.sync,
        "entity": ctx.entity,
        "target_side": target,
        "source_id": source_id,
        "content": orjson.dumps(content, default=str).decode(),
    }


def commit_intents(
    ctx: EntityContext, intents: Mapping[str, dict[str, Any]], batch: Sequence[UpsertItem]
) -> None:
    """Commit the rows of the creates in ``batch`` (those of ``intents``), stamped now.

    Called right before the batch is handed to the connector, in the sending thread: a run
    killed earlier leaves no row for creates that never left, so recovery has nothing to
    guess about them, and the stamp bounds when the record can have been made.
    """
    now = datetime.now(UTC)
    rows = [{**intents[item.key], "created_at": now} for item in batch if item.key in intents]
    if rows:
        with ctx.engine.begin() as db:
            insert_rows(db, OUTBOX, rows)


def held_creates(
    ctx: EntityContext, entity: str, target: Side, source_ids: Iterable[str]
) -> dict[str, str]:
    """Which of these source records have a create held (its row is still there), with why.

    After :func:`recover`, the rows left are the held ones: a record among them is not
    created again (under a new key) until that create is settled.
    """
    found: dict[str, str] = {}
    with ctx.engine.connect() as db:
        for part in chunks(list(source_ids)):
            rows = db.execute(
                select(OUTBOX.c.source_id, OUTBOX.c.key).where(
                    OUTBOX.c.sync == ctx.sync,
                    OUTBOX.c.entity == entity,
                    OUTBOX.c.target_side == target,
                    OUTBOX.c.source_id.in_(part),
                )
            ).all()
            found.update({rid: ctx.held.get(key, STILL_HELD) for rid, key in rows})
    return found


# -- recovering -----------------------------------------------------------------------------


@dataclass
class _Row:
    key: str
    source_id: str
    created_at: datetime
    content: dict[str, Any] | None


@dataclass
class _Found:
    target_id: str
    #: (fingerprint, JSON) of the target record as read, when it was read
    snapshot: tuple[str, str] | None = None


@dataclass
class _Verdicts:
    found: dict[str, _Found] = field(default_factory=dict)
    #: keys whose create made no record: created again by this run
    absent: set[str] = field(default_factory=set)
    #: key -> what the user should know
    held: dict[str, str] = field(default_factory=dict)
    #: target id -> source id of the held create it may be the record of
    suspects: dict[str, str] = field(default_factory=dict)


def recover(
    ctx: EntityContext,
    stored: str | None = None,
    native: str | None = None,
    links: LinkStore | None = None,
    *,
    reason: Callable[[str], str] | None = None,
    counted: str = Outcome.CREATED,
) -> int:
    """Settle the creates killed runs left in the outbox; returns how many were found made.

    ``stored`` is the entity name the outbox rows carry (derivations use their own),
    ``native`` the connector entity they create, ``links`` where to link them; all default to
    the context's entity. A record found is reported as ``counted`` with ``reason(source
    id)`` (default: "new on the <side>") and "(recovered after an interrupted run)".
    """
    stored = stored or ctx.entity
    native = native or ctx.entity
    links = links or ctx.links
    with ctx.engine.connect() as db:
        rows = db.execute(
            select(OUTBOX).where(OUTBOX.c.sync == ctx.sync, OUTBOX.c.entity == stored)
        ).all()
    found = 0
    for target in SIDES:
        mine = [
            _Row(row.key, row.source_id, _aware(row.created_at), _content(row.content))
            for row in rows
            if row.target_side == target
        ]
        if mine:
            found += _recover_side(ctx, stored, native, links, target, mine, reason, counted)
    return found


def _recover_side(
    ctx: EntityContext,
    stored: str,
    native: str,
    links: LinkStore,
    target: Side,
    rows: list[_Row],
    reason: Callable[[str], str] | None,
    counted: str,
) -> int:
    source = other(target)
    connection = ctx.connections[target]
    main = stored == ctx.entity
    pins = ctx.rule.links if main else {}
    pinned = set(pins) if source == "left" else set(pins.values())
    with ctx.engine.connect() as db:
        linked = links.by_side(db, source, [row.source_id for row in rows])
    # linked meanwhile, or pinned by the user (the pin is applied after this): settled
    settled = [row for row in rows if row.source_id in linked or row.source_id in pinned]
    open_rows = [row for row in rows if row not in settled]
    verdicts = _Verdicts()
    if open_rows:
        try:
            if connection.can(native, Capability.LOOKUP):
                verdicts = _by_reference(connection, native, open_rows, read_back=main)
            else:
                verdicts = _by_content(ctx, connection, native, links, target, open_rows, stored)
        except (ConnectorError, httpx.HTTPError) as error:
            why = (
                f"check {connection.name}: it could not be asked whether the interrupted "
                f"create reached it ({error}); it is asked again next run"
            )
            verdicts = _Verdicts(held={row.key: why for row in open_rows})
    now = datetime.now(UTC)
    items: list[Item] = []
    with ctx.engine.begin() as db:
        taken = links.by_side(db, target, [f.target_id for f in verdicts.found.values()])
        sources = (
            {
                rid: (digest, data)
                for rid, digest, data in ctx.stores[source].snapshot_rows(
                    db, [row.source_id for row in open_rows if row.key in verdicts.found]
                )
            }
            if main
            else {}
        )
        new_links: list[dict[str, Any]] = []
        for row in open_rows:
            made = verdicts.found.get(row.key)
            if made is None:
                continue
            if made.target_id in taken:
                verdicts.held[row.key] = (
                    f"check {connection.name}: its record {made.target_id} there carries the "
                    "interrupted create's key but is linked to another record"
                )
                continue
            mine = sources.get(row.source_id)
            theirs = made.snapshot
            hashes = (mine[0] if mine else "", theirs[0] if theirs else "")
            bases = (mine[1] if mine else None, theirs[1] if theirs else None)
            if source == "right":
                hashes, bases = (hashes[1], hashes[0]), (bases[1], bases[0])
            pair = (
                (row.source_id, made.target_id)
                if source == "left"
                else (made.target_id, row.source_id)
            )
            new_links.append(link_row(pair, hashes, bases, now))
            taken[made.target_id] = pair
            what = reason(row.source_id) if reason else f"new on the {source}"
            items.append(
                Item(
                    native,
                    source,
                    row.source_id,
                    Outcome.CREATED,
                    f"{what} ({RECOVERED})",
                    made.target_id,
                )
            )
            ctx.recovered.update({(source, row.source_id), (target, made.target_id)})
        links.add(db, new_links)
        if main:  # the record as read: a run that does not read the target still finds it
            ctx.stores[target].save_snapshots(
                db,
                [
                    (made.target_id, *made.snapshot)
                    for key, made in verdicts.found.items()
                    if made.snapshot is not None and key not in verdicts.held
                ],
                ctx.recorder.run_id,
                [],
            )
        ctx.recorder.items(db, items)
        done = [row.key for row in settled]
        done += [row.key for row in open_rows if row.key not in verdicts.held]
        for part in chunks(done):
            db.execute(delete(OUTBOX).where(OUTBOX.c.key.in_(part)))
    ctx.result.counts[counted] += len(items)
    ctx.held.update(verdicts.held)
    if main:  # in a two-way sync, not created back where the held create came from
        for target_id, source_id in verdicts.suspects.items():
            ctx.suspects[(target, target_id)] = (
                f"check {connection.name}: it may be the record an interrupted create of "
                f"{source} {source_id} made, which is held (`syncbridge held`)"
            )
    if open_rows:
        absent = len(open_rows) - len(items) - len(verdicts.held)
        log.warning(
            "%s %s: %d create(s) of an interrupted run had been handed to %s without their "
            "outcome being recorded: %d found there (linked, reported as created), %d made no "
            "record there (created now), %d held (reported unknown: check %s)",
            ctx.sync,
            stored,
            len(open_rows),
            connection.name,
            len(items),
            absent,
            len(verdicts.held),
            connection.name,
        )
    return len(items)


def _by_reference(
    connection: Target, native: str, rows: list[_Row], *, read_back: bool
) -> _Verdicts:
    """Ask the target for the records written with these keys.

    The key is written in the request that makes the record, so a key not found is a create
    that made nothing. The records found are read back (when ``read_back``) so that the link
    starts from what both sides hold, as after a create whose answer arrived.
    """
    found = connection.lookup(native, [row.key for row in rows])
    verdicts = _Verdicts()
    ids = {str(found[row.key]) for row in rows if row.key in found}
    snapshots = _read_ids(connection, native, ids) if read_back and ids else {}
    for row in rows:
        target_id = found.get(row.key)
        if target_id is None:
            verdicts.absent.add(row.key)
        else:
            verdicts.found[row.key] = _Found(str(target_id), snapshots.get(str(target_id)))
    return verdicts


def _read_ids(connection: Target, native: str, ids: set[str]) -> dict[str, tuple[str, str]]:
    """``{id: (fingerprint, JSON)}`` of these target records; what cannot be read is left out
    (the link then starts without it, and the next read compares the pair in full)."""
    snapshots: dict[str, tuple[str, str]] = {}
    try:
        id_field = connection.info.entities[native].id_field
        for page in connection.fetch(native, None, {"ids": sorted(ids)}):
            for record in page.records:
                try:
                    canonical = connection.map_in(
                        native, record, page.context_of(record.get(id_field))
                    )
                except (ValueError, TypeError, RecordError, ConnectorError):
                    continue
                if canonical.id in ids:
                    snapshots[canonical.id] = canonical.snapshot()
    except (ConnectorError, httpx.HTTPError) as error:
        log.info("%s: reading back recovered %s records failed: %s", connection.name, native, error)
    return snapshots


@dataclass
class _Candidate:
    id: str
    updated_at: datetime | None
    content: dict[str, Any]
    snapshot: tuple[str, str]


def _by_content(
    ctx: EntityContext,
    connection: Target,
    native: str,
    links: LinkStore,
    target: Side,
    rows: list[_Row],
    stored: str,
) -> _Verdicts:
    """Find each create's record among the target's new records by the content it sent."""
    verdicts = _Verdicts()
    described = [row for row in rows if row.content is not None]
    for row in rows:
        if row.content is None:  # written by a version that did not record it
            verdicts.held[row.key] = (
                f"check {connection.name}: the interrupted create's content was not recorded, "
                f"so it cannot be recognised there; {_action(stored, row)}"
            )
    if not described:
        return verdicts
    earliest = min(row.created_at for row in described)
    # the target's cursor predates the rows unless a run of the entity completed after one
    # was written: the record may then lie behind it, and only a full read is sure to see it.
    # Either way the read covers every record changed since the rows were written.
    fresh = stored == ctx.entity and earliest > _last_completed_start(ctx)
    with ctx.engine.connect() as db:
        since = SideStore(ctx.sync, native, target).cursor(db) if fresh else None
    candidates, unreadable = _new_records(connection, native, since, earliest - CLOCK_MARGIN)
    with ctx.engine.connect() as db:
        linked = links.by_side(db, target, [c.id for c in candidates])
    candidates = [c for c in candidates if c.id not in linked]
    candidates = _made_after(ctx, native, target, candidates, earliest)
    model = model_for(native)
    indexes: dict[tuple[str, ...], dict[bytes, list[_Candidate]]] = {}

    def alike(content: dict[str, Any], fields: tuple[str, ...]) -> list[_Candidate]:
        index = indexes.get(fields)
        if index is None:
            index = indexes[fields] = {}
            for candidate in candidates:
                index.setdefault(_signature(candidate.content, fields), []).append(candidate)
        return index.get(_signature(content, fields), [])

    matches: dict[str, list[_Candidate]] = {}
    for row in described:
        assert row.content is not None
        expected = _as_held(connection, native, model, row.content)
        every = tuple(sorted(row.content))
        # exactly what was sent; failing that, what was sent with the fields it left empty
        # filled by the system (QuickBooks gives a customer its home currency)
        found = alike(expected, every)
        given = tuple(name for name in every if _plain(expected.get(name)) is not None)
        if not found and given:
            found = alike(expected, given)
        window = row.created_at - CLOCK_MARGIN
        matches[row.key] = [c for c in found if c.updated_at is None or c.updated_at >= window]
    wanted: dict[str, int] = {}
    for found in matches.values():
        for candidate in found:
            wanted[candidate.id] = wanted.get(candidate.id, 0) + 1
    paired = _pair_identical(described, matches)
    for row in described:
        found = matches[row.key]
        if row.key in paired:
            made = paired[row.key]
            if made is not None:
                verdicts.found[row.key] = _Found(made.id, made.snapshot)
                continue
            found = []  # one of the identical creates that made nothing, unless edited
        if len(found) == 1 and wanted[found[0].id] == 1:
            verdicts.found[row.key] = _Found(found[0].id, found[0].snapshot)
        elif found:
            ids = sorted({c.id for c in found})
            others = max(wanted[c.id] for c in found) - 1
            what = (
                f"{len(ids)} records there ({_named(ids)}) hold exactly the content the "
                "interrupted create sent"
                if len(ids) > 1
                else f"record {ids[0]} there holds exactly the content the interrupted create sent"
            )
            if others:
                what += f", and so do {others} other interrupted create(s)"
            verdicts.held[row.key] = f"check {connection.name}: {what}; {_action(stored, row)}"
            verdicts.suspects.update(dict.fromkeys(ids, row.source_id))
        else:
            window = row.created_at - CLOCK_MARGIN
            unexplained = sorted(
                c.id
                for c in candidates
                if c.id not in wanted and (c.updated_at is None or c.updated_at >= window)
            )
            if not unexplained and not unreadable:
                # a record it made would be here, unlinked and changed since: none is
                verdicts.absent.add(row.key)
                continue
            count = len(unexplained) + unreadable
            verdicts.suspects.update(dict.fromkeys(unexplained, row.source_id))
            named = f" ({_named(unexplained)})" if unexplained else ""
            what = (
                "no record there holds exactly the content the interrupted create sent, "
                f"but {count} record(s) changed there since{named} may be it, edited"
            )
            verdicts.held[row.key] = f"check {connection.name}: {what}; {_action(stored, row)}"
    return verdicts


def _new_records(
    connection: Target, native: str, since: str | None, after: datetime
) -> tuple[list[_Candidate], int]:
    """The target's records changed since the cursor and not before ``after`` (unknown
    times included), and how many of those read could not be mapped in (unknown times)."""
    candidates: list[_Candidate] = []
    unreadable = 0
    id_field = connection.info.entities[native].id_field
    for page in connection.fetch(native, since, {}):
        for record in page.records:
            try:
                canonical = connection.map_in(
                    native, record, page.context_of(record.get(id_field))
                )
            except SkipRecord:
                continue  # deliberately not synced: never a record the sync wrote
            except (ValueError, TypeError, RecordError, ConnectorError):
                unreadable += 1
                continue
            if canonical.id is None:
                continue
            changed = canonical.updated_at
            if changed is not None and changed < after:
                continue
            candidates.append(
                _Candidate(canonical.id, changed, canonical.content(), canonical.snapshot())
            )
    return candidates, unreadable


def _pair_identical(
    rows: list[_Row], matches: dict[str, list[_Candidate]]
) -> dict[str, _Candidate | None]:
    """Interrupted creates that sent one content, and the records holding exactly it.

    When several creates sent the same content (two identical companies in one batch) and
    the target holds at most as many new records with it, which create made which record
    does not matter: any pairing leaves both sides equal. So the records are paired with
    creates in order and the creates left over made nothing (created again). More records
    than creates means someone else made one too: that stays undecidable (held).
    """
    groups: dict[tuple[str, ...], list[_Row]] = {}
    for row in rows:
        ids = tuple(sorted(candidate.id for candidate in matches[row.key]))
        if ids:
            groups.setdefault(ids, []).append(row)
    paired: dict[str, _Candidate | None] = {}
    for ids, members in groups.items():
        shared = [row for row in rows if set(ids) & {c.id for c in matches[row.key]}]
        if len(members) < 2 or len(shared) != len(members) or len(ids) > len(members):
            continue  # one create (decided as before), overlapping groups, or too many records
        records = sorted(matches[members[0].key], key=lambda c: c.id)
        ordered = sorted(members, key=lambda row: (row.created_at, row.key))
        for number, row in enumerate(ordered):
            paired[row.key] = records[number] if number < len(records) else None
    return paired


def _as_held(
    connection: Target, native: str, model: type[CanonicalRecord], content: dict[str, Any]
) -> dict[str, Any]:
    """``content`` as the target holds it once written: mapped out and back in (its own
    defaults and normalisation, an "Italia" read back as IT); as it is when that fails."""
    try:
        record = model.model_validate({**content, "id": None})
        context: dict[str, Any] = {}
        written = connection.map_out(native, record, context)
        written.setdefault(connection.info.entities[native].id_field, "0")
        held: dict[str, Any] = connection.map_in(native, written, context).content()
    except Exception:  # a partial record a mapping refuses offline: compare what was sent
        return content
    return held


def _signature(content: Mapping[str, Any], fields: tuple[str, ...]) -> bytes:
    """What two records must share to hold "exactly the same content" over ``fields``."""
    return orjson.dumps([_plain(content.get(name)) for name in fields], option=orjson.OPT_SORT_KEYS)


def _plain(value: Any) -> Any:
    """An empty value is no value: "" and [] read back as None from some systems."""
    return None if value == "" or value == [] or value == {} else value


def _named(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:NAMED])
    return shown if len(ids) <= NAMED else f"{shown}, ..."


def _action(stored: str, row: _Row) -> str:
    return (
        "if one is the record it made, pin it in the entity's links; if none is, "
        f"`syncbridge held --release {stored}:{row.source_id}` lets the next run create it"
    )


def _made_after(
    ctx: EntityContext, native: str, target: Side, candidates: list[_Candidate], earliest: datetime
) -> list[_Candidate]:
    """The candidates that can be a record the interrupted creates made.

    A record the state store last saw in the run that committed the intents, or before it,
    was there before any of them was sent: a run reads both sides before it writes. (A
    record seen again later is kept: it may be one a create made, read since.) Without
    this, records entered by hand just before a killed run, inside the clock margin, made
    its creates undecidable.
    """
    store = SideStore(ctx.sync, native, target)
    with ctx.engine.connect() as db:
        runs = db.execute(
            select(ENTITY_RUN.c.run_id, ENTITY_RUN.c.started_at)
            .where(ENTITY_RUN.c.sync == ctx.sync, ENTITY_RUN.c.entity == ctx.entity)
            .order_by(ENTITY_RUN.c.run_id.desc())
            .limit(100)
        ).all()
        sent_in = max(
            (run for run, started in runs if started is not None and _aware(started) <= earliest),
            default=None,
        )
        if sent_in is None:
            return candidates
        seen = store.seen_runs(db, [c.id for c in candidates])
    return [c for c in candidates if not (c.id in seen and seen[c.id] <= sent_in)]


def _last_completed_start(ctx: EntityContext) -> datetime:
    """When the last run of this entity that moved its cursors started (epoch if none)."""
    with ctx.engine.connect() as db:
        started = db.execute(
            select(func.max(ENTITY_RUN.c.started_at))
            .select_from(ENTITY_RUN.join(RUN, RUN.c.id == ENTITY_RUN.c.run_id))
            .where(
                ENTITY_RUN.c.sync == ctx.sync,
                ENTITY_RUN.c.entity == ctx.entity,
                ENTITY_RUN.c.result.in_(("ok", "failed")),
                ENTITY_RUN.c.finished_at.is_not(None),
                RUN.c.mode == "run",
            )
        ).scalar()
    return _aware(started) if started is not None else datetime.min.replace(tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every time the state stores is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _content(data: str | None) -> dict[str, Any] | None:
    return None if data is None else loads(data)


__all__ = [
    "CLOCK_MARGIN",
    "RECOVERED",
    "commit_intents",
    "held_creates",
    "intent",
    "recover",
]
