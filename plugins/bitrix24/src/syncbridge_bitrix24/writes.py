"""Writing: creates, updates and deletes as ``batch`` commands, one outcome per record.

Each record becomes one command (an invoice two: the item, then ``crm.item.productrow.set``
with the item's id taken from the first command's result), all sent in one ``batch`` with
``halt=0`` so that a record the portal rejects fails alone with the portal's own
``error_description``.

Idempotency: a create carries the engine's key, in ``ORIGIN_ID`` (with ``ORIGINATOR_ID``) for
contacts and companies and in ``xmlId`` for invoices, so that :func:`reads.lookup_keys` finds
it after a crash. Updates send only the fields that changed (the portal has no concurrency
token, so a full write could undo someone's concurrent edit of another field), and rewrite
multi-field entries by their ``ID`` instead of appending new ones.

What the portal stored: an invoice comes back as the portal keeps it, not as it was sent. The
portal fills in what it was not given (a title ``Rechnung #12`` and the number, a row's product
name and unit from the catalog: "If productName is not provided, but productId is given, the
product name from the product catalog is used", ``crm.item.productrow.add``) and computes the
rest. Each written invoice's result therefore carries the stored record (and its context),
read as ``fetch`` reads it, so that the engine's snapshot of our own write is what the next
read shows and the write is recognised as ours instead of a change made in Bitrix24. The
batch already holds it (``crm.item.add``/``update`` answer the item,
``crm.item.productrow.set`` the rows "as crm.item.productrow.list would"); only an invoice
whose rows were not rewritten is read again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from syncbridge.describe import Capability
from syncbridge.errors import ConnectorError
from syncbridge.http import Client
from syncbridge.records import NativeRecord, UpsertItem, UpsertResult
from syncbridge.rest import OutcomeUnknown
from syncbridge_bitrix24 import batch
from syncbridge_bitrix24.api import BatchRefused
from syncbridge_bitrix24.entities import INVOICE_OWNER, Spec, spec_for
from syncbridge_bitrix24.mapping import ROWS_KEY, multi_update, sparse
from syncbridge_bitrix24.reads import Stages, fetch_pages, list_all, product_rows
from syncbridge_bitrix24.settings import Bitrix24Settings, settings_of

_MULTI = ("EMAIL", "PHONE", "WEB")
#: do not announce synced contacts/companies in the portal's activity stream
_QUIET = {"REGISTER_SONET_EVENT": "N"}
#: the key suffix of the command reading an updated invoice's rows that the update leaves alone
_READ_ROWS = "readrows"


def upsert_items(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """The ``upsert`` hook, a batch at a time."""
    spec = spec_for(entity)
    if not {Capability.CREATE, Capability.UPDATE} & spec.capabilities:
        raise ConnectorError(f"bitrix24: {entity} is read-only ({spec.prefix}.list)")
    for start in range(0, len(items), spec.batch_size):
        yield from _upsert_batch(client, spec, items[start : start + spec.batch_size])


def _upsert_batch(client: Client, spec: Spec, items: list[UpsertItem]) -> list[UpsertResult]:
    settings = settings_of(client)
    current = _current_multi_fields(client, spec, items)
    commands: list[batch.Command] = []
    results: dict[int, UpsertResult] = {}
    for index, item in enumerate(items):
        try:
            commands.extend(_commands(settings, spec, item, f"c{index}", current))
        except (KeyError, ValueError) as error:
            results[index] = UpsertResult.failed(item.key, str(error), id=item.id)
    try:
        outcome = batch.run(client, commands)
    except (BatchRefused, OutcomeUnknown) as failed:
        # the batch failed as a whole: each of its records failed, none of the others
        unknown = isinstance(failed, OutcomeUnknown) or (
            isinstance(failed, BatchRefused) and failed.unknown
        )
        for index, item in enumerate(items):
            results.setdefault(
                index, UpsertResult.failed(item.key, str(failed), id=item.id, unknown=unknown)
            )
        return [results[index] for index in range(len(items))]
    sent = {command.key for command in commands}
    half_written: dict[int, tuple[str, str]] = {}
    for index, item in enumerate(items):
        if index in results:
            continue
        key = f"c{index}"
        refused = outcome.error_of(key)
        record_id = item.id or (None if refused else _new_id(outcome.results[key]))
        if refused is not None or record_id is None:
            results[index] = UpsertResult.failed(
                item.key, refused or "the portal returned no id", id=item.id
            )
            continue
        rows_error = outcome.error_of(f"{key}rows") if f"{key}rows" in sent else None
        if rows_error is None:
            results[index] = UpsertResult(
                key=item.key, id=record_id, record=_stored(spec, outcome, key, sent)
            )
        elif item.is_create:
            half_written[index] = (record_id, rows_error)
        else:
            results[index] = UpsertResult.failed(
                item.key, f"saved, but its product rows were rejected: {rows_error}", record_id
            )
    if half_written:
        removed = _remove_half_written(client, spec, [rid for rid, _e in half_written.values()])
        for (index, (record_id, rows_error)), why in zip(
            half_written.items(), removed, strict=True
        ):
            message = f"its product rows were rejected: {rows_error}; " + (
                "the invoice was not kept"
                if why is None
                else f"removing the half-written invoice {record_id} failed too: {why}"
            )
            results[index] = UpsertResult.failed(
                items[index].key, message, id=None if why is None else record_id
            )
    if spec.entity == "invoice":
        _complete_stored(client, settings, list(results.values()))
    return [results[index] for index in range(len(items))]


def _stored(spec: Spec, outcome: batch.Outcome, key: str, sent: set[str]) -> NativeRecord | None:
    """The invoice as the portal stored it, from the batch's own answers: the item, and its
    rows as rewritten or, when they were left alone, as read after the update (all of them:
    no page left). None when either is missing (or for other entities, whose add answers
    only an id)."""
    rows_key = f"{key}rows" if f"{key}rows" in sent else f"{key}{_READ_ROWS}"
    if spec.entity != "invoice" or rows_key not in sent or rows_key in outcome.nexts:
        return None
    item = outcome.results.get(key)
    item = item.get("item") if isinstance(item, dict) else None
    rows = outcome.results.get(rows_key)
    if not isinstance(item, dict) or not isinstance(rows, dict | list):
        return None
    return {**item, ROWS_KEY: product_rows(rows)}


def _complete_stored(
    client: Client, settings: Bitrix24Settings, results: list[UpsertResult]
) -> None:
    """Give every written invoice its stored record and context: what the portal says of its
    stage on those the batch answered, a read for the others. A read that fails leaves the
    result without one (the write itself went through; the engine then keeps what it sent)."""
    stages = Stages(client, settings)
    missing: dict[str, UpsertResult] = {}
    for result in results:
        if not result.ok or result.id is None:
            continue
        if result.record is None:
            missing[result.id] = result
            continue
        result.context = stages.context_of(str(result.record.get("stageId") or ""))
    if not missing:
        return
    try:
        for page in fetch_pages(client, "invoice", None, {"ids": list(missing)}):
            for record in page.records:
                found = missing.get(str(record.get("id")))
                if found is not None:
                    found.record = record
                    found.context = page.context_of(record.get("id"))
    except (ConnectorError, httpx.HTTPError):
        for result in missing.values():
            result.record = None


def _commands(
    settings: Bitrix24Settings,
    spec: Spec,
    item: UpsertItem,
    key: str,
    current: dict[str, NativeRecord],
) -> list[batch.Command]:
    """The command writing ``item`` and, for an invoice, the one writing its product rows."""
    fields: dict[str, Any] = (
        dict(item.record) if item.is_create else sparse(spec.entity, item.record, item.changed)
    )
    rows = fields.pop(ROWS_KEY, None)
    if item.is_create and spec.key_field is not None:
        fields[spec.key_field] = item.key
        if spec.style == "old":
            fields["ORIGINATOR_ID"] = settings.originator_id
    if not item.is_create:
        existing = current.get(str(item.id), {})
        for name in _MULTI:
            if name in fields:
                changes = multi_update(item.record, existing, name)
                if changes:
                    fields[name] = changes
                else:
                    del fields[name]  # its slots already hold the wanted values
    if item.is_create:
        fields = {name: value for name, value in fields.items() if value not in (None, [])}
    params: dict[str, Any] = {**spec.extra, "fields": fields}
    if spec.entity in ("contact", "company"):
        params["params"] = _QUIET
    if item.is_create:
        command = batch.Command(key, spec.method("add"), params)
    else:
        command = batch.Command(key, spec.method("update"), {**params, "id": item.id})
    if spec.entity == "invoice" and rows is None and not item.is_create:
        # the rows stay as they are: read them in the same batch, so that the stored invoice
        # (the update's answer and these rows) needs no read of its own afterwards
        return [command, _read_rows(key, str(item.id))]
    if spec.entity != "invoice" or rows is None or (item.is_create and not rows):
        return [command]
    owner = batch.reference(key, "item", "id") if item.is_create else item.id
    return [
        command,
        batch.Command(
            f"{key}rows",
            "crm.item.productrow.set",
            # PHP cannot say "empty list" in a query string: an empty value clears the rows
            {"ownerType": INVOICE_OWNER, "ownerId": owner, "productRows": rows or ""},
        ),
    ]


def _read_rows(key: str, invoice_id: str) -> batch.Command:
    return batch.Command(
        f"{key}{_READ_ROWS}",
        "crm.item.productrow.list",
        {"filter": {"=ownerType": INVOICE_OWNER, "=ownerId": invoice_id}},
    )


def _new_id(result: Any) -> str | None:
    """The id in an add's result: a bare number (old-style) or ``{"item": {"id": ..}}``."""
    if isinstance(result, dict):
        result = (result.get("item") or {}).get("id")
    if result is None or isinstance(result, bool):
        return None
    return str(result)


def _current_multi_fields(
    client: Client, spec: Spec, items: list[UpsertItem]
) -> dict[str, NativeRecord]:
    """The multi-fields now stored on the updated records whose e-mail/phone/web changes.

    One list call for the whole batch, and only when a slot is rewritten: the entries' ids
    are needed to overwrite an entry instead of adding a second one.
    """
    if spec.entity not in ("contact", "company"):
        return {}
    ids = [
        str(item.id)
        for item in items
        if not item.is_create and set(_MULTI) & set(sparse(spec.entity, item.record, item.changed))
    ]
    if not ids:
        return {}
    select = [spec.id_field, *(name for name in _MULTI if name in spec.select)]
    found: dict[str, NativeRecord] = {}
    for rows, _reply in list_all(client, spec, {f"@{spec.id_field}": ids}, select):
        for row in rows:
            found[str(row[spec.id_field])] = row
    return found


def _remove_half_written(client: Client, spec: Spec, ids: list[str]) -> list[str | None]:
    """Delete invoices created in this batch whose rows were refused: nothing half-written.

    Returns, per id, None when it is gone, else why it could not be removed.
    """
    commands = [
        batch.Command(f"d{index}", spec.method("delete"), {**spec.extra, "id": record_id})
        for index, record_id in enumerate(ids)
    ]
    try:
        outcome = batch.run(client, commands)
    except (BatchRefused, OutcomeUnknown) as failed:
        return [str(failed)] * len(commands)
    return [outcome.error_of(command.key) for command in commands]


def delete_ids(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    """The ``delete`` hook: one ``<prefix>.delete`` command per id, 50 to a batch."""
    spec = spec_for(entity)
    if Capability.DELETE not in spec.capabilities:
        raise ConnectorError(f"bitrix24: {entity} records are not deleted through this connector")
    for start in range(0, len(ids), batch.MAX_COMMANDS):
        chunk = ids[start : start + batch.MAX_COMMANDS]
        commands = [
            batch.Command(f"d{index}", spec.method("delete"), {**spec.extra, "id": record_id})
            for index, record_id in enumerate(chunk)
        ]
        try:
            outcome = batch.run(client, commands)
        except (BatchRefused, OutcomeUnknown) as failed:
            for record_id in chunk:
                yield UpsertResult.failed(record_id, str(failed), id=record_id)
            continue
        for record_id, command in zip(chunk, commands, strict=True):
            error = outcome.error_of(command.key)
            yield (
                UpsertResult(key=record_id, id=record_id)
                if error is None
                else UpsertResult.failed(record_id, error, id=record_id)
            )
