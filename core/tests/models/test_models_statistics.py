"""Sectors, sales data and the pyramid class: seed 003's entities, canonical since OfiCRM."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from syncbridge.models import (
    Company,
    PyramidClass,
    SalesData,
    Sector,
    model_for,
    pyramid_class,
)
from syncbridge.testing.samples import default_sample

A_FROM = Decimal("50000")
B_FROM = Decimal("10000")


def test_a_sector_needs_a_name_and_blank_codes_are_none() -> None:
    assert Sector(code="  ", name=" Hostelería ").model_dump(exclude={"id", "updated_at"}) == {
        "code": None,
        "name": "Hostelería",
    }
    with pytest.raises(ValidationError, match="name"):
        Sector(code="HOS")


def test_a_company_points_at_its_sector() -> None:
    assert Company.references == {"sector_id": "sector"}
    assert Company(name="Hostal El Rincón").sector_id is None
    assert Company(name="Hostal El Rincón", sector_id="7").content()["sector_id"] == "7"


def test_sales_data_reference_their_customer_and_keep_exact_figures() -> None:
    data = SalesData(
        company_id="42",
        year=2026,
        sales_current="61234.50",
        sales_previous=9999.99,
        pyramid_current="A",
        pyramid_previous=PyramidClass.C,
        statistics_date="2026-12-01",
    )
    assert SalesData.references == {"company_id": "company"}
    assert (data.sales_current, data.sales_previous) == (Decimal("61234.50"), Decimal("9999.99"))
    assert (data.pyramid_current, data.statistics_date) == (PyramidClass.A, date(2026, 12, 1))
    assert data.content() == {
        "company_id": "42",
        "year": 2026,
        "sales_current": "61234.5",
        "sales_previous": "9999.99",
        "pyramid_current": "A",
        "pyramid_previous": "C",
        "statistics_date": "2026-12-01",
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"year": 2026}, "company_id"),
        ({"company_id": "1", "year": 1066}, "year"),
        ({"company_id": "1", "year": 2026, "pyramid_current": "D"}, "pyramid_current"),
    ],
)
def test_invalid_sales_data_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SalesData.model_validate(data)
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]


@pytest.mark.parametrize(
    ("sales", "expected"),
    [
        (Decimal("50000"), PyramidClass.A),
        (Decimal("120000.01"), PyramidClass.A),
        (Decimal("49999.99"), PyramidClass.B),
        (Decimal("10000"), PyramidClass.B),
        (Decimal("9999.99"), PyramidClass.C),
        (Decimal("0"), PyramidClass.C),
        (Decimal("-15"), PyramidClass.C),  # credit notes outweighing the sales
        (None, None),
    ],
)
def test_pyramid_class_from_the_thresholds(
    sales: Decimal | None, expected: PyramidClass | None
) -> None:
    assert pyramid_class(sales, A_FROM, B_FROM) is expected


def test_pyramid_thresholds_must_not_be_swapped() -> None:
    assert pyramid_class(Decimal("5"), Decimal("5"), Decimal("5")) is PyramidClass.A
    with pytest.raises(ValueError, match=r"A \(100\) must not be below B \(200\)"):
        pyramid_class(Decimal("150"), Decimal("100"), Decimal("200"))


@pytest.mark.parametrize("entity", ["sector", "sales_data"])
def test_default_samples_are_valid_and_differ(entity: str) -> None:
    model = model_for(entity)
    first, second = (model.model_validate(default_sample(entity, i)) for i in (0, 1))
    assert first.fingerprint() != second.fingerprint()
    if entity == "sector":
        assert first.content() == {"code": "S000000", "name": "Contract sector 0"}
