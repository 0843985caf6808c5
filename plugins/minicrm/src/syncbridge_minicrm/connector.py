"""The ``minicrm`` connector: the hook implementations syncbridge calls.

Reads list ids and read each record's detail (:mod:`~syncbridge_minicrm.reads`, the toolkit's
paging and cursor); writes are one request per record plus its addresses
(:mod:`~syncbridge_minicrm.writes`); a demo system is read-only and refused before anything
is sent. Requests are paced at MiniCRM's published 60 a minute.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.metadata import version
from typing import Any, Literal

import httpx

from syncbridge import (
    CanonicalRecord,
    Capability,
    CheckResult,
    Client,
    ConnectorError,
    ConnectorInfo,
    ConnectorSettings,
    EntityInfo,
    NativeRecord,
    Page,
    RateLimit,
    UpsertItem,
    UpsertResult,
    dispatch,
    hookimpl,
)
from syncbridge_minicrm import api, mapping, reads, writes
from syncbridge_minicrm.settings import MiniCrmSettings, settings_of

#: MiniCRM's published limit: /Api/R3 only (the invoice endpoints are outside it)
RATE_LIMITS = (RateLimit(requests=60, seconds=60, paths=("/Api/R3/",)),)

_CONTACTS = frozenset(
    {
        Capability.READ,
        Capability.INCREMENTAL,
        Capability.CREATE,
        Capability.UPDATE,
        Capability.LOOKUP,
    }
)
_INVOICES = frozenset({Capability.READ, Capability.INCREMENTAL, Capability.CREATE})


def _entity(name: str, capabilities: frozenset[Capability], source: str, notes: str) -> EntityInfo:
    return EntityInfo(
        name=name,
        capabilities=capabilities,
        source=source,
        page_size=api.PAGE_SIZE,
        fields=mapping.FIELDS[name],
        # MiniCRM's own id, offered to systems that keep it: never written
        read_only=frozenset({"external_id"}) & mapping.FIELDS[name],
        id_field="Id",
        notes=notes,
    )


@hookimpl
def describe() -> ConnectorInfo:
    return ConnectorInfo(
        name="minicrm",
        title="MiniCRM",
        version=version("syncbridge-minicrm"),
        settings=MiniCrmSettings,
        entities={
            "company": _entity(
                "company",
                _CONTACTS,
                "Contact (Type=Business) + Address",
                "office address -> address, mailing address -> mailing_*; VatNumber -> "
                "tax_code, EUVatNumber -> vat_number; status from the customer card",
            ),
            "contact": _entity(
                "contact", _CONTACTS, "Contact (Type=Person) + Address", "BusinessId -> company_id"
            ),
            "invoice": _entity(
                "invoice",
                _INVOICES,
                "/Api/Invoice",
                "Type=Invoice, onto the customer's card; issued invoices cannot be changed "
                "via the API",
            ),
            "quote": _entity(
                "quote",
                _INVOICES,
                "/Api/Invoice (Type=Proforma)",
                "proformas (díjbekérő), onto the customer's card; Prompt -> valid_until",
            ),
        },
        unsupported={
            "product": "MiniCRM's API writes products (PUT /Api/R3/Product) but cannot list or "
            "read them back, so they cannot be synced",
            "order": "not part of this integration (the seed syncs customers and invoices)",
            "payment": "MiniCRM keeps only an invoice's paid date",
            "vat_rate": "MiniCRM has no VAT rate entity (items carry the rate as text)",
            "currency": "MiniCRM has no currency entity (documents carry ISO codes)",
            "payment_method": "MiniCRM has no payment method entity",
            "unit": "MiniCRM has no unit entity",
        },
        rate_limits=RATE_LIMITS,
        max_concurrency=1,
    )


@hookimpl
def auth(settings: ConnectorSettings) -> httpx.Auth:
    typed = settings_of(settings)
    return httpx.BasicAuth(str(typed.system_id), typed.api_key.get_secret_value())


@hookimpl
def check(client: Client) -> CheckResult:
    settings = settings_of(client)
    try:
        modules = api.ERRORS.get(client, "/Api/R3/Category")
    except ConnectorError as error:  # AuthError included: the reason says what to fix
        return CheckResult(ok=False, reason=str(error), account=settings.account)
    details: dict[str, Any] = {
        "system_id": settings.system_id,
        "company_number": settings.company_number,
        "modules": modules if isinstance(modules, dict) else {},
        "read_only": settings.demo_account,
    }
    reason = ""
    if settings.demo_account:  # shown beside the green light
        reason = (
            "a demo account: it can be read, and every write to it is refused before "
            "anything is sent"
        )
    return CheckResult(ok=True, reason=reason, account=settings.account, details=details)


@hookimpl
def fetch(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    return reads.fetch_pages(client, entity, since, query)


@hookimpl
def upsert(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    return writes.upsert_items(client, entity, items)


@hookimpl
def lookup(client: Client, entity: str, keys: list[str]) -> dict[str, str]:
    return writes.lookup_keys(client, entity, keys)


# the hook's name is fixed by the contract, shadowing the builtin in this module only
@hookimpl
def map(
    entity: str,
    record: NativeRecord | CanonicalRecord,
    direction: Literal["in", "out"],
    context: dict[str, Any],
) -> CanonicalRecord | NativeRecord:
    return dispatch(
        entity,
        record,
        direction,
        lambda name, native: mapping.map_in(name, native, context),
        lambda name, canonical: mapping.map_out(name, canonical, context),
    )
