"""Writing records: ``CreateOrUpdate`` per record, the key custom field, lookup, deletes.

The API has no batch endpoint and no sparse update: a create sends the new record with the
engine's idempotency key in the key custom field; an update sends the stored record back
whole with the changes applied (``mapping.merge_for_update``), so nothing this connector does
not map is lost. ``CreateOrUpdate`` answers only the id, and the engine needs the record as
stored, so the records are read back, like the stored records of the updates beforehand, with
one search per :data:`~syncbridge_crmincloud.api.IDS_PER_SEARCH` ids (``id eq 1 or id eq 2
...``) for the whole batch the engine hands over, rather than one ``Get`` per record: a create
costs one request and a share of a search, not two.

Every failure is the record's own (:meth:`~syncbridge.rest.ErrorMap.write`): a refusal with
the API's message, or, when the connection dropped or the answer cannot be read, "it may have
been written" (the engine's outbox looks the key up next run). Only refused credentials end
the batch. A search that fails fails the updates it was to prepare (before) or leaves the
records out of the results (after: the writes happened, the engine hashes what it sent).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx

from syncbridge import (
    AuthError,
    Client,
    ConnectorError,
    NativeRecord,
    UpsertItem,
    UpsertResult,
)
from syncbridge.records import Context
from syncbridge.rest import outcome_unknown
from syncbridge_crmincloud import api, mapping
from syncbridge_crmincloud.categories import categories
from syncbridge_crmincloud.reads import context_of
from syncbridge_crmincloud.settings import settings_of

#: items the engine hands to one ``upsert`` call: the records of one batch are read back (and
#: the stored records of its updates read beforehand) together
BATCH_SIZE = 40
#: keys asked per lookup search: ``k eq 'a' or k eq 'b' ...`` stays a short URL (about 2 KB)
LOOKUP_KEYS = api.IDS_PER_SEARCH


def _body(
    client: Client,
    entity: str,
    item: UpsertItem,
    key_field: str | None,
    current: NativeRecord | None,
) -> NativeRecord:
    """The JSON object to send for ``item``: a new record, or ``current`` with the changes."""
    changes = dict(item.record)
    changes.pop("id", None)
    if entity == "product" and mapping.CATEGORY in item.context:
        description = item.context[mapping.CATEGORY]
        if item.is_create or not item.changed or "category" in item.changed:
            # (an update that leaves the category as it is keeps the stored id: no lookup)
            changes["category"] = categories(client).id_for(description) if description else None
    if item.is_create:
        if key_field is not None:
            changes[key_field] = item.key
        if entity == "product":
            changes.setdefault("active", 1)
        return changes
    assert current is not None
    return {**mapping.merge_for_update(current, changes), "id": int(str(item.id))}


def _write(
    client: Client,
    entity: str,
    item: UpsertItem,
    currents: dict[int, NativeRecord],
    unreadable: str | None,
) -> UpsertResult:
    """Send one item; every failure but refused credentials is its own result."""
    current = None
    if not item.is_create:
        record_id = str(item.id)
        if not record_id.isdigit():
            return UpsertResult.failed(item.key, f"{record_id!r} is not a CRM in Cloud id", item.id)
        if unreadable is not None:
            why = f"its stored record could not be read first: {unreadable}"
            return UpsertResult.failed(item.key, why, item.id)
        current = currents.get(int(record_id))
        if current is None:
            name = api.endpoints_for(entity).entity
            missing = f"{name} {record_id} does not exist in CRM in Cloud (deleted there?)"
            return UpsertResult.failed(item.key, missing, item.id)
    try:
        body = _body(client, entity, item, settings_of(client).key_field, current)
        return api.save(client, entity, item, body)
    except AuthError:
        raise
    except ConnectorError as error:  # its category cannot be found or created
        return UpsertResult.failed(item.key, str(error), item.id)
    except ValueError as error:  # a price with more digits than a JSON number carries
        return UpsertResult.failed(item.key, str(error), item.id)


def _stored(
    client: Client, entity: str, ids: list[int]
) -> tuple[dict[int, NativeRecord], dict[str, Context]]:
    """The written records as the CRM stores them, and their context as ``fetch`` gives it;
    none if they cannot be read (the writes happened all the same: their results must reach
    the engine)."""
    try:
        stored = api.stored_records(client, entity, ids)
        return stored, context_of(client, entity, list(stored.values()))
    except (ConnectorError, httpx.HTTPError):
        return {}, {}


def _settled(
    client: Client, entity: str, items: list[UpsertItem], results: list[UpsertResult]
) -> list[UpsertResult]:
    """``results``, with the creates whose outcome is unknown looked up by their key at once
    (one search for the batch's): one found was made, and is reported so.

    A key not found is left unknown rather than taken as a create that made nothing: after
    a timeout the CRM may still be saving it. Left to the engine's outbox, as is every one
    when the search fails too.
    """
    unknown = [
        item.key
        for item, result in zip(items, results, strict=True)
        if item.is_create and outcome_unknown(result)
    ]
    if not unknown or settings_of(client).key_field is None:
        return results
    try:
        found = lookup_keys(client, entity, unknown)
    except ConnectorError:
        return results
    return [
        UpsertResult(key=result.key, id=found[result.key]) if result.key in found else result
        for result in results
    ]


def _upsert(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    updates = [int(str(i.id)) for i in items if not i.is_create and str(i.id).isdigit()]
    currents: dict[int, NativeRecord] = {}
    unreadable: str | None = None
    try:
        currents = api.stored_records(client, entity, updates)
    except AuthError:
        raise
    except ConnectorError as error:  # the updates cannot be prepared; the creates can
        unreadable = str(error)
    sent = [_write(client, entity, item, currents, unreadable) for item in items]
    results = _settled(client, entity, items, sent)
    written = {
        result.key: int(result.id)
        for result in results
        if result.ok and result.id is not None and result.id.isdigit()
    }
    records, contexts = _stored(client, entity, list(written.values())) if written else ({}, {})
    key_field = settings_of(client).key_field
    creates = {item.key for item in items if item.is_create}
    for result in results:
        record = records.get(written[result.key]) if result.key in written else None
        if record is None:
            yield result
        elif key_field is not None and result.key in creates and record.get(key_field) not in (
            result.key,
            None,
        ):
            # the answer named a record another create made (an id garbled on the way): the
            # create's own record is looked for by its key next run
            yield UpsertResult.failed(
                result.key,
                f"the answer named record {result.id}, which carries another create's key; "
                "it may have been written: the next run checks before sending it again",
                unknown=True,
            )
        else:
            context = contexts.get(str(written[result.key]), {})
            yield replace(result, record=record, context=context)


def upsert_items(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """The ``upsert`` hook: one ``CreateOrUpdate`` per item, the reads shared (see above)."""
    if entity == "vat_rate":
        raise ConnectorError(
            "crmincloud does not write VAT rates: create the TaxValue in the CRM (Setup) "
            "and the sync links it by value"
        )
    api.endpoints_for(entity)
    return _upsert(client, entity, items)


def lookup_keys(client: Client, entity: str, keys: list[str]) -> dict[str, str]:
    """The ``lookup`` hook: searches on the key custom field, :data:`LOOKUP_KEYS` keys a
    request (crash recovery after a big run may ask for a thousand keys, at 40 requests a
    minute), each answered by one page unless keys repeat.

    All or nothing: when any search fails, a ConnectorError says why and nothing is
    returned, since a key left out is taken for a create that made nothing (the engine holds
    the creates and asks again next run). A key on several records (never written so by this
    connector) gives the oldest.
    """
    key_field = settings_of(client).key_field
    if key_field is None:  # creates carry no key: configure() declared no lookup
        return {}
    wanted = list(dict.fromkeys(keys))
    found: dict[str, int] = {}
    try:
        for start in range(0, len(wanted), LOOKUP_KEYS):
            part = wanted[start : start + LOOKUP_KEYS]
            asked = set(part)
            filter_ = api.any_of(key_field, (api.odata_string(key) for key in part))
            for record in api.search(client, entity, filter_):
                key, record_id = record.get(key_field), record.get("id")
                if not isinstance(key, str) or key not in asked:
                    continue
                if isinstance(record_id, bool) or not isinstance(record_id, int):
                    raise ConnectorError(
                        f"{api.SYSTEM} answered a search by {key_field} with a record without "
                        f"an id ({record_id!r})"
                    )
                if key not in found or record_id < found[key]:
                    found[key] = record_id
    except httpx.HTTPError as error:  # what the error map has not already translated
        reason = f"{api.SYSTEM} could not be asked for {entity} keys: {error}"
        raise ConnectorError(reason) from None
    return {key: str(record_id) for key, record_id in found.items()}


def delete_ids(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    """The ``delete`` hook; a record already gone counts as deleted."""
    if entity == "vat_rate":
        raise ConnectorError("crmincloud does not delete VAT rates")
    api.endpoints_for(entity)
    return (api.delete(client, entity, str(record_id)) for record_id in ids)
