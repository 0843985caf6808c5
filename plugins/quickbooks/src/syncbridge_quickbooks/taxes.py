"""Tax codes as VAT percentages, both ways.

A QuickBooks sales line names its VAT only by ``TaxCodeRef``: a ``TaxCode`` whose
``SalesTaxRateList`` points at ``TaxRate`` objects, each with a ``RateValue`` (``TaxCode`` and
``TaxRate`` in ``Finance.xsd``; both read-only through their endpoints). Other systems know a
line's VAT by its percentage (a Bitrix24 product row has ``taxRate``, nothing else), so a line
that travels with its tax code alone arrives without VAT and its money changes on the way.
Reading, the connector therefore gives each code's percentage beside the record (``fetch``
puts it in the record's context, :mod:`~syncbridge_quickbooks.documents` on the line); writing
a line that has a percentage but no code, it picks the one sales code of that percentage, and a
line whose code and percentage disagree is refused rather than booked at another rate.

A code's percentage is the sum of its sales rates (a combined code, e.g. state + county sales
tax, charges them all on the same base), which is also what the ``vat_rate`` entity reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from syncbridge_quickbooks import query as q
from syncbridge_quickbooks.entities import TAX_CODE, TAX_RATE
from syncbridge_quickbooks.native import ref

if TYPE_CHECKING:
    from syncbridge_quickbooks.api import QuickBooksApi

#: US sales-tax pseudo codes on lines: not TaxCode objects ("NON" is not taxable)
PSEUDO_TAX_CODES = frozenset({"TAX", "NON"})


@dataclass(frozen=True)
class TaxCode:
    """One tax code as a VAT percentage."""

    id: str
    name: str
    #: the sum of its sales rates, in percent
    rate: Decimal
    #: it can go on a sales line (it has sales rates, or no rates at all: a 0 % code)
    sales: bool
    active: bool


def rate_ids(rate_list: Any) -> list[str]:
    """The ``TaxRateRef`` ids of a ``SalesTaxRateList`` or ``PurchaseTaxRateList``."""
    details = rate_list.get("TaxRateDetail") if isinstance(rate_list, Mapping) else None
    return [id for d in details or [] if (id := ref(d.get("TaxRateRef"))) is not None]


def sales_rate(code: Mapping[str, Any], rates: Mapping[str, Decimal]) -> Decimal:
    """The percentage a code charges on a sale: the sum of its sales rates."""
    return sum(
        (rates.get(id, Decimal(0)) for id in rate_ids(code.get("SalesTaxRateList"))), Decimal(0)
    )


def load(api: QuickBooksApi) -> dict[str, TaxCode]:
    """Every tax code of the company (inactive ones too: old invoices still name them)."""
    rates: dict[str, Decimal] = {}
    for rows, _at in api.pages(TAX_RATE, [q.ANY_ACTIVE]):
        for row in rows:
            rates[str(row.get("Id"))] = Decimal(str(row.get("RateValue") or 0))
    codes: dict[str, TaxCode] = {}
    for rows, _at in api.pages(TAX_CODE, [q.ANY_ACTIVE]):
        for row in rows:
            id = str(row.get("Id"))
            sales = bool(rate_ids(row.get("SalesTaxRateList")))
            purchases = bool(rate_ids(row.get("PurchaseTaxRateList")))
            codes[id] = TaxCode(
                id=id,
                name=str(row.get("Name") or id),
                rate=sales_rate(row, rates),
                sales=sales or not purchases,
                active=row.get("Active") is not False,
            )
    return codes


def percent_text(value: Decimal) -> str:
    """A percentage as the annotations keep it (``"19"``, ``"7.25"``)."""
    return format(value.normalize(), "f")


class TaxCodeError(ValueError):
    """A line's VAT that no tax code of the company carries as it is."""


def code_for(
    codes: Mapping[str, TaxCode], code: str | None, percent: Decimal, line: int
) -> str | None:
    """The tax code a sales line is written with, given the code it names (if any) and the
    percentage it must carry; raises :class:`TaxCodeError` when no code carries it.

    * a named code must charge that percentage (``NON`` charges nothing; ``TAX``, US sales
      tax, is worked out by QuickBooks from the customer's location and is left to it);
    * no code named: the one active sales code of that percentage; none for 0 % leaves the
      line without a code (QuickBooks charges nothing on it); several are ambiguous.
    """
    if code in PSEUDO_TAX_CODES:
        if code == "NON" and percent != 0:
            raise TaxCodeError(
                f"line {line}: tax code NON is not taxable, the line carries "
                f"{percent_text(percent)} %"
            )
        return code
    if code is not None:
        found = codes.get(code)
        if found is not None and found.rate != percent:
            raise TaxCodeError(
                f"line {line}: QuickBooks tax code {code} ({found.name}) is "
                f"{percent_text(found.rate)} %, the line carries {percent_text(percent)} %"
            )
        return code  # an unknown code is QuickBooks' to refuse, with its own message
    candidates = sorted(
        (c for c in codes.values() if c.active and c.sales and c.rate == percent),
        key=lambda c: (len(c.id), c.id),
    )
    if len(candidates) == 1:
        return candidates[0].id
    if not candidates:
        if percent == 0:
            return None
        raise TaxCodeError(
            f"line {line}: QuickBooks has no active sales tax code of {percent_text(percent)} %; "
            "add one there, or change the line's VAT"
        )
    names = ", ".join(f"{c.id} ({c.name})" for c in candidates)
    raise TaxCodeError(
        f"line {line}: several QuickBooks tax codes are {percent_text(percent)} %: {names}; "
        "the line must name its code (vat_rate_id), or only one of them be active"
    )


def line_tax_codes(lines: Any) -> set[str]:
    """Every tax code the sales lines name, those inside bundles (group lines) included."""
    found: set[str] = set()
    for line in lines or []:
        if not isinstance(line, Mapping):
            continue
        detail = line.get("SalesItemLineDetail")
        if isinstance(detail, Mapping) and (code := ref(detail.get("TaxCodeRef"))) is not None:
            found.add(code)
        group = line.get("GroupLineDetail")
        if isinstance(group, Mapping):
            found |= line_tax_codes(group.get("Line"))
    return found
