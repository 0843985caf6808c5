"""Reading records: the ``sync`` feed, reads by id, invoices whole, and their currency.

Every entity is read through its module's ``sync`` resource (:func:`api.changes`): a full
read is a sync from ``modifiedTime=0``, an incremental one from the toolkit's cursor.
``fetch(query={"ids": [...]})`` (``syncbridge run --record``, the "Sync to Dinero" of one
record) reads those ids with one ``query`` per 100. Invoices are the exception on both paths:
neither ``sync`` nor ``query`` carries their ``LineItems``, so each invoice is read whole with
``retrieve`` (the one operation that returns them). Records deleted since the cursor (in the
CRM's recycle bin) come as ``Page.deleted``, which ``sync`` lists beside the changes. An
invoice deleted between the two reads is left out; one that cannot be read gets an
``{"error": ...}`` context, so that ``map`` fails that record alone.

The invoice's currency is a ``currency_id`` (``21x1``); its ISO code comes from the
``Currency`` entity, read once per connection (:class:`Currencies`), and goes to ``map`` as
the record's context.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from syncbridge import AuthError, Client, ConnectorError, NativeRecord, Page
from syncbridge.records import Context
from syncbridge_simplycrm import api, mapping
from syncbridge_simplycrm.settings import settings_of


@dataclass
class Currencies:
    """The CRM's currencies: ``currency_id`` <-> ISO code (one query per connection)."""

    codes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, client: Client) -> Currencies:
        rows = api.query(client, "SELECT * FROM Currency;")
        return cls({str(row.get("id")): str(row.get("currency_code") or "") for row in rows})

    def code(self, currency_id: Any) -> str | None:
        return self.codes.get(str(currency_id)) or None

    def id_for(self, code: str) -> str | None:
        for currency_id, known in self.codes.items():
            if known == code:
                return currency_id
        return None


def currencies(client: Client) -> Currencies:
    return client.resource("simplycrm.currencies", lambda: Currencies.read(client))


def context_of(client: Client, entity: str, records: list[NativeRecord]) -> dict[str, Context]:
    """What ``map`` needs beside each record: an invoice's currency code."""
    if entity != "invoice" or not records:
        return {}
    known = currencies(client)
    context: dict[str, Context] = {}
    for record in records:
        code = known.code(record.get("currency_id"))
        if code:
            context[str(record.get("id"))] = {mapping.CURRENCY: code}
    return context


def _whole(client: Client, page: Page) -> Page:
    """An invoice page with each invoice read whole (``retrieve``)."""
    records: list[NativeRecord] = []
    failed: dict[str, Context] = {}
    for row in page.records:
        native_id = str(row.get("id"))
        try:
            whole = api.retrieve(client, native_id)
        except AuthError:
            raise
        except ConnectorError as error:
            records.append(row)
            failed[native_id] = {"error": f"its LineItems could not be read: {error}"}
            continue
        if whole is not None:
            records.append(whole)
    context = {**context_of(client, "invoice", records), **failed}
    return replace(page, records=records, context={**page.context, **context})


def fetch_pages(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    """The ``fetch`` hook: ``query["ids"]`` reads those only; otherwise changes since ``since``."""
    module = mapping.MODULES[entity]
    ids = query.get("ids")
    if ids is not None:
        wanted = [str(native_id) for native_id in dict.fromkeys(ids)]
        pages = api.by_ids(module).fetch(client, api.ERRORS, None, {"ids": wanted})
    else:
        sync_type = settings_of(client).sync_type
        feed = api.changes(module, sync_type)
        pages = feed.fetch(client, api.ERRORS, since, {})
    for page in pages:
        yield _whole(client, page) if entity == "invoice" else page
