"""Reading records: the declared searches, cursors stored by older versions, VAT rates.

Searchable entities are read by :data:`syncbridge_crmincloud.api.API` (the toolkit's ordered
incremental read and its cursor, ``<UTC instant>#<id>``). A Catalog item's category
description is looked up here (``map`` has no client to look it up) and given as the record's
context (``Page.context``, :data:`~syncbridge_crmincloud.mapping.CATEGORY`), and the same
context is given to every record a write returns (``UpsertResult.context``), so the engine
reads a record written by us exactly as it will read it back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from syncbridge import Client, ConnectorError, NativeRecord, Page, parse_instant
from syncbridge.records import Context
from syncbridge.rest import Cursor
from syncbridge_crmincloud import api, mapping
from syncbridge_crmincloud.categories import categories
from syncbridge_crmincloud.settings import settings_of

#: VAT rates: ``GET /TaxValue`` lists the codes, ``GET /TaxValue/{code}`` reads one
VAT_RATES = "/TaxValue"


def _categories_of(client: Client, records: list[NativeRecord]) -> dict[str, Context]:
    """``{id: {CATEGORY: description}}`` of the Catalog items that name a category the CRM
    knows (one request per category not read before on this connection)."""
    ids = {int(r["category"]) for r in records if r.get("category") not in (None, 0, "")}
    names = categories(client).descriptions(sorted(ids)) if ids else {}
    context: dict[str, Context] = {}
    for record in records:
        raw = record.get("category")
        name = names.get(int(raw)) if raw not in (None, 0, "") else None
        if name is not None:
            context[str(record.get("id"))] = {mapping.CATEGORY: name}
    return context


def context_of(client: Client, entity: str, records: list[NativeRecord]) -> dict[str, Context]:
    """The context ``map`` needs of each record, by id: a Catalog item's category
    description (:data:`~syncbridge_crmincloud.mapping.CATEGORY`); nothing for the others."""
    return _categories_of(client, records) if entity == "product" and records else {}


@dataclass(frozen=True)
class LegacyCursor:
    """A cursor stored by connector versions up to 0.1: ``<lastModifiedDate>|<ids>``, the
    newest instant read in the API's notation and the ids read at exactly that instant
    (``2024-03-05T14:03:27.512Z|1842,1843``).

    It is read as what it meant: the records at or after that instant, except those ids at
    that instant. The toolkit's read starts at the instant ("at or after", the new form
    without an id) and this drops the records it names, so nothing is skipped and nothing
    read before is read again; the pages carry cursors of the new form, which the engine
    stores in its place. (Its ids cannot become the new form's one id: that skips every id
    below it at the instant, which the old cursor did not.)
    """

    at: datetime
    ids: frozenset[str]

    @classmethod
    def parse(cls, since: str | None) -> LegacyCursor | None:
        """The legacy cursor ``since`` stands for, or None when it is of the new form."""
        if not since or "|" not in since:
            return None
        stamp, _bar, ids = since.rpartition("|")
        try:
            at = parse_instant(stamp)
        except ValueError:
            raise ConnectorError(
                f"cannot read changes since {since!r}: the instant before '|' is no "
                "timestamp; run once with --full to start over"
            ) from None
        return cls(at, frozenset(rid.strip() for rid in ids.split(",") if rid.strip()))

    @property
    def start(self) -> str:
        """The toolkit's cursor to read from: the instant, at or after."""
        return str(Cursor(self.at))

    def read_before(self, record: NativeRecord) -> bool:
        """Whether the run that stored this cursor read ``record`` as it is now."""
        if str(record.get("id")) not in self.ids:
            return False
        stamp = record.get(api.MODIFIED)
        try:
            return stamp is not None and parse_instant(stamp) == self.at
        except ValueError:
            return False


def _changes(client: Client, entity: str, since: str | None) -> Iterator[Page]:
    legacy = LegacyCursor.parse(since)
    if legacy is None:
        yield from api.API.fetch(client, entity, since, {})
        return
    for page in api.API.fetch(client, entity, legacy.start, {}):
        fresh = [record for record in page.records if not legacy.read_before(record)]
        yield replace(page, records=fresh)


def _vat_rates(client: Client, codes: list[str] | None, page_size: int) -> Iterator[Page]:
    """VAT rates have neither search nor timestamps: every read lists the codes (unless it
    names them) and reads each; a code the CRM does not know is left out."""
    if codes is None:
        listed = api.ERRORS.get(client, VAT_RATES)
        if not isinstance(listed, list):
            raise ConnectorError(f"{api.SYSTEM} answered GET {VAT_RATES} without a list of codes")
        codes = [str(code) for code in listed]
    for start in range(0, len(codes), page_size):
        records = []
        for code in codes[start : start + page_size]:
            path = f"{VAT_RATES}/{quote(code, safe='')}"
            _response, record = api.ERRORS.read(client, path, missing_ok=True)
            if isinstance(record, dict):
                records.append(record)
        yield Page(records)


def fetch_pages(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    """The ``fetch`` hook: ``query["ids"]`` reads those only; otherwise changes since ``since``."""
    ids = query.get("ids")
    wanted = None if ids is None else [str(rid) for rid in dict.fromkeys(ids)]
    if entity == "vat_rate":
        return _vat_rates(client, wanted, settings_of(client).page_size)
    pages = (
        api.API.fetch(client, entity, None, {"ids": wanted})
        if wanted is not None
        else _changes(client, entity, since)
    )
    return (
        replace(page, context={**page.context, **context_of(client, entity, page.records)})
        for page in pages
    )
