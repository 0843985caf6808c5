"""Writing records: ``CreateOrUpdate`` per record, the key custom field, deletes.

The API has no batch endpoint and no sparse update: a create sends the new record with the
engine's idempotency key in the key custom field; an update sends the stored record back
whole with the changes applied (``mapping.merge_for_update``), so nothing this connector does
not map is lost. ``CreateOrUpdate`` answers only the id, and the engine needs the record as
stored, so the records are read back, like the stored records of the updates beforehand, with
one search per :data:`READ_IDS` ids (``id eq 1 or id eq 2 ...``) for the whole batch the
engine hands over, rather than one ``Get`` per record: a create costs one request and a
share of a search, not two.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from syncbridge.errors import ConnectorError
from syncbridge.http import Client
from syncbridge.records import NativeRecord, UpsertItem, UpsertResult
from syncbridge_crmincloud import api, mapping
from syncbridge_crmincloud.categories import categories
from syncbridge_crmincloud.reads import prepared
from syncbridge_crmincloud.settings import settings_of

#: items the engine hands to one ``upsert`` call: the records of one batch are read back (and
#: the stored records of its updates read beforehand) together
BATCH_SIZE = 40
#: ids asked per search: ``id eq 1 or id eq 2 ...`` stays a short URL (well under 1 KB)
READ_IDS = 40


def stored_records(client: Client, entity: str, ids: Iterable[int]) -> dict[int, NativeRecord]:
    """The stored records of ``ids``, as the searches that read them return them, by id;
    an id the CRM does not have is left out. One search per :data:`READ_IDS` ids."""
    endpoints = api.endpoints_for(entity)
    wanted = list(dict.fromkeys(ids))
    found: dict[int, NativeRecord] = {}
    for start in range(0, len(wanted), READ_IDS):
        part = wanted[start : start + READ_IDS]
        filter_ = " or ".join(f"id eq {record_id}" for record_id in part)
        for record in api.search(client, endpoints, filter_, top=len(part)):
            record_id = record.get("id")
            if isinstance(record_id, int) and record_id in part:
                found[record_id] = record
    return found


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
    if entity == "product" and mapping.CATEGORY_KEY in changes:
        description = changes.pop(mapping.CATEGORY_KEY)
        if item.is_create or not item.changed or "category" in item.changed:
            # (an update that leaves the category as it is keeps the stored id: no lookup)
            changes["category"] = categories(client).id_for(description) if description else None
    if item.is_create:
        if key_field is not None:
            changes[key_field] = item.key
        if entity == "product":
            changes.setdefault("active", 1)
        return changes
    endpoints = api.endpoints_for(entity)
    if current is None:
        raise api.ApiError(
            404, f"{endpoints.entity} {item.id} does not exist in CRM in Cloud (deleted there?)"
        )
    return {**mapping.merge_for_update(current, changes), "id": int(str(item.id))}


def _update_ids(items: list[UpsertItem]) -> list[int]:
    ids = []
    for item in items:
        if item.id is not None and str(item.id).isdigit():
            ids.append(int(item.id))
    return ids


def _upsert(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    settings = settings_of(client)
    endpoints = api.endpoints_for(entity)
    unreadable: str | None = None
    try:
        currents = stored_records(client, entity, _update_ids(items))
    except api.ApiError as error:  # the updates cannot be prepared; the creates can
        currents, unreadable = {}, error.message
    done: list[UpsertResult | tuple[UpsertItem, int]] = []  # in the items' order
    for item in items:
        try:
            if not item.is_create and unreadable is not None:
                raise api.ApiError(0, unreadable)
            current = None if item.is_create else currents.get(int(str(item.id)))
            body = _body(client, entity, item, settings.key_field, current)
            done.append((item, api.save(client, endpoints, body)))
        except api.ApiError as error:
            done.append(UpsertResult.failed(item.key, error.message, id=item.id))
        except ValueError as error:  # an id that is not a number, a price too precise
            done.append(UpsertResult.failed(item.key, str(error), id=item.id))
    saved = [entry[1] for entry in done if isinstance(entry, tuple)]
    try:
        stored = stored_records(client, entity, saved)
    except api.ApiError:
        # the writes happened: report them (a failure would make the engine create them
        # again); without the stored records the engine hashes what it sent
        stored = {}
    records = dict(zip(stored, prepared(client, entity, list(stored.values())), strict=True))
    for entry in done:
        if isinstance(entry, UpsertResult):
            yield entry
        else:
            item, record_id = entry
            yield UpsertResult(key=item.key, id=str(record_id), record=records.get(record_id))


def upsert_items(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """The ``upsert`` hook: one ``CreateOrUpdate`` per item, the reads shared (see above)."""
    if entity == "vat_rate":
        raise ConnectorError(
            "crmincloud does not write VAT rates: create the TaxValue in the CRM (Setup) "
            "and the sync links it by value"
        )
    return _upsert(client, entity, items)


#: keys asked per search: ``k eq 'a' or k eq 'b' ...`` stays a short URL (about 2 KB)
LOOKUP_KEYS = 40


def lookup_keys(client: Client, entity: str, keys: list[str]) -> dict[str, str]:
    """The ``lookup`` hook: searches on the key custom field, :data:`LOOKUP_KEYS` keys a
    request (crash recovery after a big run may ask for a thousand keys, at 40 requests a
    minute). Errors propagate: an unanswered key must not read as a create that made nothing.
    """
    key_field = settings_of(client).key_field
    if key_field is None or entity not in api.ENDPOINTS:
        return {}
    endpoints = api.endpoints_for(entity)
    wanted = list(dict.fromkeys(keys))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), LOOKUP_KEYS):
        part = wanted[start : start + LOOKUP_KEYS]
        filter_ = " or ".join(f"{key_field} eq {api.odata_string(key)}" for key in part)
        skip = 0
        while True:  # a key is unique, but page anyway: never miss one
            records = api.search(client, endpoints, filter_, top=100, skip=skip)
            for record in records:
                key, rid = record.get(key_field), record.get("id")
                if key in part and rid and (key not in found or int(rid) < int(found[key])):
                    found[key] = str(rid)
            if len(records) < 100:
                break
            skip += len(records)
    return found


def _delete(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    endpoints = api.endpoints_for(entity)
    for rid in ids:
        try:
            response = client.delete(endpoints.delete.format(id=int(rid)))
            if response.status_code != 404:  # already gone is what was asked
                api.checked(response)
        except api.ApiError as error:
            yield UpsertResult.failed(rid, error.message, id=rid)
            continue
        except ValueError:
            yield UpsertResult.failed(rid, f"{rid!r} is not a CRM in Cloud id", id=rid)
            continue
        yield UpsertResult(key=rid, id=rid)


def delete_ids(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    """The ``delete`` hook; a record already gone counts as deleted."""
    if entity == "vat_rate":
        raise ConnectorError("crmincloud does not delete VAT rates")
    return _delete(client, entity, ids)
