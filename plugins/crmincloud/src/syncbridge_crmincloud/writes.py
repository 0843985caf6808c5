"""Writing records: ``CreateOrUpdate`` per record, the key custom field, deletes.

The API has no batch endpoint and no sparse update: a create sends the new record with the
engine's idempotency key in the key custom field; an update reads the stored record and
sends it back whole with the changes applied (``mapping.merge_for_update``), so nothing this
connector does not map is lost. Every write is followed by a ``Get``: the answer of
``CreateOrUpdate`` is only the id, and the engine needs the record as stored.
"""

from __future__ import annotations

from collections.abc import Iterator

from syncbridge.errors import ConnectorError
from syncbridge.http import Client
from syncbridge.records import NativeRecord, UpsertItem, UpsertResult
from syncbridge_crmincloud import api, mapping
from syncbridge_crmincloud.categories import categories
from syncbridge_crmincloud.reads import prepared
from syncbridge_crmincloud.settings import settings_of


def _stored(client: Client, entity: str, record_id: int) -> NativeRecord:
    endpoints = api.endpoints_for(entity)
    record = api.get_record(client, endpoints.get.format(id=record_id))
    if record is None:
        raise api.ApiError(404, f"{endpoints.entity} {record_id} was saved but cannot be read")
    return prepared(client, entity, [record])[0]


def _body(client: Client, entity: str, item: UpsertItem, key_field: str | None) -> NativeRecord:
    """The JSON object to send for ``item``: a new record, or the stored one with changes."""
    changes = dict(item.record)
    changes.pop("id", None)
    if entity == "product" and mapping.CATEGORY_KEY in changes:
        description = changes.pop(mapping.CATEGORY_KEY)
        changes["category"] = categories(client).id_for(description) if description else None
    if item.is_create:
        if key_field is not None:
            changes[key_field] = item.key
        if entity == "product":
            changes.setdefault("active", 1)
        return changes
    assert item.id is not None
    endpoints = api.endpoints_for(entity)
    current = api.get_record(client, endpoints.get.format(id=int(item.id)))
    if current is None:
        raise api.ApiError(
            404, f"{endpoints.entity} {item.id} does not exist in CRM in Cloud (deleted there?)"
        )
    current.pop(mapping.CATEGORY_KEY, None)
    return {**mapping.merge_for_update(current, changes), "id": int(item.id)}


def _upsert(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    settings = settings_of(client)
    endpoints = api.endpoints_for(entity)
    for item in items:
        try:
            body = _body(client, entity, item, settings.key_field)
            record_id = api.save(client, endpoints, body)
        except api.ApiError as error:
            yield UpsertResult.failed(item.key, error.message, id=item.id)
            continue
        except ValueError as error:  # an id that is not a number, a price too precise
            yield UpsertResult.failed(item.key, str(error), id=item.id)
            continue
        try:
            stored: NativeRecord | None = _stored(client, entity, record_id)
        except api.ApiError:
            # the write happened: report it (a failure would make the engine create it
            # again); without the stored record the engine hashes what it sent
            stored = None
        yield UpsertResult(key=item.key, id=str(record_id), record=stored)


def upsert_items(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """The ``upsert`` hook: one ``CreateOrUpdate`` (and ``Get``) per item."""
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
