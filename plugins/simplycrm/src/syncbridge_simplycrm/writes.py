"""Writing records: ``create``, ``update`` and ``delete``, one request per record.

The webservice has no batch operation. A create sends the new record with the logged-in user
as ``assigned_user_id`` (mandatory in every module). ``update`` replaces the whole record
(fields not sent are cleared), so an update sends the stored record with the changes
applied; the stored records of a batch's updates are read first with one ``query`` per 100
ids. (``revise``, vtiger's partial update, is not in Simply CRM's documentation, so it is
not relied on.) ``create`` and ``update`` answer the record as stored, which goes back to the
engine with its context, as ``fetch`` would give it.

Invoices need more than their canonical record holds: an organisation (``account_id`` is
mandatory; an invoice to a person takes the person's organisation), the billing and shipping
street (mandatory; copied from the organisation, as the CRM's own form does), and the
``currency_id`` of their ISO currency.

Every failure is the record's own: a refusal in the envelope with the API's code and words
(its outcome known), or "it may have been written" when the answer was lost or unreadable
(the engine's outbox checks on the next run). Only refused credentials end the batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace

from syncbridge import AuthError, Client, ConnectorError, NativeRecord, UpsertItem, UpsertResult
from syncbridge.rest import OutcomeUnknown
from syncbridge_simplycrm import api, mapping
from syncbridge_simplycrm.auth import SessionAuth
from syncbridge_simplycrm.reads import context_of, currencies
from syncbridge_simplycrm.settings import settings_of

#: items the engine hands to one ``upsert`` call (their stored records are read together)
BATCH_SIZE = 50
#: keys one lookup query names: a key on two records still fits the 100 rows of an answer
KEYS_PER_QUERY = 50
_ADDRESS = ("street", "city", "code", "state", "country", "pobox")


def _user_id(client: Client) -> str:
    """The logged-in user's id (``19x1``), logging in first if no request has yet."""
    auth = client.auth
    if not isinstance(auth, SessionAuth):
        raise ConnectorError("simplycrm connections sign requests with their own session auth")
    if auth.user_id is None:
        api.ERRORS.get(client, api.ENDPOINT, params={"operation": "listtypes"})
    if auth.user_id is None:
        raise ConnectorError("Simply CRM's login answer named no userId")
    return auth.user_id


class _Invoices:
    """What invoices need from the CRM beyond their record: organisations and currencies."""

    def __init__(self, client: Client, items: list[UpsertItem],
                 currents: dict[str, NativeRecord]) -> None:
        self.client = client
        contacts = {
            str(item.record.get("contact_id"))
            for item in items
            if not item.record.get("account_id") and item.record.get("contact_id")
        }
        self.contact_accounts = {
            native_id: str(row.get("account_id") or "")
            for native_id, row in api.rows_by_ids(client, "Contacts", contacts).items()
        }
        accounts = {self.account_of(item.record) for item in items} | {
            str(row.get("account_id") or "") for row in currents.values()
        }
        self.accounts = api.rows_by_ids(client, "Accounts", {a for a in accounts if a})

    def account_of(self, record: NativeRecord) -> str:
        account = str(record.get("account_id") or "")
        if account:
            return account
        return self.contact_accounts.get(str(record.get("contact_id") or ""), "")

    def complete(self, item: UpsertItem, element: NativeRecord) -> NativeRecord:
        """``element`` with its organisation, addresses and currency; RecordError-like
        ConnectorError when it cannot have them."""
        account = self.account_of(element)
        if not account:
            raise ConnectorError(
                "company_id: a Simply CRM invoice needs an organisation; give the invoice a "
                "company, or link its contact to an organisation"
            )
        element["account_id"] = account
        row = self.accounts.get(account)
        for side in ("bill", "ship"):
            if str(element.get(f"{side}_street") or "").strip():
                continue
            if row is None or not str(row.get("bill_street") or "").strip():
                raise ConnectorError(
                    f"{side}_street: Simply CRM requires an invoice address and organisation "
                    f"{account} has no billing street; fill it in the CRM"
                )
            for part in _ADDRESS:
                element[f"{side}_{part}"] = row.get(f"bill_{part}") or ""
        code = item.context.get(mapping.CURRENCY)
        if code:
            currency_id = currencies(self.client).id_for(str(code))
            if currency_id is None:
                raise ConnectorError(
                    f"currency: {code} is not a currency of this Simply CRM; add it under "
                    "Settings > Currencies"
                )
            element["currency_id"] = currency_id
        return element


def _send(client: Client, item: UpsertItem, operation: str, module: str,
          element: NativeRecord) -> tuple[UpsertResult, bool]:
    """Send one write: its result, and whether the API refused it in its envelope (then
    nothing was written, for certain)."""
    data = {"operation": operation, "element": json.dumps(element, ensure_ascii=False)}
    if operation == "create":
        data["elementType"] = module
    try:
        _response, body = api.ERRORS.send(client, "POST", api.ENDPOINT, data=data)
    except OutcomeUnknown as unknown:
        return UpsertResult.failed(item.key, str(unknown), item.id, unknown=True), False
    except api.Refusal as refusal:
        # the envelope's refusal has a code, and nothing was written; an error status has
        # none: the server may have failed after writing (the key settles it)
        return UpsertResult.failed(item.key, refusal.said, item.id), bool(refusal.code)
    stored = body.get("result") if isinstance(body, dict) else None
    native_id = stored.get("id") if isinstance(stored, dict) else None
    if native_id is None:
        why = f"operation {operation} answered without the record's id"
        return UpsertResult.failed(item.key, why, item.id, unknown=item.is_create), False
    return UpsertResult(key=item.key, id=str(native_id), record=stored), False


@dataclass
class _Sent:
    """One item's write: what to send again if it must be, and how it went."""

    item: UpsertItem
    operation: str
    element: NativeRecord | None
    result: UpsertResult
    refused: bool = False


def _write(
    client: Client,
    entity: str,
    item: UpsertItem,
    currents: dict[str, NativeRecord],
    unreadable: str | None,
    invoices: _Invoices | None,
) -> _Sent:
    module = mapping.MODULES[entity]
    if item.is_create:
        element = {**item.record, "assigned_user_id": _user_id(client)}
        key_field = settings_of(client).key_fields.get(entity)
        if key_field:
            element[key_field] = item.key
        operation = "create"
    else:
        native_id = str(item.id)
        if unreadable is not None:
            why = f"its stored record could not be read first: {unreadable}"
            return _Sent(item, "update", None, UpsertResult.failed(item.key, why, item.id))
        current = currents.get(native_id)
        if current is None:
            why = f"{module} {native_id} does not exist in Simply CRM (deleted there?)"
            return _Sent(item, "update", None, UpsertResult.failed(item.key, why, item.id))
        element = {**current, **item.record, "id": native_id}
        operation = "update"
    if invoices is not None:
        try:
            element = invoices.complete(item, element)
        except AuthError:
            raise
        except ConnectorError as error:
            failed = UpsertResult.failed(item.key, str(error), item.id)
            return _Sent(item, operation, None, failed, refused=True)
    result, refused = _send(client, item, operation, module, element)
    return _Sent(item, operation, element, result, refused)


def _settle(client: Client, entity: str, sent: list[_Sent]) -> None:
    """Creates that failed without a refusal (an error status, a lost or unreadable answer)
    looked up by their key, one query for the batch: one found was made, and is reported so;
    one not found whose failure was an error status (the server did not make it) is sent
    again, once, with the same key. One whose answer was lost and is not found stays unknown
    for the engine's outbox. Only with a key field: without it nothing can be looked up."""
    if not settings_of(client).key_fields.get(entity):
        return
    pending = [s for s in sent if s.operation == "create" and not s.result.ok and not s.refused
               and s.element is not None]
    if not pending:
        return
    try:
        found = lookup_keys(client, entity, [s.item.key for s in pending])
    except AuthError:
        raise
    except ConnectorError:
        return
    module = mapping.MODULES[entity]
    for entry in pending:
        key = entry.item.key
        if key in found:
            entry.result = UpsertResult(key=key, id=found[key])
        elif not entry.result.unknown:
            assert entry.element is not None
            entry.result, entry.refused = _send(client, entry.item, "create", module,
                                                entry.element)


def upsert_items(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """The ``upsert`` hook (see the module docstring)."""
    module = mapping.MODULES[entity]
    updates = [str(item.id) for item in items if not item.is_create]
    currents: dict[str, NativeRecord] = {}
    unreadable: str | None = None
    invoices: _Invoices | None = None
    try:
        currents = api.rows_by_ids(client, module, updates) if updates else {}
        if entity == "invoice":
            invoices = _Invoices(client, items, currents)
    except AuthError:
        raise
    except ConnectorError as error:
        if entity == "invoice":  # no invoice can be completed without the lookups
            for item in items:
                yield UpsertResult.failed(item.key, f"could not be prepared: {error}", item.id)
            return
        unreadable = str(error)
    sent = [_write(client, entity, item, currents, unreadable, invoices) for item in items]
    _settle(client, entity, sent)
    for entry in sent:
        result = entry.result
        if result.ok and result.record is not None:
            context = context_of(client, entity, [result.record])
            result = replace(result, context=context.get(str(result.id), {}))
        yield result


def lookup_keys(client: Client, entity: str, keys: list[str]) -> dict[str, str]:
    """The ``lookup`` hook: ``SELECT id, <key field> FROM M WHERE <key field> IN (...)``,
    :data:`KEYS_PER_QUERY` keys a query. All or nothing: a query that fails raises
    ConnectorError. A key on several records (never written so by this connector) gives the
    oldest."""
    key_field = settings_of(client).key_fields.get(entity)
    if not key_field:  # creates carry no key: configure() declared no lookup
        return {}
    module = mapping.MODULES[entity]
    wanted = list(dict.fromkeys(keys))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        part = wanted[start : start + KEYS_PER_QUERY]
        listed = ", ".join(api.vtql_string(key) for key in part)
        rows = api.query(
            client, f"SELECT id, {key_field} FROM {module} WHERE {key_field} IN ({listed});"
        )
        for row in rows:
            key, native_id = str(row.get(key_field) or ""), str(row.get("id") or "")
            if key in part and native_id:
                older = found.get(key)
                if older is None or (api.crmid(native_id) or 0) < (api.crmid(older) or 0):
                    found[key] = native_id
    return found


def delete_ids(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    """The ``delete`` hook; a record already gone (``ACCESS_DENIED``) counts as deleted."""
    if entity not in mapping.MODULES:
        raise ConnectorError(f"simplycrm has no entity {entity!r}")
    for native_id in ids:
        try:
            api.ERRORS.send(client, "POST", api.ENDPOINT,
                            data={"operation": "delete", "id": native_id})
        except OutcomeUnknown as unknown:
            yield UpsertResult.failed(native_id, str(unknown), native_id, unknown=True)
        except api.Refusal as refusal:
            if refusal.code == "ACCESS_DENIED":  # deleted already, or never there
                yield UpsertResult(key=native_id, id=native_id)
            else:
                yield UpsertResult.failed(native_id, refusal.said, native_id)
        else:
            yield UpsertResult(key=native_id, id=native_id)
