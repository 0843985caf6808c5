"""The ``szamlazz`` connector: the hook implementations syncbridge calls.

Számlázz.hu's Számla Agent issues documents and answers them one at a time: invoices
(canonical ``invoice``) and proformas (canonical ``quote``) are created with one POST each and
read by walking their number sequences (:mod:`.reads`); issued documents never change
(``locked``; no update), proformas can be deleted; credit entries are ``payment`` records
(added, never changed); Hungarian VAT keys are read as ``vat_rate``. Customers, products
and the rest exist only inside documents: ``unsupported``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.metadata import version
from typing import Any, Literal

from syncbridge import (
    AuthError,
    CanonicalRecord,
    Capability,
    CheckResult,
    Client,
    ConnectorError,
    ConnectorInfo,
    EntityInfo,
    NativeRecord,
    Page,
    RateLimit,
    UpsertItem,
    UpsertResult,
    dispatch,
    hookimpl,
)
from syncbridge_szamlazz import agent, mapping, reads, writes
from syncbridge_szamlazz.settings import SzamlazzSettings, settings_of

#: no request limit is published; the one figure, 500 invoices per 10 minutes (test
#: environment), counts issued invoices, and pacing every query by it would make a full read
#: of a year's invoices take hours (README assumption 10): the client paces nothing, and
#: runs at most two requests at once
RATE_LIMITS: tuple[RateLimit, ...] = ()

_DOCUMENTS = frozenset(
    {
        Capability.READ,
        Capability.CREATE,
        Capability.IDEMPOTENT_CREATE,
        Capability.LOOKUP,
    }
)
_NO_ENTITY = "Számlázz.hu has no {what} of its own (the Agent has no such action)"


@hookimpl
def describe() -> ConnectorInfo:
    return ConnectorInfo(
        name="szamlazz",
        title="Számlázz.hu (Számla Agent)",
        version=version("syncbridge-szamlazz"),
        settings=SzamlazzSettings,
        entities={
            "invoice": EntityInfo(
                name="invoice",
                capabilities=_DOCUMENTS,
                source="action-xmlagentxmlfile / action-szamla_agent_xml",
                page_size=25,
                fields=mapping.FIELDS["invoice"],
                # numbered by Számlázz.hu in the account's sequence, never by a client
                read_only=frozenset({"number"}),
                id_field="szamlaszam",
                notes="issued invoices are immutable (locked): a change is a storno and a new "
                "invoice; read by walking the number sequence, one POST per invoice",
            ),
            "quote": EntityInfo(
                name="quote",
                capabilities=_DOCUMENTS | {Capability.DELETE},
                source="action-xmlagentxmlfile (dijbekero) / action-szamla_agent_xml",
                page_size=25,
                fields=mapping.FIELDS["quote"],
                read_only=frozenset({"number"}),
                id_field="szamlaszam",
                notes="proformas (díjbekérő): issued, read and deleted, never edited",
            ),
            "payment": EntityInfo(
                name="payment",
                capabilities=frozenset({Capability.READ, Capability.CREATE}),
                source="action-szamla_agent_kifiz / kifizetesek of action-szamla_agent_xml",
                page_size=25,
                fields=mapping.FIELDS["payment"],
                notes="credit entries of invoices, id <invoice number>/<position>; added, "
                "never changed; read with their invoices",
            ),
            "vat_rate": EntityInfo(
                name="vat_rate",
                capabilities=frozenset({Capability.READ}),
                source="afakulcs (fixed list)",
                page_size=25,
                fields=mapping.FIELDS["vat_rate"],
                id_field="afakulcs",
                notes="Hungarian VAT keys: 27, 18, 5, 0 and the 0% codes (AAM, TAM, EU...)",
            ),
        },
        unsupported={
            "company": "Számlázz.hu keeps no customers: the buyer travels inside each "
            "document (vevo), so a customer exists only on its invoices",
            "contact": "Számlázz.hu keeps no customers or contacts: the buyer travels "
            "inside each document",
            "product": "Számlázz.hu keeps no products: items are written inside each document",
            "order": "Számlázz.hu has no orders: an order number is a field of a document",
            "currency": _NO_ENTITY.format(what="currency list") + "; a document names its "
            "ISO currency code",
            "payment_method": _NO_ENTITY.format(what="payment methods") + "; fizmod is free "
            "text on each document",
            "unit": _NO_ENTITY.format(what="units") + "; the unit is free text on each item",
        },
        rate_limits=RATE_LIMITS,
        max_concurrency=2,
    )


@hookimpl
def check(client: Client) -> CheckResult:
    """One query for a number that cannot exist: "no such document" means the credentials
    were accepted; a login error is the red light with the fix."""
    settings = settings_of(client)
    account = settings.username or f"Agent key, prefix {settings.prefix}"
    try:
        reads.query(client, number=f"{settings.prefix}-0-0")
    except ConnectorError as error:  # AuthError included
        return CheckResult(ok=False, reason=str(error), account=account)
    return CheckResult(ok=True, account=account, details={"prefix": settings.prefix})


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
    try:
        return writes.lookup_keys(client, entity, keys)
    except AuthError:
        raise
    except agent.AgentRefusal as refusal:
        raise ConnectorError(f"{entity} keys could not be looked up: {refusal}") from None


@hookimpl
def delete(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    return writes.delete_proformas(client, entity, ids)


# the hook's name is fixed by the contract, shadowing the builtin in this module only
@hookimpl
def map(
    entity: str,
    record: NativeRecord | CanonicalRecord,
    direction: Literal["in", "out"],
) -> CanonicalRecord | NativeRecord:
    if entity not in mapping.FIELDS:
        raise ConnectorError(f"szamlazz has no entity {entity!r}")
    return dispatch(entity, record, direction, mapping.map_in, mapping.map_out)
