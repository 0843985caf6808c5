"""Reading records: anchored paging for searchable entities, one by one for VAT rates.

Catalog items are completed here with their category's description (``map`` has no client
to look it up), and the same completion is applied to every record a write returns, so the
engine hashes a record written by us exactly as it will read it back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from syncbridge.errors import ConnectorError
from syncbridge.http import Client
from syncbridge.records import NativeRecord, Page
from syncbridge_crmincloud import api, mapping
from syncbridge_crmincloud.categories import categories
from syncbridge_crmincloud.settings import settings_of

#: VAT rates: ``GET /TaxValue`` lists the codes, ``GET /TaxValue/{code}`` reads one
VAT_RATES = "/TaxValue"


def _with_categories(client: Client, records: list[NativeRecord]) -> list[NativeRecord]:
    """Catalog records with :data:`~syncbridge_crmincloud.mapping.CATEGORY_KEY` filled in."""
    ids = {int(r["category"]) for r in records if r.get("category") not in (None, 0, "")}
    names = categories(client).descriptions(sorted(ids)) if ids else {}
    enriched = []
    for record in records:
        raw = record.get("category")
        name = names.get(int(raw)) if raw not in (None, 0, "") else None
        enriched.append({**record, mapping.CATEGORY_KEY: name})
    return enriched


def prepared(client: Client, entity: str, records: list[NativeRecord]) -> list[NativeRecord]:
    """``records`` as ``map`` expects them: Catalog items with their category description."""
    return _with_categories(client, records) if entity == "product" else records


def _vat_rates(client: Client, page_size: int) -> Iterator[Page]:
    codes = api.get_json(client, VAT_RATES)
    if not isinstance(codes, list):
        raise ConnectorError(f"{VAT_RATES}: expected a JSON array of tax codes")
    for start in range(0, len(codes), page_size):
        records = []
        for code in codes[start : start + page_size]:
            record = api.get_record(client, f"{VAT_RATES}/{code}")
            if record is not None:
                records.append(record)
        yield Page(records)


def _by_ids(client: Client, entity: str, ids: list[str]) -> Iterator[Page]:
    if entity == "vat_rate":
        paths = [f"{VAT_RATES}/{code}" for code in ids]
    else:
        paths = [api.endpoints_for(entity).get.format(id=int(rid)) for rid in ids]
    records = [record for path in paths if (record := api.get_record(client, path)) is not None]
    yield Page(prepared(client, entity, records))


def fetch_pages(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    """The ``fetch`` hook: ``query["ids"]`` reads those only; otherwise changes since ``since``."""
    page_size = settings_of(client).page_size
    ids = query.get("ids")
    if ids:
        return _by_ids(client, entity, [str(rid) for rid in ids])
    if entity == "vat_rate":
        return _vat_rates(client, page_size)
    endpoints = api.endpoints_for(entity)
    return (
        Page(prepared(client, entity, records), cursor=cursor)
        for records, cursor in api.pages_since(client, endpoints, since, page_size)
    )
