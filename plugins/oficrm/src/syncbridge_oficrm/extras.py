"""OfiCRM's entities the core has no canonical model for yet: sectors and sales data.

These are the connector's extension point until the core adopts them (the proposal is in
the README, "Entities beyond the canonical ones"): each is a :class:`CanonicalRecord`
subclass, so ``Connection.map_in``/``map_out``, fingerprints and validation work as for any
canonical record, and the connector's ``fetch``/``upsert``/``lookup``/``map`` hooks serve
them under the names below. They are not declared in ``describe()``: the engine plans runs
over ``syncbridge.models.MODELS`` only, so a sync line cannot name them until the core adds
the entities; programs (and the seed-003 statistics step) call the hooks directly::

    with Connection("crm", syncbridge_oficrm.connector, settings) as crm:
        pages = crm.fetch("sales_data")                   # keyset pages, core Cursor
        crm.upsert("sales_data", [UpsertItem(key=..., record=crm.map_out("sales_data", s))])
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from syncbridge.models import CanonicalRecord
from syncbridge.models.types import Date, Money, Text
from syncbridge_sql.mapping import FieldSpec, Kind


class PyramidClass(StrEnum):
    """The customer's class in OfiCRM's sales pyramid: an ABC classification by sales."""

    A = "A"
    B = "B"
    C = "C"


class Sector(CanonicalRecord):
    """A business sector (OfiCRM "sector"); every customer belongs to at most one."""

    entity: ClassVar[str] = "sector"

    #: the sector's short code, shared with the management application's sectors
    code: Text = None
    name: str


class SalesData(CanonicalRecord):
    """One customer's sales figures and pyramid class (OfiCRM "Datos de Ventas").

    Fed by the management application's sales statistics; ``year`` is the current year of
    the figures (``sales_previous`` is ``year - 1``), ``statistics_date`` the day the
    statistics were refreshed in the management application.
    """

    entity: ClassVar[str] = "sales_data"
    references: ClassVar[dict[str, str]] = {"company_id": "company"}

    company_id: str
    year: int = Field(ge=1900, le=2999)
    sales_current: Money | None = None
    sales_previous: Money | None = None
    pyramid_current: PyramidClass | None = None
    pyramid_previous: PyramidClass | None = None
    statistics_date: Date | None = None


#: the entities this plugin adds, by name
EXTRA_MODELS: dict[str, type[CanonicalRecord]] = {"sector": Sector, "sales_data": SalesData}

#: how each of their fields is stored (the sql connector's kinds), id/updated_at excluded
EXTRA_SPECS: dict[str, dict[str, FieldSpec]] = {
    "sector": {
        "code": FieldSpec("code", Kind.TEXT, nullable=True),
        "name": FieldSpec("name", Kind.TEXT, nullable=False),
    },
    "sales_data": {
        "company_id": FieldSpec("company_id", Kind.TEXT, nullable=False),
        "year": FieldSpec("year", Kind.INT, nullable=False),
        "sales_current": FieldSpec("sales_current", Kind.DECIMAL, True, 18, 2),
        "sales_previous": FieldSpec("sales_previous", Kind.DECIMAL, True, 18, 2),
        "pyramid_current": FieldSpec("pyramid_current", Kind.ENUM, nullable=True),
        "pyramid_previous": FieldSpec("pyramid_previous", Kind.ENUM, nullable=True),
        "statistics_date": FieldSpec("statistics_date", Kind.DATE, nullable=True),
    },
}


def pyramid_class(sales: Decimal | None, a_from: Decimal, b_from: Decimal) -> PyramidClass | None:
    """The ABC class of ``sales``: A from ``a_from`` up, B from ``b_from``, C below.

    The thresholds are the integration's (config); no sales, no class.
    """
    if a_from < b_from:
        raise ValueError(f"pyramid thresholds: A ({a_from}) must not be below B ({b_from})")
    if sales is None:
        return None
    if sales >= a_from:
        return PyramidClass.A
    return PyramidClass.B if sales >= b_from else PyramidClass.C
