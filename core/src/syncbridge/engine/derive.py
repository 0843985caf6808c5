"""Derived records: a change of state on one side creates a record on the other.

A quote that reaches "accepted" in the CRM becomes an order in the invoicing system. The
rule lives in the config (``[[syncs.S.entities.quote.derive]]``), not in a plugin. Each
derivation is linked (source record -> created record) under its own link entity, so it
happens once, and goes through the outbox like any create, so a crash cannot make two.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import insert, select

from syncbridge.config import DeriveRule
from syncbridge.engine.context import EntityContext, Side, other
from syncbridge.engine.db import OUTBOX, SNAPSHOT, LinkStore, chunks
from syncbridge.engine.mapin import describe_error
from syncbridge.engine.outbox import held_creates, recover
from syncbridge.engine.report import Item
from syncbridge.engine.translate import Translator
from syncbridge.engine.values import idempotency_key, matches_filter
from syncbridge.models import model_for
from syncbridge.outcomes import Outcome
from syncbridge.records import UpsertItem


def link_entity(entity: str, rule: DeriveRule) -> str:
    """The entity name derivation links and outbox rows are stored under."""
    return f"{entity}>{rule.create}"


def _source(ctx: EntityContext, rule: DeriveRule) -> Side:
    if rule.source is not None:
        return rule.source
    return "right" if ctx.rule.direction == "right-to-left" else "left"


def derive_all(ctx: EntityContext) -> None:
    for rule in ctx.rule.derive:
        derive(ctx, rule)


def derive(ctx: EntityContext, rule: DeriveRule) -> None:
    """Create what ``rule`` asks for, for records of this run that meet its ``when``."""
    source = _source(ctx, rule)
    target = other(source)
    name = link_entity(ctx.entity, rule)
    links = LinkStore(ctx.sync, name)
    connection = ctx.connections[target]
    if not ctx.dry_run:
        recover(
            ctx,
            stored=name,
            native=rule.create,
            links=links,
            reason=lambda rid: f"derived from {ctx.entity} {rid} ({_when(rule)})",
            counted=Outcome.DERIVED,
        )
    run_id = ctx.recorder.run_id
    with ctx.engine.connect() as db:
        ids = list(
            db.execute(
                select(SNAPSHOT.c.record_id).where(
                    SNAPSHOT.c.sync == ctx.sync,
                    SNAPSHOT.c.entity == ctx.entity,
                    SNAPSHOT.c.side == source,
                    SNAPSHOT.c.seen_run == run_id,
                )
            ).scalars()
        )
    model = model_for(rule.create)
    for part in chunks(ids):
        with ctx.engine.connect() as db:
            contents = {
                rid: content
                for rid, (_h, content) in ctx.stores[source].snapshots(db, part).items()
                if matches_filter(content, rule.when)
            }
            done = links.by_side(db, source, contents)
            translator = Translator(ctx, db, references=model.references)
            own_links = ctx.links.by_side(db, source, contents)
            items: list[Item] = []
            writes: list[tuple[str, UpsertItem, dict[str, Any]]] = []
            for rid, content in contents.items():
                if rid in done:
                    continue
                data: dict[str, Any] = {f: content.get(f) for f in rule.fields}
                data["date"] = content.get("date") or date.today().isoformat()
                missing = translator.translate(source, data)
                if rule.link_field is not None:
                    twin = own_links.get(rid)
                    data[rule.link_field] = (
                        None
                        if twin is None
                        else (twin.right_id if target == "right" else twin.left_id)
                    )
                if missing:
                    items.append(
                        Item(
                            rule.create,
                            source,
                            rid,
                            Outcome.WAITING,
                            f"derived from {ctx.entity} {rid}: waiting on "
                            f"{', '.join(sorted(set(missing)))}, not linked yet",
                        )
                    )
                    continue
                context: dict[str, Any] = {}  # what map(out) notes for upsert
                try:
                    record = model.model_validate(data)
                    # a dry run's references may be planned, not real ids: no native form
                    native = {} if ctx.dry_run else connection.map_out(rule.create, record, context)
                except Exception as error:  # one record fails, the run goes on
                    items.append(
                        Item(
                            rule.create,
                            source,
                            rid,
                            Outcome.FAILED,
                            f"derived from {ctx.entity} {rid}: cannot be written: "
                            f"{describe_error(error)}",
                        )
                    )
                    continue
                key = idempotency_key(ctx.sync, name, source, rid, ctx.recorder.run_id)
                writes.append((rid, UpsertItem(key=key, record=native, context=context), data))
        if not ctx.dry_run and writes:
            # one an interrupted run may have made is not made again until that is settled
            held = held_creates(ctx, name, other(source), [rid for rid, _i, _d in writes])
            items += [
                Item(rule.create, source, rid, Outcome.UNKNOWN, held[rid])
                for rid, _item, _data in writes
                if rid in held
            ]
            writes = [write for write in writes if write[0] not in held]
        if not ctx.dry_run and writes:
            _create(ctx, rule, source, name, links, writes, items)
        elif writes:
            items += [
                Item(
                    rule.create,
                    source,
                    rid,
                    Outcome.CREATED,
                    f"derived from {ctx.entity} {rid} ({_when(rule)})",
                )
                for rid, _item, _data in writes
            ]
        with ctx.engine.begin() as db:
            ctx.recorder.items(db, items)
        for item in items:  # the summary tells derived records apart from synced ones
            made = item.action == Outcome.CREATED
            ctx.result.counts[Outcome.DERIVED if made else item.action] += 1


def _when(rule: DeriveRule) -> str:
    return ", ".join(f"{k} = {v}" for k, v in rule.when.items())


def _create(
    ctx: EntityContext,
    rule: DeriveRule,
    source: Side,
    name: str,
    links: LinkStore,
    writes: list[tuple[str, UpsertItem, dict[str, Any]]],
    items: list[Item],
) -> None:
    target = other(source)
    now = datetime.now(UTC)
    with ctx.engine.begin() as db:
        db.execute(
            insert(OUTBOX),
            [
                {
                    "key": item.key,
                    "sync": ctx.sync,
                    "entity": name,
                    "target_side": target,
                    "source_id": rid,
                    "created_at": now,
                    "content": orjson.dumps(data, default=str).decode(),
                }
                for rid, item, data in writes
            ],
        )
    results = {
        r.key: r
        for r in ctx.connections[target].upsert(rule.create, [item for _rid, item, _data in writes])
    }
    ctx.result.writes += len(writes)
    with ctx.engine.begin() as db:
        new_links = []
        for rid, item, _data in writes:
            result = results.get(item.key)
            if result is not None and result.ok and result.id is not None:
                pair = (rid, result.id) if source == "left" else (result.id, rid)
                new_links.append(
                    {
                        "left_id": pair[0],
                        "right_id": pair[1],
                        "left_hash": "",
                        "right_hash": "",
                        "synced_at": now,
                    }
                )
                items.append(
                    Item(
                        rule.create,
                        source,
                        rid,
                        Outcome.CREATED,
                        f"derived from {ctx.entity} {rid} ({_when(rule)})",
                        result.id,
                    )
                )
            else:
                error = result.error if result is not None else "no result"
                items.append(
                    Item(
                        rule.create,
                        source,
                        rid,
                        Outcome.FAILED,
                        f"derived from {ctx.entity} {rid}: the {target} rejected it: {error}",
                    )
                )
        links.add(db, new_links)
        for part in chunks([item.key for _rid, item, _data in writes]):
            db.execute(OUTBOX.delete().where(OUTBOX.c.key.in_(part)))


__all__ = ["derive", "derive_all", "link_entity"]
