"""``fetch``: full reads by query, incremental reads by change data capture, and the fallback.

* **Everything** (no cursor): ``SELECT * FROM X ORDERBY Id STARTPOSITION n MAXRESULTS m``,
  page after page until a short page.
* **Changes since a cursor**: ``GET /cdc?entities=X&changedSince=T``. Deleted objects come
  back as ``status="Deleted"`` stubs and are reported in ``Page.deleted``; name-list objects
  (customers, items, payment methods) are never deleted in QuickBooks, only made inactive, so
  an inactive one is reported as deleted too (a full read no longer sees it either).
* **Fallback**: CDC looks back at most 30 days and returns at most 1000 objects, so an older
  cursor, or an answer that may have been cut at the cap, is read again with
  ``WHERE Metadata.LastUpdatedTime >= T`` queries (name lists with ``Active IN (true,
  false)`` so deactivations are still seen). Deletions of transactions are not visible to
  queries: a run with ``--full`` finds them (the engine treats records a full read no longer
  sees as gone).

CDC's requests are QuickBooks' own, but the cursor is the toolkit's (:data:`CHANGES`, a
:class:`~syncbridge.rest.Incremental` on ``(MetaData.LastUpdatedTime, Id)``): the stored
cursor is ``<UTC instant>[#<Id>]``; a read asks for everything at or after its instant (the
filters compare whole seconds), drops what it already read after ``#<Id>`` at that instant
and what an answer repeats. The cursor saved, with the last page, is the *signpost*, "at or
after": the moment the read began by this machine's clock or by the server's (the ``time``
of the read's first answer), whichever is earlier, cut to whole seconds, so a record
changed during the read is read next time (see :func:`cursor_of`).
A cursor stored by an older version (the server's time in whole seconds with an offset,
``2024-05-01T10:00:11-07:00``, meaning "at or after") is read as that instant, "at or after",
and replaced by one of this format.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from syncbridge.errors import ConnectorError
from syncbridge.records import Context, Page
from syncbridge.rest import Cursor, Incremental, IncrementalRead
from syncbridge_quickbooks import query as q
from syncbridge_quickbooks.api import QuickBooksApi
from syncbridge_quickbooks.entities import DOCUMENTS, ENTITIES, PARTIES, TAX_RATE
from syncbridge_quickbooks.native import instant, ref
from syncbridge_quickbooks.parties import customer_kind
from syncbridge_quickbooks.taxes import (
    PSEUDO_TAX_CODES,
    line_tax_codes,
    percent_text,
    rate_ids,
    sales_rate,
)

#: start the fallback a little before CDC's 30 days run out, for clock skew
_CDC_MARGIN = timedelta(hours=1)

SECOND = timedelta(seconds=1)
#: Rows of one answer, with the envelope's ``time``
Answer = tuple[list[dict[str, Any]], str | None]


def spell(moment: datetime) -> str:
    """An instant as ``changedSince`` and query literals take it: whole seconds (rounded
    down, the filters being "at or after"), in UTC."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


#: how every QuickBooks object is read incrementally (see the module docstring)
CHANGES = Incremental(
    field="MetaData.LastUpdatedTime",
    id="Id",
    format=spell,
    resolution=SECOND,
)


class Reader:
    """One ``fetch`` of one canonical entity."""

    def __init__(self, api: QuickBooksApi, entity: str) -> None:
        if entity not in ENTITIES:
            raise ConnectorError(f"quickbooks has no entity {entity!r}")
        self.api = api
        self.entity = entity
        self.qbo = ENTITIES[entity]

    def pages(self, since: str | None, query: Mapping[str, Any]) -> Iterator[Page]:
        ids = query.get("ids")
        if ids:
            yield self.page(self.api.by_ids(self.qbo, [str(i) for i in ids]), None)
            return
        read = CHANGES.begin(since)  # a cursor that is none fails here, with the fix
        if self.entity == "vat_rate":
            yield self.vat_rates(read)
        elif read.start is None:
            yield from self.read(read, self.api.pages(self.qbo, []))
        elif self.qbo.cdc and self.within_cdc(read.start.at):
            yield from self.captured(read)
        else:
            yield from self.queried(read)

    def read(self, read: IncrementalRead, answers: Iterable[Answer]) -> Iterator[Page]:
        """The pages of ``answers``, the cursor with the last: each page is yielded once the
        next answer came, so the last one is known."""
        held: list[dict[str, Any]] | None = None
        for rows, at in answers:
            _server_time(read, at)
            taken = [row for row in rows if read.take(row)]
            if held is not None:
                yield self.page(held, None)
            held = taken
        yield self.page(held or [], cursor_of(read))

    def within_cdc(self, moment: datetime) -> bool:
        reach = timedelta(days=self.api.settings.cdc_max_days) - _CDC_MARGIN
        return datetime.now(UTC) - moment < reach

    def captured(self, read: IncrementalRead) -> Iterator[Page]:
        assert read.start is not None
        rows, at = self.api.changes(self.qbo, CHANGES.since_of(read.start).text)
        if len(rows) >= self.api.settings.cdc_max_objects:
            # the answer may be cut at CDC's cap: read the same window by query instead
            yield from self.queried(read)
            return
        yield from self.read(read, [(rows, at)])

    def queried(self, read: IncrementalRead) -> Iterator[Page]:
        assert read.start is not None
        where = [q.changed_since(CHANGES.since_of(read.start).text)]
        if self.qbo.name_list:
            where.append(q.ANY_ACTIVE)
        yield from self.read(
            read, self.api.pages(self.qbo, where, order_by="Metadata.LastUpdatedTime")
        )

    def page(self, rows: list[dict[str, Any]], cursor: str | None) -> Page:
        """Keep this entity's records, note deletions, look up what ``map`` will need."""
        records: list[dict[str, Any]] = []
        deleted: list[str] = []
        for row in rows:
            id = str(row.get("Id"))
            if row.get("status") == "Deleted":
                deleted.append(id)  # only Id and MetaData left: for either party kind
                continue
            if self.entity in PARTIES and customer_kind(row) != self.entity:
                continue
            if self.qbo.name_list and row.get("Active") is False:
                deleted.append(id)
                continue
            records.append(row)
        context = context_of(self.api, self.entity, records)
        return Page(records=records, cursor=cursor, deleted=deleted, context=context)

    def vat_rates(self, read: IncrementalRead) -> Page:
        """Every active tax code that has sales rates (or none at all: a 0 % code)."""
        rates: dict[str, Decimal] = {}
        for rows, _at in self.api.pages(TAX_RATE, [q.ANY_ACTIVE]):
            for row in rows:
                rates[str(row.get("Id"))] = Decimal(str(row.get("RateValue") or 0))
        records = []
        context: dict[str, Context] = {}
        for rows, at in self.api.pages(self.qbo, []):
            _server_time(read, at)
            for row in (row for row in rows if read.take(row)):
                sales = rate_ids(row.get("SalesTaxRateList"))
                if not sales and rate_ids(row.get("PurchaseTaxRateList")):
                    continue  # a purchase-only code is no VAT rate a sale can carry
                _note(context, row, rate=percent_text(sales_rate(row, rates)))
                records.append(row)
        return Page(records=records, cursor=cursor_of(read), context=context)


def cursor_of(read: IncrementalRead) -> str:
    """The cursor to save after ``read``: its signpost, "at or after".

    Every read here lists all that changed since its start as QuickBooks saw it when it
    made the read's first answer (CDC in one answer; a full read or the query fallback to
    its last page), so nothing stamped before the signpost is left unread, and the newest
    record's keyset (the toolkit's default, :meth:`~syncbridge.rest.IncrementalRead.cursor`)
    would only name an older instant: for data changed more than 30 days ago, one CDC
    cannot reach, so every later run would fall back to queries.
    """
    return str(Cursor(read.signpost(SECOND)))


def _server_time(read: IncrementalRead, at: str | None) -> None:
    """The envelope's ``time``, the server's clock: the signpost is never past it."""
    moment = instant(at)
    if moment is not None and moment.tzinfo is not None:
        read.server_time(moment)


def context_of(
    api: QuickBooksApi, entity: str, records: list[dict[str, Any]]
) -> dict[str, Context]:
    """The context of each record, by id: whether its parent (contacts) or customer
    (documents) is a company, and the percentage of each tax code a document's lines name
    (see :mod:`~syncbridge_quickbooks.native` and :mod:`~syncbridge_quickbooks.taxes`)."""
    context: dict[str, Context] = {}
    if entity in ("invoice", "quote"):
        _note_tax_rates(api, records, context)
    if entity == "contact":
        key, fact = "ParentRef", "parent"
    elif entity in DOCUMENTS:
        key, fact = "CustomerRef", "customer"
    else:
        return context
    kinds = api.kinds(ref(r.get(key)) or "" for r in records)
    for record in records:
        target = ref(record.get(key))
        if target is not None and target in kinds:
            _note(context, record, **{fact: kinds[target]})
    return context


def _note_tax_rates(
    api: QuickBooksApi, records: list[dict[str, Any]], context: dict[str, Context]
) -> None:
    """``tax_rates``: ``{tax code id: percent}`` of the codes each document names."""
    used = {id(record): tax_codes_of(record) for record in records}
    wanted = {code for codes in used.values() for code in codes}
    if not wanted:
        return
    known = api.tax_codes(wanted)
    for record in records:
        found = {
            code: percent_text(known[code].rate) for code in used[id(record)] if code in known
        }
        if found:
            _note(context, record, tax_rates=found)


def tax_codes_of(record: Mapping[str, Any]) -> set[str]:
    """The tax codes (not the US pseudo codes) a document's lines and tax detail name."""
    found = line_tax_codes(record.get("Line"))
    tax = record.get("TxnTaxDetail")
    if isinstance(tax, Mapping) and (code := ref(tax.get("TxnTaxCodeRef"))) is not None:
        found.add(code)
    return found - PSEUDO_TAX_CODES


def _note(context: dict[str, Context], record: Mapping[str, Any], **facts: Any) -> None:
    context.setdefault(str(record.get("Id")), {}).update(facts)


def fetch_pages(
    api: QuickBooksApi, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    """The ``fetch`` hook's pages for ``entity``."""
    return Reader(api, entity).pages(since, query)
