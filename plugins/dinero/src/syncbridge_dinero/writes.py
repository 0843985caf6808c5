"""Writing Dinero: contacts, products and invoices, one request per create.

* **Creates** carry the engine's idempotency key in ``ExternalReference`` (every one of
  these models has it), which is what :func:`lookup_keys` searches after a crash.
* **Updates** replace the whole entity (Dinero's PUT), so the stored record is read first and
  the mapped fields are laid over it: what the mapping does not cover (EAN, payment terms,
  ``ExternalReference``) is kept. Invoices need that read anyway, for their ``TimeStamp``
  (the concurrency token the update must name); a booked invoice is refused before anything
  is sent, and an update that loses the race (error code 58, ``Timestamp`` outdated) fails
  that record with Dinero's message: the next run reads the invoice again.
* An invoice whose canonical status is past draft is **booked** after it is written
  (``POST /invoices/{guid}/book`` with the new ``TimeStamp``).
* Every failure goes through the error map: one record's, never the entity's, and a write
  whose answer was lost is reported as unknown for the outbox to check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx

from syncbridge import ConnectorError, NativeRecord, UpsertItem, UpsertResult
from syncbridge.rest import OutcomeUnknown
from syncbridge.rest.listing import plain_pages
from syncbridge_dinero import api
from syncbridge_dinero.settings import settings_of

#: the answer of a contact or product create names the new record so
_CREATED_ID = {"company": "ContactGuid", "contact": "ContactGuid", "product": "ProductGuid",
               "invoice": "Guid"}


def _path(client: httpx.Client, entity: str) -> str:
    return api.api_for(settings_of(client).organization_id).resource(entity).path


def _failed(item: UpsertItem, error: ConnectorError, guid: str | None = None) -> UpsertResult:
    return UpsertResult.failed(
        item.key, str(error), guid or item.id, unknown=isinstance(error, OutcomeUnknown)
    )


def _create(client: httpx.Client, entity: str, item: UpsertItem) -> UpsertResult:
    body = {**item.record, "ExternalReference": api.reference_of(item.key)}
    result = api.ERRORS.write(
        client, item, "POST", _path(client, entity), content=api.encode(body),
        headers=api.JSON_HEADERS, id=_CREATED_ID[entity],
    )
    # the answer holds the id alone: the record as Dinero now holds it is what was sent
    return _as_stored(entity, result, body)


def _as_stored(entity: str, result: UpsertResult, body: NativeRecord) -> UpsertResult:
    """``result`` with the record Dinero stored: the body sent, under its id. Read back, it
    is what the next listing shows (``pcs`` sent as the unit ``parts``), so the engine's
    snapshot of the write is Dinero's own and the echo reads as unchanged."""
    if not result.ok or result.id is None:
        return replace(result, record=None)
    return replace(result, record={**body, _CREATED_ID[entity]: result.id})


def _update(client: httpx.Client, entity: str, item: UpsertItem) -> UpsertResult:
    assert item.id is not None
    path = f"{_path(client, entity)}/{item.id}"
    try:
        _response, current = api.ERRORS.read(client, path, missing_ok=True)
    except ConnectorError as error:
        return _failed(item, error)
    if not isinstance(current, dict):
        return UpsertResult.failed(item.key, f"{entity} {item.id} is no longer in Dinero", item.id)
    body = {**current, **item.record}  # read-model extras are dropped by Dinero's binding
    result = api.ERRORS.write(client, item, "PUT", path, content=api.encode(body),
                              headers=api.JSON_HEADERS)
    return _as_stored(entity, result, body)


def _book(client: httpx.Client, item: UpsertItem, guid: str, timestamp: str) -> UpsertResult:
    org = settings_of(client).organization_id
    try:
        api.ERRORS.send(
            client, "POST", f"{api.invoices_path(org)}/{guid}/book",
            content=api.encode({"Timestamp": timestamp}), headers=api.JSON_HEADERS,
        )
    except ConnectorError as error:
        # a create stays held (unknown) rather than failed: a failed create is sent again,
        # while a held one is found by lookup, linked, and booked by the next update
        return UpsertResult.failed(
            item.key, f"written as draft {guid}, but not booked: {error}", guid,
            unknown=item.id is None or isinstance(error, OutcomeUnknown),
        )
    return UpsertResult(key=item.key, id=guid)


def _write_invoice(client: httpx.Client, item: UpsertItem) -> UpsertResult:
    org = settings_of(client).organization_id
    path = api.invoices_path(org)
    try:
        if item.id is None:
            body = {**item.record, "ExternalReference": api.reference_of(item.key)}
            _response, answer = api.ERRORS.send(
                client, "POST", path, content=api.encode(body), headers=api.JSON_HEADERS
            )
        else:
            _response, current = api.ERRORS.read(client, f"{path}/{item.id}", missing_ok=True)
            if not isinstance(current, dict):
                return UpsertResult.failed(
                    item.key, f"invoice {item.id} is no longer in Dinero", item.id
                )
            if current.get("Status") != "Draft":
                return UpsertResult.failed(
                    item.key,
                    f"invoice {current.get('Number')} is booked: Dinero does not let it change "
                    "(credit it in Dinero instead)",
                    item.id,
                )
            body = {**item.record, "Timestamp": current.get("TimeStamp"),
                    "ExternalReference": current.get("ExternalReference")}
            _response, answer = api.ERRORS.send(
                client, "PUT", f"/v1.2/{org}/invoices/{item.id}", content=api.encode(body),
                headers=api.JSON_HEADERS,
            )
    except ConnectorError as error:
        return _failed(item, error)
    if not isinstance(answer, dict) or not answer.get("Guid"):
        reason = "Dinero's answer names no invoice; the outcome is unknown"
        return UpsertResult.failed(item.key, reason, item.id, unknown=True)
    guid = str(answer["Guid"])
    if item.context.get("book"):
        return _book(client, item, guid, str(answer.get("TimeStamp") or ""))
    return UpsertResult(key=item.key, id=guid)


def upsert_items(
    client: httpx.Client, entity: str, items: list[UpsertItem]
) -> Iterator[UpsertResult]:
    for item in items:
        if entity == "invoice":
            yield _write_invoice(client, item)
        elif item.id is None:
            yield _create(client, entity, item)
        else:
            yield _update(client, entity, item)


def delete_ids(client: httpx.Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    path = _path(client, entity)
    for native_id in ids:
        item = UpsertItem(key=native_id, record={}, id=native_id)
        yield api.ERRORS.write(client, item, "DELETE", f"{path}/{native_id}", missing_ok=True)


def lookup_keys(client: httpx.Client, entity: str, keys: list[str]) -> dict[str, str]:
    """Records created with these keys, found by their ``ExternalReference``: one listing of
    ``<id>,ExternalReference`` rows (1000 a page) for any number of keys."""
    wanted = {api.reference_of(key): key for key in keys}
    resource = api.api_for(settings_of(client).organization_id).resource(entity)
    id_field = api.ID_FIELDS[entity]
    params: dict[str, Any] = {**resource.params, "fields": f"{id_field},ExternalReference"}
    listing = replace(resource, params=params, incremental=None)
    found: dict[str, str] = {}
    for page in plain_pages(listing, client, api.ERRORS, listing.page_size, None):
        for row in page.records:
            reference: NativeRecord | Any = row.get("ExternalReference")
            if isinstance(reference, str) and reference in wanted:
                found[wanted[reference]] = str(row[id_field])
    return found
