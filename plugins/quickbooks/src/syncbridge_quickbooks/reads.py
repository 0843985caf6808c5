"""``fetch``: full reads by query, incremental reads by change data capture, and the fallback.

* **Everything** (no cursor): ``SELECT * FROM X ORDERBY Id STARTPOSITION n MAXRESULTS m``,
  page after page until a short page.
* **Changes since a cursor**: ``GET /cdc?entities=X&changedSince=cursor``. Deleted objects come
  back as ``status="Deleted"`` stubs and are reported in ``Page.deleted``; name-list objects
  (customers, items, payment methods) are never deleted in QuickBooks, only made inactive, so
  an inactive one is reported as deleted too (a full read no longer sees it either).
* **Fallback**: CDC looks back at most 30 days and returns at most 1000 objects, so an older
  cursor, or an answer that may have been cut at the cap, is read again with
  ``WHERE Metadata.LastUpdatedTime >= cursor`` queries (name lists with ``Active IN (true,
  false)`` so deactivations are still seen). Deletions of transactions are not visible to
  queries: a run with ``--full`` finds them (the engine treats records a full read no longer
  sees as gone).

The cursor is the server's ``time`` of the first answer of the read, cut to whole seconds
(``LastUpdatedTime`` has whole seconds, the envelope milliseconds): anything changed after the
read began is at or after it, and ``>=`` re-reads the boundary second rather than missing it.
It is never the newest ``LastUpdatedTime`` seen: during a paged read, a record changed on an
earlier page would be stamped before the newest record of a later page, and skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from syncbridge.errors import ConnectorError
from syncbridge.records import Context, Page
from syncbridge_quickbooks import query as q
from syncbridge_quickbooks.api import QuickBooksApi
from syncbridge_quickbooks.entities import DOCUMENTS, ENTITIES, PARTIES, TAX_RATE
from syncbridge_quickbooks.native import instant, ref, updated_at
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


def cursor_of(time: str | None, fallback: str | None) -> str | None:
    """The envelope time cut to whole seconds (the previous cursor when there is none)."""
    moment = instant(time)
    if moment is None:
        return fallback
    return moment.replace(microsecond=0).isoformat()


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
        if self.entity == "vat_rate":
            yield self.vat_rates()
        elif ids:
            yield self.page(self.api.by_ids(self.qbo, [str(i) for i in ids]), None)
        elif since is None:
            yield from self.everything()
        elif self.qbo.cdc and self.within_cdc(since):
            yield from self.captured(since)
        else:
            yield from self.queried(since)

    def everything(self) -> Iterator[Page]:
        cursor = None
        for rows, at in self.api.pages(self.qbo, []):
            cursor = cursor or cursor_of(at, None)
            yield self.page(rows, cursor)

    def within_cdc(self, since: str) -> bool:
        moment = instant(since)
        if moment is None or moment.tzinfo is None:
            return False
        reach = timedelta(days=self.api.settings.cdc_max_days) - _CDC_MARGIN
        return datetime.now(UTC) - moment < reach

    def captured(self, since: str) -> Iterator[Page]:
        rows, at = self.api.changes(self.qbo, since)
        if len(rows) >= self.api.settings.cdc_max_objects:
            # the answer may be cut at CDC's cap: read the same window by query instead
            yield from self.queried(since)
            return
        yield self.page(rows, cursor_of(at, since))

    def queried(self, since: str) -> Iterator[Page]:
        where = [q.changed_since(since)]
        if self.qbo.name_list:
            where.append(q.ANY_ACTIVE)
        cursor = None
        for rows, at in self.api.pages(self.qbo, where, order_by="Metadata.LastUpdatedTime"):
            cursor = cursor or cursor_of(at, since)
            yield self.page(rows, cursor)

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
        if cursor is None and records:
            stamps = [moment for r in records if (moment := updated_at(r)) is not None]
            cursor = max(stamps).isoformat() if stamps else None
        return Page(records=records, cursor=cursor, deleted=deleted, context=context)

    def vat_rates(self) -> Page:
        """Every active tax code that has sales rates (or none at all: a 0 % code)."""
        rates: dict[str, Decimal] = {}
        for rows, _at in self.api.pages(TAX_RATE, [q.ANY_ACTIVE]):
            for row in rows:
                rates[str(row.get("Id"))] = Decimal(str(row.get("RateValue") or 0))
        records = []
        context: dict[str, Context] = {}
        cursor = None
        for rows, at in self.api.pages(self.qbo, []):
            cursor = cursor or cursor_of(at, None)
            for row in rows:
                sales = rate_ids(row.get("SalesTaxRateList"))
                if not sales and rate_ids(row.get("PurchaseTaxRateList")):
                    continue  # a purchase-only code is no VAT rate a sale can carry
                _note(context, row, rate=percent_text(sales_rate(row, rates)))
                records.append(row)
        return Page(records=records, cursor=cursor, context=context)


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
