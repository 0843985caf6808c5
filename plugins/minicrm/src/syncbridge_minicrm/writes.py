"""Writing records: contacts with their addresses, invoices onto customers' cards, lookups.

**A demo system is refused up front.** MiniCRM demo accounts can only be read; with
``demo_account = true`` every ``upsert`` raises a ConnectorError naming the system before a
single request is sent, so nothing is ever half-written.

**Contacts** are one ``PUT /Api/R3/Contact`` each (no batch endpoint), carrying the engine's
idempotency key in ``ReferenceId`` (the contact's external id, which MiniCRM searches:
:func:`lookup_keys`). A create whose answer was lost is looked up by that key at once. Then
each address of the context (registered office, mailing) is one ``PUT /Api/R3/Address``; an
address write that fails is tried again, reading the contact's addresses first so that a
write that did happen is updated rather than made twice. An update writes the contact, then,
when an address field changed, the addresses (upserted by type: one read of the contact's
addresses, a write only for an address that differs).

**A new contact becomes a customer.** A connection that reads only the contacts whose card in
``customer_category`` has one of ``statuses`` would not read back a contact it created: the
next full read would find it gone, and the contact would be reported missing. So a contact it
creates gets such a card (``PUT /Api/R3/Project``) in the status its record carries when that
is one of ``statuses``, else the first of them: a customer the invoicing application sends is
a customer in MiniCRM too.

**Invoices** (and proformas, canonical quotes) are ``POST /Api/Invoice`` onto the customer's
card (outside the rate limit); the API answers the whole document, which is the result's
record. Issued invoices cannot be changed through the API: an update fails its record with
that reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from syncbridge import (
    AuthError,
    Client,
    ConnectorError,
    NativeRecord,
    UpsertItem,
    UpsertResult,
)
from syncbridge.rest import OutcomeUnknown, outcome_unknown
from syncbridge_minicrm import api, reads
from syncbridge_minicrm.invoices import TYPE_OF
from syncbridge_minicrm.parties import ADDRESS_FIELDS, ADDRESSES, STATUS
from syncbridge_minicrm.settings import settings_of

LOG = logging.getLogger(__name__)

#: how often one address write is tried before the contact is reported without it
ADDRESS_ATTEMPTS = 4
#: how often a lost create is looked up by its key at once
LOOKUP_ATTEMPTS = 2


def refuse_demo(client: Client, entity: str, count: int) -> None:
    """A ConnectorError before anything is sent, when the system is a demo account."""
    settings = settings_of(client)
    if settings.demo_account:
        raise ConnectorError(
            f"{settings.account} is a MiniCRM demo account, which can only be read: "
            f"{count} {entity} write(s) refused before anything was sent; sync from MiniCRM "
            "only, or connect a subscribed system (demo_account = false)"
        )


def _find_key(client: Client, entity: str, key: str) -> str | None:
    """The id of the contact created with ``key`` (its ``ReferenceId``), or None."""
    params = {"ReferenceId": key, "Type": api.CONTACT_TYPES[entity]}
    body = api.ERRORS.get(client, api.CONTACTS, params=params)
    ids = sorted(int(row["Id"]) for row in api.results(body) or [])
    return str(ids[0]) if ids else None


def _address_once(client: Client, contact_id: str, address: NativeRecord, fresh: bool) -> None:
    """Write one address: a new one for a new contact, else upserted by its ``Type``."""
    existing = None if fresh else reads.addresses_of(client, contact_id)
    body = {**address, "ContactId": int(contact_id)}
    same = None
    if existing is not None:
        same = next((a for a in existing.values() if a.get("Type") == address["Type"]), None)
    if same is not None:
        if all(str(same.get(k, "")) == str(v) for k, v in body.items()):
            return
        api.ERRORS.send(client, "PUT", f"{api.ADDRESS}/{same['Id']}", json=body)
    else:
        api.ERRORS.send(client, "PUT", api.ADDRESS, json=body, once=True)


def _addresses(client: Client, contact_id: str, item: UpsertItem, fresh: bool) -> str | None:
    """Write the item's addresses; the reason one could not be written, or None."""
    for address in (item.context.get(ADDRESSES) or {}).values():
        problem = None
        for attempt in range(ADDRESS_ATTEMPTS):
            try:
                _address_once(client, contact_id, address, fresh and attempt == 0)
                problem = None
                break
            except AuthError:
                raise
            except ConnectorError as error:  # OutcomeUnknown too: the next try reads first
                problem = str(error)
        if problem is not None:
            return f"its {address['Type']} address could not be written: {problem}"
    return None


def _customer_card(client: Client, contact_id: str, item: UpsertItem) -> str | None:
    """Put a new contact on a card of the customer filter (see the module docstring); the
    reason it could not be, or None (also when the connection filters on no status)."""
    settings = settings_of(client)
    if not settings.statuses:
        return None
    try:
        statuses = reads.status_ids(client)
        wanted = item.context.get(STATUS)
        status_id = next((k for k, label in statuses.items() if label == wanted), None)
        if status_id is None:
            status_id = next(iter(statuses))
        name = item.record.get("Name") or " ".join(
            str(item.record.get(k) or "") for k in ("FirstName", "LastName")
        ).strip()
        card = {
            "CategoryId": settings.customer_category,
            "ContactId": int(contact_id),
            "StatusId": status_id,
            "Name": name or f"{settings.account} contact {contact_id}",
        }
        api.ERRORS.send(client, "PUT", api.PROJECTS, json=card, once=True)
    except AuthError:
        raise
    except ConnectorError as error:
        return f"its customer card could not be made: {error}"
    return None


def _contact(client: Client, entity: str, item: UpsertItem) -> UpsertResult:
    body = {key: value for key, value in item.record.items() if key != "Id"}
    if item.is_create:
        result = api.ERRORS.write(
            client,
            item,
            "PUT",
            api.CONTACTS,
            json={**body, "ReferenceId": item.key},
            id="Id",
            once=True,
        )
        for _attempt in range(LOOKUP_ATTEMPTS):
            if not outcome_unknown(result):
                break
            try:
                found = _find_key(client, entity, item.key)
            except ConnectorError:
                continue
            if found is not None:
                result = UpsertResult(key=item.key, id=found)
            break
    else:
        if not str(item.id).isdigit():
            return UpsertResult.failed(item.key, f"{item.id!r} is not a MiniCRM id", item.id)
        body.pop("Type", None)
        path = api.CONTACT.format(id=item.id)
        result = api.ERRORS.write(client, item, "PUT", path, json=body, id="Id")
    if not result.ok or result.id is None:
        return result
    reads.remember_kind(client, result.id, api.CONTACT_TYPES[entity])
    problem = None
    if item.is_create or not item.changed or item.changed & ADDRESS_FIELDS:
        problem = _addresses(client, result.id, item, fresh=item.is_create)
    if item.is_create:
        problem = _customer_card(client, result.id, item) or problem
    if problem is not None and not item.is_create:
        return UpsertResult.failed(item.key, problem, item.id)
    if problem is not None:
        # a new contact is there whatever its addresses: linked, so it is never made twice
        LOG.warning("MiniCRM contact %s was created, but %s", result.id, problem)
    return UpsertResult(key=item.key, id=result.id)


def _invoice(client: Client, item: UpsertItem) -> UpsertResult:
    if not item.is_create:
        return UpsertResult.failed(
            item.key,
            f"MiniCRM does not let the API change invoice {item.id}: an issued invoice can "
            "only be marked paid or cancelled (storno) there",
            item.id,
        )
    result = api.ERRORS.write(client, item, "POST", api.NEW_INVOICE, json=item.record, id="Id")
    if result.ok and result.record is not None:
        try:
            result.context = reads.invoice_context(client, result.record)
        except ConnectorError:
            result.record = None  # written all the same: the engine hashes what it sent
    return result


def upsert_items(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """The ``upsert`` hook (see the module docstring)."""
    if entity not in api.CONTACT_TYPES and entity not in TYPE_OF:
        raise ConnectorError(f"minicrm cannot write {entity!r}")
    refuse_demo(client, entity, len(items))
    for item in items:
        if entity in TYPE_OF:
            yield _invoice(client, item)
        else:
            yield _contact(client, entity, item)


def lookup_keys(client: Client, entity: str, keys: list[str]) -> dict[str, str]:
    """The ``lookup`` hook: one search by ``ReferenceId`` per key; all or nothing."""
    if entity not in api.CONTACT_TYPES:
        return {}  # invoices carry no key (no LOOKUP declared): the engine matches by content
    found: dict[str, str] = {}
    for key in dict.fromkeys(keys):
        try:
            native_id = _find_key(client, entity, key)
        except OutcomeUnknown as error:
            raise ConnectorError(str(error)) from None
        if native_id is not None:
            found[key] = native_id
    return found
