"""Writing to Fatture in Cloud: one ``POST``/``PUT`` ``{"data": {...}}`` per record (the API has
no batch endpoint), deletes, and what a write needs that a mapping cannot know.

The spec allows no ``null`` in request bodies, so creates leave empty fields out and updates
send ``""`` for a string field that was cleared (other empty fields are left as they are).
Updates of documents never send ``payments_list``: payments are recorded in Fatture in Cloud
(by the user or the bank reconciliation) and replacing them would erase them. Invoice writes
ask ``options.fix_payments``, so that the instalments follow a changed total instead of the
write being refused.

Every answer is the connection's error map's to read (:func:`.api.errors_for`): a refused
record, an answer that cannot be read, or no answer at all is that record's failure (the
last two saying it may have been written: the engine checks before sending it again), never
the entity's; refused credentials and a used-up quota end the entity. A lookup the body
needs (:mod:`.lookups`) that fails is the record's failure too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from syncbridge import AuthError, Client, ConnectorError, NativeRecord, UpsertItem, UpsertResult
from syncbridge.rest import one_line
from syncbridge_fattureincloud import documents, mapping
from syncbridge_fattureincloud.api import fic
from syncbridge_fattureincloud.lookups import Lookups

#: the writable entities
WRITABLE = frozenset({"company", "product", *documents.FIELDS})


def clean(record: NativeRecord, create: bool, clearable: frozenset[str]) -> NativeRecord:
    """The body's ``data``: no nulls (see the module docstring)."""
    out: NativeRecord = {}
    for key, value in record.items():
        if value is not None:
            out[key] = value
        elif not create and key in clearable:
            out[key] = ""
    return out


def document(client: Client, lookups: Lookups, native: NativeRecord) -> NativeRecord:
    """A mapped document with its client's details, its payment method's name and the VAT
    type of each line that carries only a percentage."""
    out = dict(native)
    entity = out.get("entity") or {}
    if entity.get("id") is None:
        raise ValueError("a Fatture in Cloud document needs its client (entity.id)")
    out["entity"] = {**lookups.entity(client, int(entity["id"])), **entity}
    if isinstance(out.get("payment_method"), dict):
        out["payment_method"] = lookups.payment_method(client, int(out["payment_method"]["id"]))
    items = []
    for item in out.get("items_list") or []:
        vat = item.get("vat")
        if isinstance(vat, dict) and vat.get("id") is None and vat.get("value") is not None:
            item = {**item, "vat": {"id": lookups.vat_id(client, float(vat["value"]))}}
        items.append(item)
    out["items_list"] = items
    return out


def body(client: Client, lookups: Lookups, entity: str, item: UpsertItem) -> dict[str, Any]:
    """The request body of ``item``."""
    if entity in documents.FIELDS:
        data = clean(document(client, lookups, item.record), item.is_create, documents.CLEARABLE)
        if not item.is_create:
            data.pop("payments_list", None)
        sent: dict[str, Any] = {"data": data}
        if entity == "invoice":
            # the instalments must add up to the new total: let Fatture in Cloud adjust them
            sent["options"] = {"fix_payments": True}
        return sent
    data = clean(item.record, item.is_create, mapping.CLEARABLE.get(entity, frozenset()))
    keys = mapping.NATIVE_KEYS.get(entity, {})
    if not item.is_create and item.changed and item.changed <= keys.keys():
        # (the name is required in every modify body: sent as read)
        wanted = {"name", *(key for name in item.changed for key in keys[name])}
        data = {key: value for key, value in data.items() if key in wanted}
    vat = data.get("default_vat")
    if isinstance(vat, dict) and vat.get("id") is not None and vat.get("value") is None:
        data["default_vat"] = lookups.vat_type(client, int(vat["id"]))
    return {"data": data}


def upsert_items(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """POST creates and PUT updates, one request each, one result each (see the module
    docstring for what fails a record and what ends the entity)."""
    if entity not in WRITABLE:
        raise ConnectorError(f"fattureincloud cannot write {entity!r} (read-only)")
    context = fic(client)
    resource = context.api.resource(entity)
    for item in items:
        try:
            sent = body(client, context.lookups, entity, item)
        except AuthError:
            raise
        except (ValueError, ConnectorError) as error:
            yield UpsertResult.failed(item.key, one_line(str(error)), item.id)
            continue
        if item.id is None:
            method, path = "POST", resource.path
        else:
            method, path = "PUT", resource.item_path(item.id)
        result = context.errors.write(client, item, method, path, json=sent, record="data")
        if entity == "company" and result.record is not None:
            context.lookups.learn([result.record])
        yield result


def delete_ids(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    """DELETE each record; one already gone counts as deleted."""
    if entity not in WRITABLE:
        raise ConnectorError(f"fattureincloud cannot delete {entity!r} (read-only)")
    context = fic(client)
    resource = context.api.resource(entity)
    for native_id in ids:
        gone = UpsertItem(key=native_id, record={}, id=native_id)
        result = context.errors.write(
            client, gone, "DELETE", resource.item_path(native_id), missing_ok=True
        )
        if entity == "company" and result.ok:
            context.lookups.forget(native_id)
        yield result
