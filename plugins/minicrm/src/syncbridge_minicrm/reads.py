"""Reading records: listings for ids, details for the records, the toolkit's cursor over them.

MiniCRM's listings name records (id, name, e-mail) without ``UpdatedAt``, addresses or tax
numbers, so a record costs its detail (``GET /Api/R3/Contact/{id}``) and, for contacts, one
address list (``GET /Api/R3/AddressList/{id}?Structured=1``): two rate-limited requests, the
least this API allows, plus a listing page per 100. The listing is asked for ``UpdatedSince``
the cursor, and :class:`~syncbridge.rest.IncrementalRead` takes the details by their
``UpdatedAt`` (Budapest time), saving the cursor with the last page (the listings are by id,
not by time).

**The customer filter** (settings ``customer_category`` + ``statuses``): a status belongs to a
card, so the cards of those statuses are listed (``Project?CategoryId=&StatusId=``, pushed
down) and only their contacts are read. A contact that becomes a customer without changing
itself is read too: the cards changed since the cursor are listed as well.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from syncbridge import Client, ConnectorError, NativeRecord, Page
from syncbridge.records import Context
from syncbridge.rest import IncrementalRead, Resource
from syncbridge_minicrm import api
from syncbridge_minicrm.invoices import TYPE_OF
from syncbridge_minicrm.parties import ADDRESSES, ROLE_OF, STATUS
from syncbridge_minicrm.settings import settings_of

#: per-connection caches (``client.resource``)
_STATUS_IDS = "minicrm.status_ids"
_CONTACT_KINDS = "minicrm.contact_kinds"


def kind_of(contact: NativeRecord) -> str:
    """``Business`` or ``Person`` of a contact detail, whatever language its ``Type`` label
    is in: persons carry ``FirstName``/``LastName``, businesses ``Name``."""
    return "Person" if "FirstName" in contact or "LastName" in contact else "Business"


def addresses_of(client: Client, contact_id: int | str) -> dict[str, NativeRecord]:
    """A contact's addresses by canonical role (``main``, ``billing``, ``mailing``): of
    several of one type, the default one, else the oldest."""
    path = api.ADDRESSES.format(id=contact_id)
    body = api.ERRORS.get(client, path, params={"Structured": 1})
    chosen: dict[str, NativeRecord] = {}
    for address in sorted(api.results(body) or [], key=lambda a: int(a.get("Id") or 0)):
        role = ROLE_OF.get(str(address.get("Type")))
        if role is None:
            continue
        if role not in chosen or (address.get("Default") and not chosen[role].get("Default")):
            chosen[role] = address
    return chosen


def _listed(client: Client, resource: Resource, params: Mapping[str, Any]) -> Iterator[Page]:
    """The listing's pages with these extra parameters (the toolkit pages it)."""
    asked = replace(resource, params={**resource.params, **params})
    return asked.fetch(client, api.ERRORS, None, {})


def status_ids(client: Client) -> dict[int, str]:
    """The filter's statuses as ``{StatusId: label}``, from the module's schema (once per
    connection); a ConnectorError naming a status the module does not have."""
    settings = settings_of(client)

    def load() -> dict[int, str]:
        path = f"/Api/R3/Schema/Project/{settings.customer_category}"
        schema = api.ERRORS.get(client, path)
        known = schema.get("StatusId") if isinstance(schema, dict) else None
        if not isinstance(known, dict):
            raise ConnectorError(f"{api.SYSTEM} answered GET {path} without StatusId choices")
        labels = {int(key): str(label) for key, label in known.items()}
        wanted: dict[int, str] = {}
        for status in settings.statuses:
            found = [key for key, label in labels.items() if status in (label, str(key))]
            if not found:
                raise ConnectorError(
                    f"statuses: the module {settings.customer_category} has no status "
                    f"{status!r}; it has {', '.join(labels.values())} (check statuses in the "
                    "connection's settings)"
                )
            wanted[found[0]] = labels[found[0]]
        return wanted

    return client.resource(_STATUS_IDS, load)


def _cards(client: Client, extra: Mapping[str, Any]) -> dict[int, str]:
    """``{ContactId: status label}`` of the customer module's cards in the filter's statuses."""
    settings = settings_of(client)
    cards = api.listing(api.PROJECTS, "/Api/R3/Project/{id}")
    found: dict[int, str] = {}
    for status_id, label in status_ids(client).items():
        params = {"CategoryId": settings.customer_category, "StatusId": status_id, **extra}
        for page in _listed(client, cards, params):
            for card in page.records:
                found.setdefault(int(card["ContactId"]), label)
    return found


def _contact(client: Client, contact_id: Any, kind: str) -> tuple[NativeRecord, Context] | None:
    """A contact's detail and context (addresses), None if gone or of the other kind."""
    detail = api.detail(client, api.CONTACT.format(id=contact_id))
    if detail is None:
        return None
    remember_kind(client, contact_id, kind_of(detail))
    if kind_of(detail) != kind:
        return None
    return detail, {ADDRESSES: addresses_of(client, contact_id)}


def _contacts(
    client: Client, entity: str, since: str | None, ids: list[str] | None
) -> Iterator[Page]:
    kind = api.CONTACT_TYPES[entity]
    customers = _cards(client, {}) if settings_of(client).statuses else None

    def context(contact_id: int, facts: Context) -> Context:
        if customers is not None and contact_id in customers:
            return {**facts, STATUS: customers[contact_id]}
        return facts

    if ids is not None:
        records, contexts = [], {}
        for native_id in ids:
            if not native_id.isdigit() or (
                customers is not None and int(native_id) not in customers
            ):
                continue
            found = _contact(client, native_id, kind)
            if found is not None:
                records.append(found[0])
                contexts[native_id] = context(int(native_id), found[1])
        yield Page(records, context=contexts)
        return
    read: IncrementalRead = api.CHANGES.begin(since)
    bound = api.CHANGES.params(read.start)
    listing = api.LISTINGS[entity]
    done: set[int] = set()
    for page in _listed(client, listing, bound):
        records, contexts = [], {}
        for row in page.records:
            contact_id = int(row["Id"])
            if customers is not None and contact_id not in customers:
                continue
            found = _contact(client, contact_id, kind)
            if found is None or not read.take(found[0]):
                continue
            done.add(contact_id)
            records.append(found[0])
            contexts[str(contact_id)] = context(contact_id, found[1])
        yield Page(records, context=contexts, total=page.total)
    records, contexts = [], {}
    if customers is not None and bound:
        # contacts that became customers (their card changed) without changing themselves
        for contact_id in sorted(set(_cards(client, bound)) - done):
            found = _contact(client, contact_id, kind)
            if found is not None:
                read.take(found[0])
                records.append(found[0])
                contexts[str(contact_id)] = context(contact_id, found[1])
    yield Page(records, cursor=read.cursor(), context=contexts)


def remember_kind(client: Client, contact_id: Any, kind: str) -> None:
    """Note a contact's kind, read or written, so that a document naming it as its customer
    needs no request to learn it (:func:`contact_kind`)."""
    kinds: dict[str, str] = client.resource(_CONTACT_KINDS, dict)
    kinds[str(contact_id)] = kind


def contact_kind(client: Client, contact_id: Any) -> str | None:
    """``Business`` or ``Person`` of a contact (looked up once per connection), None if gone."""
    kinds: dict[str, str] = client.resource(_CONTACT_KINDS, dict)
    key = str(contact_id)
    if key not in kinds:
        detail = api.detail(client, api.CONTACT.format(id=key))
        if detail is None:
            return None
        kinds[key] = kind_of(detail)
    return kinds[key]


def invoice_context(client: Client, invoice: NativeRecord) -> Context:
    """What ``map`` needs beside an invoice: its customer's kind and the document type."""
    kind = contact_kind(client, invoice.get("CustomerId"))
    if kind is None:
        return {"error": f"CustomerId: contact {invoice.get('CustomerId')} is not in MiniCRM"}
    return {"customer_type": kind, "document_type": str(invoice.get("Type") or "Invoice")}


def _documents(
    client: Client, entity: str, since: str | None, ids: list[str] | None
) -> Iterator[Page]:
    """Invoices or proformas (quotes): one ``/Api/Invoice`` listing holds both, its rows name
    their ``Type``, so only the documents of the entity's type are read in detail."""
    wanted = TYPE_OF[entity]
    if ids is not None:
        records = [
            found
            for native_id in ids
            if native_id.isdigit()
            and (found := api.detail(client, api.INVOICE.format(id=native_id))) is not None
            and str(found.get("Type") or "Invoice") == wanted
        ]
        yield Page(records, context={str(r["Id"]): invoice_context(client, r) for r in records})
        return
    read = api.CHANGES.begin(since)
    for page in _listed(client, api.LISTINGS[entity], api.CHANGES.params(read.start)):
        records = []
        for row in page.records:
            if str(row.get("Type") or "Invoice") != wanted:
                continue
            found = api.detail(client, api.INVOICE.format(id=row["Id"]))
            if found is not None and read.take(found):
                records.append(found)
        contexts = {str(r["Id"]): invoice_context(client, r) for r in records}
        yield Page(records, context=contexts, total=page.total)
    yield Page([], cursor=read.cursor())


def fetch_pages(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    """The ``fetch`` hook: ``query["ids"]`` reads those only; otherwise changes since ``since``."""
    raw_ids = query.get("ids")
    ids = None if raw_ids is None else [str(i) for i in dict.fromkeys(raw_ids)]
    if entity in api.CONTACT_TYPES:
        return _contacts(client, entity, since, ids)
    if entity in TYPE_OF:
        return _documents(client, entity, since, ids)
    raise ConnectorError(f"minicrm cannot read {entity!r}")
