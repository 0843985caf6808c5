"""Sales statistics kept on a customer: yearly sales and the customer's ABC class.

A CRM shows the sales figures the management (invoicing) application computes, so that a
salesperson sees a customer's weight without leaving the CRM: OfiCRM's "Datos de Ventas" is
fed this way by the management application's sales statistics (seed 003). The figures are the
management application's; the class is computed from them with thresholds the integration
chooses (:func:`pyramid_class`), not by either system, which is why the function lives here.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from syncbridge.models.base import CanonicalRecord
from syncbridge.models.types import Date, Money

__all__ = ["PyramidClass", "SalesData", "pyramid_class"]


class PyramidClass(StrEnum):
    """A customer's class in the sales pyramid: an ABC classification by sales.

    ``A`` are the few customers with the most sales, ``C`` the many with the least; the
    thresholds are the integration's (see :func:`pyramid_class`).
    """

    A = "A"
    B = "B"
    C = "C"


class SalesData(CanonicalRecord):
    """One customer's yearly sales and pyramid class, from the management application's
    statistics: a record of its own rather than fields of the company, because the figures
    are refreshed on their own schedule and synced on a line of their own (seed 003: into
    OfiCRM's "Datos de Ventas"), while the customer's master data may flow the other way.

    Systems keep at most one per customer, the figures of the latest statistics.
    """

    entity: ClassVar[str] = "sales_data"
    references: ClassVar[dict[str, str]] = {"company_id": "company"}
    #: seed 003: the statistics line says which day's statistics it sent
    as_of: ClassVar[str | None] = "statistics_date"

    company_id: str
    year: int = Field(
        ge=1900, le=2999, description="the year of sales_current; sales_previous is the year before"
    )
    sales_current: Money | None = None
    sales_previous: Money | None = None
    pyramid_current: PyramidClass | None = Field(
        default=None,
        description="the class of sales_current, from the integration's thresholds "
        "(syncbridge.models.pyramid_class)",
    )
    pyramid_previous: PyramidClass | None = Field(
        default=None, description="the class of sales_previous"
    )
    statistics_date: Date | None = Field(
        default=None, description="the day the management application computed the figures"
    )


def pyramid_class(sales: Decimal | None, a_from: Decimal, b_from: Decimal) -> PyramidClass | None:
    """The ABC class of ``sales``: A from ``a_from`` up, B from ``b_from``, C below.

    The thresholds come from the integration's config (seed 003 computes the class the
    management application does not store); no sales, no class. ValueError when ``a_from``
    is below ``b_from``, a config that would make A easier to reach than B.
    """
    if a_from < b_from:
        raise ValueError(f"pyramid thresholds: A ({a_from}) must not be below B ({b_from})")
    if sales is None:
        return None
    if sales >= a_from:
        return PyramidClass.A
    return PyramidClass.B if sales >= b_from else PyramidClass.C
