"""``syncbridge documents``: a customer's documents on both sides of a sync, side by side.

The CRM shows a customer's invoices (seed 001: "the customer's data and invoices appear in
MiniCRM"); this is that view from the command line, and the check that every document reached
the other side. It reads the state store only: each record as the last run read it, paired by
the sync's links, the customer's twin found through the links of the customer entity (the
sync's own, or another sync's with ``links_from``). Nothing is asked of either system.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import click
from rich.markup import escape
from sqlalchemy import Connection as Db
from sqlalchemy import select

from syncbridge.cli.common import console, emit_json, json_output, open_workspace
from syncbridge.cli.render import new_table
from syncbridge.config.schema import SyncConfig
from syncbridge.engine.db import LINK, SNAPSHOT
from syncbridge.errors import ConfigError
from syncbridge.models import model_for
from syncbridge.models.documents import Invoice, Order, Quote

#: the document entities, in the order they are shown
DOCUMENTS = ("quote", "order", "invoice")
#: the party entities a document names, and its field naming each
PARTIES = {"company": "company_id", "contact": "contact_id"}
SIDES = ("left", "right")


@dataclass
class Row:
    entity: str
    number: str | None
    date: str
    total: Decimal
    currency: str
    left_id: str | None
    right_id: str | None

    @property
    def where(self) -> str:
        if self.left_id and self.right_id:
            return "both"
        return "left only" if self.left_id else "right only"


@click.command()
@click.argument("record_id")
@click.option("--side", type=click.Choice(SIDES), required=True, help="The side RECORD_ID is on.")
@click.option("--sync", "sync_name", help="The sync (default: the only one with documents).")
@click.option(
    "--party",
    type=click.Choice(sorted(PARTIES)),
    default="company",
    show_default=True,
    help="What RECORD_ID is.",
)
@click.option("--json", "as_json", is_flag=True, help="The documents as JSON rows.")
@click.pass_context
def documents(
    ctx: click.Context,
    record_id: str,
    side: str,
    sync_name: str | None,
    party: str,
    as_json: bool,
) -> None:
    """The documents of one customer (RECORD_ID on --side) on both sides of a sync.

    Example: a MiniCRM customer's invoices in Számlázz.hu and in MiniCRM,
    `syncbridge documents 5 --side right --sync szamlazz_minicrm`. As of each side's last
    run; a document on one side only has not been synced (yet, or it failed: see
    `syncbridge report`).
    """
    json_output(ctx, as_json)
    workspace = open_workspace(ctx)
    name, sync = _sync(workspace.config.syncs, sync_name)
    with workspace.store.engine.connect() as db:
        ids = {side: record_id, _other(side): _twin(db, name, sync, party, side, record_id)}
        rows = [row for entity in DOCUMENTS if entity in sync.entities
                for row in _rows(db, name, entity, PARTIES[party], ids)]
    if as_json:
        emit_json([
            {
                "entity": row.entity,
                "number": row.number,
                "date": row.date,
                "total": str(row.total),
                "currency": row.currency,
                "left_id": row.left_id,
                "right_id": row.right_id,
                "where": row.where,
            }
            for row in rows
        ])
        return
    twin = ids[_other(side)]
    title = f"Documents of {party} {record_id} ({side})" + (
        f" and {twin} ({_other(side)})" if twin else f", not linked on the {_other(side)}"
    ) + f" in sync {name}"
    table = new_table(title, "document", "number", "date", "total", "left", "right", "where",
                      right=("total",))
    for row in rows:
        colour = "green" if row.where == "both" else "yellow"
        table.add_row(
            row.entity, escape(row.number or ""), row.date, f"{row.total:,.2f} {row.currency}",
            escape(row.left_id or "-"), escape(row.right_id or "-"),
            f"[{colour}]{row.where}[/{colour}]",
        )
    console.print(table)
    if not rows:
        console.print("no documents of it on either side (as of the last runs)")


def _other(side: str) -> str:
    return "right" if side == "left" else "left"


def _sync(syncs: dict[str, SyncConfig], wanted: str | None) -> tuple[str, SyncConfig]:
    if wanted is not None:
        if wanted not in syncs:
            known = ", ".join(sorted(syncs)) or "none"
            raise ConfigError(f"--sync: no sync named {wanted!r} (syncs: {known})")
        return wanted, syncs[wanted]
    with_documents = [n for n, s in syncs.items() if any(e in s.entities for e in DOCUMENTS)]
    if len(with_documents) != 1:
        listed = ", ".join(sorted(with_documents)) or "none"
        raise ConfigError(f"--sync: say which sync (syncs with documents: {listed})")
    return with_documents[0], syncs[with_documents[0]]


def _twin(db: Db, name: str, sync: SyncConfig, party: str, side: str, rid: str) -> str | None:
    """The party's id on the other side: through this sync's links of it, or another's."""
    lender, flipped = sync.borrowed.get(party, (name, False))
    mine = _other(side) if flipped else side
    column = LINK.c.left_id if mine == "left" else LINK.c.right_id
    found = db.execute(
        select(LINK.c.left_id, LINK.c.right_id).where(
            LINK.c.sync == lender, LINK.c.entity == party, column == rid
        )
    ).first()
    if found is None:
        return None
    return str(found.right_id if mine == "left" else found.left_id)


def _rows(db: Db, sync: str, entity: str, field: str, ids: dict[str, str | None]) -> list[Row]:
    """The documents of ``entity`` naming the party (``ids`` by side), paired by links."""
    model = model_for(entity)
    found: dict[str, dict[str, Any]] = {}
    for side, party_id in ids.items():
        if party_id is None:
            continue
        rows = db.execute(
            select(SNAPSHOT.c.record_id, SNAPSHOT.c.data).where(
                SNAPSHOT.c.sync == sync, SNAPSHOT.c.entity == entity, SNAPSHOT.c.side == side
            )
        )
        found[side] = {}
        for record_id, data in rows:
            content = json.loads(data)
            if str(content.get(field)) == party_id:
                found[side][str(record_id)] = content
    links = db.execute(
        select(LINK.c.left_id, LINK.c.right_id).where(LINK.c.sync == sync, LINK.c.entity == entity)
    ).all()
    left, right = found.get("left", {}), found.get("right", {})
    pairs = [(str(lid), str(rid)) for lid, rid in links if str(lid) in left or str(rid) in right]
    paired = {lid for lid, _ in pairs} | {rid for _, rid in pairs}
    pairs += [(lid, "") for lid in left if lid not in paired]
    pairs += [("", rid) for rid in right if rid not in paired]
    result = []
    for lid, rid in pairs:
        content = left.get(lid) or right.get(rid)
        if content is None:
            continue
        document = model.model_validate(content)
        assert isinstance(document, Invoice | Quote | Order)
        result.append(Row(entity, document.number, document.date.isoformat(),
                          document.gross_total.quantize(Decimal("0.01")), document.currency,
                          lid or None, rid or None))
    return sorted(result, key=lambda row: (row.date, row.number or ""))
