"""Reading Dinero: the declared listings, plus what invoices and payments need beside them.

Companies, contacts and products are read straight from their listings (the toolkit's pages
and cursor). An invoice listing row holds no lines, so each changed invoice is then read
whole (``GET /invoices/{guid}``: one request per invoice, the API's minimum); its context says
whether its customer is a company or a person (one listing of every contact's
``ContactGuid,IsPerson`` per read), which VAT rate each sales account carries (the
organisation's accounts and VAT types, two requests per read), and what is still owed on a
booked invoice not paid in full (its payments' ``RemainingAmount``, one request each: the
read model has no balance).

Payments have no listing of their own: they are read per booked invoice
(``GET /v2/{org}/invoices/{guid}/payments``), from the invoices changed since the cursor,
since registering a payment changes its invoice (README A11). Each payment's context names
its invoice, the invoice's currency and customer.

An incremental read of the other entities ends with one ``deletedOnly=true`` listing since
the same cursor: the ids it names are the read's ``Page.deleted``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx

from syncbridge import ConnectorError, NativeRecord, Page
from syncbridge.rest import Cursor
from syncbridge.rest.listing import plain_pages
from syncbridge_dinero import api
from syncbridge_dinero.settings import settings_of

Context = dict[str, Any]


def parties(client: httpx.Client, org: int) -> dict[str, str]:
    """``ContactGuid -> "company" | "contact"`` of every contact of the organisation."""
    resource = api.api_for(org).resource("company")
    listing = type(resource)(
        resource.path,
        records="Collection",
        paginator=resource.paginator,
        params={"fields": "ContactGuid,IsPerson"},
        page_size=resource.page_size,
    )
    kinds: dict[str, str] = {}
    for page in plain_pages(listing, client, api.ERRORS, listing.page_size, None):
        for row in page.records:
            kinds[str(row["ContactGuid"]).lower()] = "contact" if row.get("IsPerson") else "company"
    return kinds


def vat_by_account(client: httpx.Client, org: int) -> dict[str, str]:
    """``AccountNumber -> VAT percent`` (text) of the organisation's accounts."""
    accounts = api.ERRORS.get(
        client, f"/v1/{org}/accounts/entry", params={"fields": "AccountNumber,VatCode"}
    )
    rates = api.ERRORS.get(client, f"/v1/{org}/vatTypes")
    if not isinstance(accounts, list) or not isinstance(rates, list):
        raise ConnectorError("Dinero answered the accounts or VAT types without a list")
    by_code = {
        str(rate.get("VatCode")): Decimal(str(rate.get("VatRate") or 0)) * 100 for rate in rates
    }
    found: dict[str, str] = {}
    for account in accounts:
        percent = by_code.get(str(account.get("VatCode")), Decimal(0))
        found[str(account.get("AccountNumber"))] = str(percent.normalize())
    return found


def _invoice_context(
    invoice: NativeRecord, kinds: dict[str, str], vat: dict[str, str]
) -> Context:
    contact = str(invoice.get("ContactGuid") or "")
    kind = kinds.get(contact.lower())
    if kind is None:
        return {"error": f"ContactGuid: the invoice's customer {contact or '(none)'} is not a "
                         "Dinero contact; set its customer in Dinero"}
    return {"party": kind, "vat": vat}


def _balance(client: httpx.Client, org: int, invoice: NativeRecord) -> Context:
    """What is still owed on a booked invoice (``{"remaining": ...}``): the read model has no
    balance, so a booked invoice not paid in full is asked its payments (one request; the
    answer's ``RemainingAmount``). A draft owes its total and a paid one nothing: no request."""
    status = str(invoice.get("PaymentStatus") or invoice.get("Status") or "Draft")
    if status == "Draft":
        return {}
    if status == "Paid":
        return {"remaining": Decimal(0)}
    _response, body = api.ERRORS.read(
        client, f"/v2/{org}/invoices/{invoice['Guid']}/payments", missing_ok=True
    )
    remaining = body.get("RemainingAmount") if isinstance(body, dict) else None
    return {} if remaining is None else {"remaining": Decimal(str(remaining))}


def invoices(
    client: httpx.Client, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    """Invoices changed since the cursor, read whole, with their context."""
    org = settings_of(client).organization_id
    pages = api.api_for(org).fetch(client, "invoice", since, query)
    kinds: dict[str, str] | None = None
    vat: dict[str, str] = {}
    for page in pages:
        if kinds is None and page.records:
            kinds, vat = parties(client, org), vat_by_account(client, org)
        whole: list[NativeRecord] = []
        context: dict[str, Context] = {}
        for row in page.records:
            if "ProductLines" in row:  # read by id already
                invoice: Any = row
            else:
                _response, invoice = api.ERRORS.read(
                    client, f"{api.invoices_path(org)}/{row['Guid']}",
                    missing_ok=True, headers={"Accept": "application/json"},
                )
            if isinstance(invoice, dict):
                whole.append(invoice)
                context[str(invoice["Guid"])] = {
                    **_invoice_context(invoice, kinds or {}, vat),
                    **_balance(client, org, invoice),
                }
        yield Page(whole, cursor=page.cursor, deleted=page.deleted, total=page.total,
                   context=context)


def payments(client: httpx.Client, since: str | None, query: Mapping[str, Any]) -> Iterator[Page]:
    """Payments of the booked invoices changed since the cursor."""
    org = settings_of(client).organization_id
    kinds: dict[str, str] | None = None
    wanted = {str(i) for i in query.get("ids") or ()}
    for page in api.api_for(org).fetch(client, "invoice", since, {}):
        records: list[NativeRecord] = []
        context: dict[str, Context] = {}
        for row in page.records:
            if row.get("Status") in (None, "Draft"):
                continue
            if kinds is None:
                kinds = parties(client, org)
            _response, body = api.ERRORS.read(
                client, f"/v2/{org}/invoices/{row['Guid']}/payments", missing_ok=True
            )
            contact = str(row.get("ContactGuid") or "")
            facts = {"invoice": str(row["Guid"]), "contact": contact,
                     "party": kinds.get(contact.lower())}
            for payment in (body or {}).get("Payments") or []:
                if wanted and str(payment.get("Guid")) not in wanted:
                    continue
                records.append(payment)
                context[str(payment["Guid"])] = {**facts, "currency": payment.get("Currency")}
        yield Page(records, cursor=None if wanted else page.cursor, context=context)


def deleted_since(client: httpx.Client, entity: str, since: str) -> list[str]:
    """Ids of the records deleted at or after the cursor ``since``: one listing with
    ``deletedOnly=true`` (and the entity's own filter), ids only."""
    resource = api.api_for(settings_of(client).organization_id).resource(entity)
    spec = resource.incremental
    assert spec is not None
    id_field = api.ID_FIELDS[entity]
    params = {**resource.params, "fields": id_field, "deletedOnly": "true",
              **spec.params(Cursor.parse(since))}
    listing = replace(resource, params=params, incremental=None)
    return [
        str(row[id_field])
        for page in plain_pages(listing, client, api.ERRORS, listing.page_size, None)
        for row in page.records
    ]


def fetch_pages(
    client: httpx.Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    if entity == "invoice":
        yield from invoices(client, since, query)
    elif entity == "payment":
        yield from payments(client, since, query)
    else:
        org = settings_of(client).organization_id
        yield from api.api_for(org).fetch(client, entity, since, query)
    if since is not None and entity != "payment" and query.get("ids") is None:
        gone = deleted_since(client, entity, since)
        if gone:
            yield Page([], deleted=gone)
