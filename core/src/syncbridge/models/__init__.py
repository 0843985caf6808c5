"""Canonical models: the vocabulary every connector maps to and from.

``MODELS`` maps each entity name to its model; ``DEPENDENCY_ORDER`` is the order a run goes
in, derived from the models' references so that nothing is written before what it points at.
"""

from __future__ import annotations

from graphlib import TopologicalSorter

from syncbridge.models.base import META_FIELDS, CanonicalRecord
from syncbridge.models.catalog import Product
from syncbridge.models.documents import DocumentLine, DocumentStatus, Invoice, Order, Quote
from syncbridge.models.parties import Company, Contact, Sector
from syncbridge.models.payments import Payment
from syncbridge.models.reference import Currency, PaymentMethod, Unit, VatRate
from syncbridge.models.statistics import PyramidClass, SalesData, pyramid_class

MODELS: dict[str, type[CanonicalRecord]] = {
    model.entity: model
    for model in (
        VatRate,
        Currency,
        PaymentMethod,
        Unit,
        Sector,
        Company,
        Product,
        Contact,
        SalesData,
        Quote,
        Order,
        Invoice,
        Payment,
    )
}

#: entities with no references of their own, linked by value across systems (``sector`` has
#: no references either, but is not among them: a sync line creates the sectors missing on
#: the other side, as seed 003 does from the management application to OfiCRM)
REFERENCE_DATA = frozenset({"vat_rate", "currency", "payment_method", "unit"})


def _order() -> tuple[str, ...]:
    graph = {name: set(model.references.values()) for name, model in MODELS.items()}
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    ordered: list[str] = []
    listed = list(MODELS)
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=listed.index)
        ordered.extend(ready)
        sorter.done(*ready)
    return tuple(ordered)


DEPENDENCY_ORDER: tuple[str, ...] = _order()


def model_for(entity: str) -> type[CanonicalRecord]:
    try:
        return MODELS[entity]
    except KeyError:
        raise KeyError(
            f"unknown entity {entity!r}; canonical entities are: {', '.join(MODELS)}"
        ) from None


__all__ = [
    "DEPENDENCY_ORDER",
    "META_FIELDS",
    "MODELS",
    "REFERENCE_DATA",
    "CanonicalRecord",
    "Company",
    "Contact",
    "Currency",
    "DocumentLine",
    "DocumentStatus",
    "Invoice",
    "Order",
    "Payment",
    "PaymentMethod",
    "Product",
    "PyramidClass",
    "Quote",
    "SalesData",
    "Sector",
    "Unit",
    "VatRate",
    "model_for",
    "pyramid_class",
]
