"""Native <-> canonical for every entity the connector declares (``map``'s work).

One module per kind: :mod:`~syncbridge_minicrm.parties` (Business and Person contacts with
their addresses) and :mod:`~syncbridge_minicrm.invoices`. What a record does not carry comes
as its context (see each module); nothing here keeps state, as ``map`` may run in a forked
worker.
"""

from __future__ import annotations

from typing import Any

from syncbridge import ConnectorError, NativeRecord
from syncbridge.models import CanonicalRecord, Company, Contact, Invoice, Quote
from syncbridge_minicrm import invoices, parties

FIELDS: dict[str, frozenset[str]] = {
    "company": parties.COMPANY_FIELDS,
    "contact": parties.CONTACT_FIELDS,
    "invoice": invoices.INVOICE_FIELDS,
    "quote": invoices.QUOTE_FIELDS,
}


def map_in(entity: str, native: NativeRecord, context: dict[str, Any]) -> CanonicalRecord:
    """A native record (as ``fetch`` yields it) as its canonical model."""
    if entity == "company":
        return parties.company_in(native, context)
    if entity == "contact":
        return parties.contact_in(native, context)
    if entity == "invoice":
        return invoices.invoice_in(native, context)
    if entity == "quote":
        return invoices.quote_in(native, context)
    raise ConnectorError(f"minicrm has no entity {entity!r}")


def map_out(entity: str, record: CanonicalRecord, context: dict[str, Any]) -> NativeRecord:
    """A canonical record as the native body ``upsert`` sends; ``context`` gets the rest."""
    if entity == "company" and isinstance(record, Company):
        return parties.company_out(record, context)
    if entity == "contact" and isinstance(record, Contact):
        return parties.contact_out(record, context)
    if entity == "invoice" and isinstance(record, Invoice):
        return invoices.invoice_out(record, context)
    if entity == "quote" and isinstance(record, Quote):
        return invoices.invoice_out(record, context)
    raise ConnectorError(f"minicrm cannot write {type(record).__name__} as {entity!r}")
