"""Reading: list methods page by page, invoices with their rows, lookups by key.

Paging. Contacts, companies, products and invoices are read the way the docs recommend for
big lists (``settings/performance/huge-data.md``): ordered by id, each page asking for ids
above the last one seen, with ``start=-1`` so the portal skips counting. Unlike ``start``
offsets, this never skips a record when another is deleted between two pages. Reference lists
(VAT rates, currencies, units) are short and use ``start``/``next``.

Incremental reads and the cursor. The cursor is the toolkit's (:class:`syncbridge.rest.
Cursor`, ``<UTC instant>[#<id>]``), moved by an :class:`~syncbridge.rest.IncrementalRead`
per read (:data:`CHANGES`). Bitrix24 stamps changes in whole seconds and the filter is
``>=``. The cursor is the smaller of the second after the newest change seen
(``past_newest``) and the portal's own clock when the read began (``time.date_start`` of the
first answer, handed to the read as its server time: the signpost). Every record changed
before the read began was read, so when the newest change seen is older than that second, no
record can still come with its stamp or an earlier one: the next read starts a second later
and gets nothing it already has (an idle run reads one empty page per entity, instead of
every record that shared the newest second, which after a bulk write is all of them). A record
changed while the pages were being read gets a time at or after the read began, and that
second is never skipped: it is read again next run even if its id had already been passed. A
read that finds nothing moves the cursor to when it began, for the same reason.

Cursors stored before the toolkit (the portal's own spelling, ``2024-01-02T10:01:22+01:00``)
are read as what they are, an instant: the next read starts there and saves a toolkit cursor.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from syncbridge.errors import ConnectorError
from syncbridge.http import Client
from syncbridge.records import Context, NativeRecord, Page
from syncbridge.rest import (
    AfterId,
    Cursor,
    CursorToken,
    Incremental,
    IncrementalRead,
    Request,
    parse_instant,
    walk,
)
from syncbridge_bitrix24 import api, batch
from syncbridge_bitrix24.api import PAGE_SIZE
from syncbridge_bitrix24.entities import INVOICE_OWNER, SPECS, Spec, spec_for
from syncbridge_bitrix24.mapping import ROWS_KEY
from syncbridge_bitrix24.settings import Bitrix24Settings, settings_of, stage_category

SECOND = timedelta(seconds=1)


def _changes(spec: Spec) -> Incremental:
    assert spec.modified is not None
    return Incremental(
        field=spec.modified,
        id=spec.id_field,
        since=lambda since: {f">={spec.modified}": since.text},
        resolution=SECOND,
        past_newest=True,
    )


#: how each entity with a modification time is read since a cursor: ``>=`` on that time,
#: listed by id (not by time), so the cursor is saved once, after the last page
CHANGES: dict[str, Incremental] = {
    entity: _changes(spec) for entity, spec in SPECS.items() if spec.modified
}


def rows_of(spec: Spec, result: Any) -> list[NativeRecord]:
    """The records of a list result: item methods wrap them in ``items``."""
    if spec.style == "item":
        result = result.get("items") if isinstance(result, dict) else None
    if not isinstance(result, list):
        raise ConnectorError(f"bitrix24: {spec.method('list')} returned no list of records")
    return [row for row in result if isinstance(row, dict)]


#: reference lists: ``start`` offsets, the next one given in the answer (``next``); the body
#: a paginator sees is the :class:`~syncbridge_bitrix24.api.Reply`
_BY_START = CursorToken(param="start", token=lambda reply: reply.next, size_param=None)


def _by_id(spec: Spec) -> AfterId:
    """Big lists: ids above the last one seen (``filter[>ID]``), ``start=-1`` (no count)."""
    return AfterId(param=("filter", f">{spec.id_field}"), id=spec.id_field, size_param=None)


def list_all(
    client: Client, spec: Spec, filter: Mapping[str, Any], select: list[str] | None = None
) -> Iterator[tuple[list[NativeRecord], api.Reply]]:
    """Every record matching ``filter``, one page (and its reply) at a time."""
    params: dict[str, Any] = {
        **spec.extra,
        "select": select or list(spec.select),
        "filter": dict(filter),
        "order": {spec.id_field: "ASC"},
        "start": -1 if spec.keyset else 0,
    }

    def send(request: Request) -> tuple[api.Reply, list[NativeRecord], None]:
        reply = api.call(client, request.url, request.params)
        return reply, rows_of(spec, reply.result), None

    paginator = _by_id(spec) if spec.keyset else _BY_START
    for page in walk(paginator, Request(spec.method("list"), params), PAGE_SIZE, send):
        yield page.records, page.body


def fetch_pages(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    """The ``fetch`` hook: pages of native records (invoices with their rows, and the context
    :func:`~syncbridge_bitrix24.mapping.invoice_in` needs) and, at the end, the new cursor."""
    spec = spec_for(entity)
    settings = settings_of(client)
    ids = [str(value) for value in query.get("ids") or []]
    filter: dict[str, Any] = {}
    read: IncrementalRead | None = None
    if ids:
        filter[f"@{spec.id_field}"] = ids
    elif spec.entity in CHANGES:
        read = CHANGES[spec.entity].begin(since)
        filter.update(read.spec.params(read.start))
    began = False
    stages = Stages(client, settings)
    for rows, reply in list_all(client, spec, filter):
        if read is not None and not began:
            began = True
            started = _instant(reply.time.get("date_start"))
            if started is not None:
                read.server_time(started)
        if read is not None:
            rows = [row for row in rows if read.take(row)]
        context: dict[str, Context] = {}
        if spec.entity == "invoice" and rows:
            context = _attach_rows(client, rows)
            for row in rows:
                facts = stages.context_of(str(row.get("stageId") or ""))
                if facts:
                    context.setdefault(str(row["id"]), {}).update(facts)
        yield Page(records=rows, context=context)
    if read is not None:
        yield Page(records=[], cursor=cursor_after(read))


def cursor_after(read: IncrementalRead) -> str:
    """The cursor to save after ``read``: the toolkit's, or when it read nothing new, the
    second the read began (nothing changed before it that was not read)."""
    return read.cursor() or str(Cursor(read.signpost(SECOND)))


def _instant(value: Any) -> datetime | None:
    """The portal's time (``time.date_start``), or None when it sent none it could mean."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_instant(value)
    except ValueError:
        return None


def _attach_rows(client: Client, invoices: list[NativeRecord]) -> dict[str, Context]:
    """Put each invoice's product rows under ``productRows``: one batch for the whole page.

    A row list that cannot be read makes only that invoice fail: its rows are left out, and
    the reason is its context's ``error`` (returned by id), which
    :func:`~syncbridge_bitrix24.mapping.invoice_in` fails it with.
    """
    commands = [
        batch.Command(
            f"rows{invoice['id']}",
            "crm.item.productrow.list",
            {"filter": {"=ownerType": INVOICE_OWNER, "=ownerId": invoice["id"]}},
        )
        for invoice in invoices
    ]
    outcome = batch.run(client, commands, read=True)
    context: dict[str, Context] = {}
    for invoice, command in zip(invoices, commands, strict=True):
        error = outcome.error_of(command.key)
        if error is not None:
            context[str(invoice["id"])] = {"error": f"its product rows could not be read: {error}"}
            continue
        rows = product_rows(outcome.results[command.key])
        start = outcome.nexts.get(command.key)
        while start is not None:
            reply = api.call(
                client, "crm.item.productrow.list", {**command.params, "start": start}
            )
            rows.extend(product_rows(reply.result))
            start = reply.next if reply.next is not None and reply.next > start else None
        invoice[ROWS_KEY] = rows
    return context


def product_rows(result: Any) -> list[dict[str, Any]]:
    rows = result.get("productRows") if isinstance(result, dict) else result
    return [row for row in rows or [] if isinstance(row, dict)]


class Stages:
    """What the portal says of the stages the stage map does not name: their semantics, read
    once per category, for ``map`` to read such a stage's status by."""

    def __init__(self, client: Client, settings: Bitrix24Settings) -> None:
        self.client = client
        self.settings = settings
        self._semantics: dict[int, dict[str, str]] = {}

    def context_of(self, stage: str) -> Context:
        """``{"stage_semantics": ...}`` for a stage the stage map does not name and the
        portal knows; nothing for the others (the stage map decides, or nobody can)."""
        if self.settings.status_of(stage) is not None:
            return {}
        try:
            category = stage_category(stage)
        except ValueError:
            return {}
        semantics = self._category(category).get(stage)
        return {} if semantics is None else {"stage_semantics": semantics}

    def _category(self, category: int) -> dict[str, str]:
        if category not in self._semantics:
            self._semantics[category] = stage_semantics(self.client, category)
        return self._semantics[category]


def stage_semantics(client: Client, category: int) -> dict[str, str]:
    """The stages of a smart-invoice category: ``{stage id: semantics}`` (S, F or process)."""
    reply = api.call(
        client,
        "crm.status.list",
        {"filter": {"ENTITY_ID": f"SMART_INVOICE_STAGE_{category}"}, "order": {"SORT": "ASC"}},
    )
    stages: dict[str, str] = {}
    for item in reply.result if isinstance(reply.result, list) else []:
        if isinstance(item, dict) and item.get("STATUS_ID"):
            extra = item.get("EXTRA")
            semantics = extra.get("SEMANTICS") if isinstance(extra, dict) else None
            stages[str(item["STATUS_ID"])] = str(item.get("SEMANTICS") or semantics or "process")
    return stages


def lookup_keys(client: Client, entity: str, keys: list[str]) -> dict[str, str]:
    """The ``lookup`` hook: records created with these idempotency keys, ``{key: id}``."""
    spec = spec_for(entity)
    if spec.key_field is None or not keys:
        return {}
    settings = settings_of(client)
    found: dict[str, str] = {}
    for start in range(0, len(keys), PAGE_SIZE):
        chunk = keys[start : start + PAGE_SIZE]
        filter: dict[str, Any] = {f"@{spec.key_field}": chunk}
        if spec.style == "old":
            filter["ORIGINATOR_ID"] = settings.originator_id
        for rows, _reply in list_all(client, spec, filter, [spec.id_field, spec.key_field]):
            for row in rows:
                key = row.get(spec.key_field)
                if key in chunk:
                    found[str(key)] = str(row[spec.id_field])
    return found
