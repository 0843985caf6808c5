"""Seed 003's sales statistics: the management application sends each customer's sales, and
the CRM receives them with the customer's pyramid class (ABC, thresholds in the config)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from syncbridge.config.loader import parse
from syncbridge.errors import ConfigError
from tests.engine.bed import Bed

RULES = {
    "company": {"direction": "left-to-right"},
    "sales_data": {
        "direction": "left-to-right",
        "pyramid": {"a_from": "100000", "b_from": "20000"},
    },
}


def test_the_classes_are_computed_from_the_sales_sent(tmp_path: Path) -> None:
    bed = Bed(tmp_path, RULES)
    big, small = bed.put("left", "company", [{"name": "Viajes Sol"}, {"name": "Tours Mar"}])
    [figures, _] = bed.put(
        "left",
        "sales_data",
        [
            {"company_id": big, "year": 2026, "sales_current": "150000.00",
             "sales_previous": "90000.00", "statistics_date": "2026-12-01"},
            {"company_id": small, "year": 2026, "sales_current": "5000.00"},
        ],
    )

    first = bed.sync()

    # the line says which day's statistics it sent
    [sales] = [result for result in first.entities if result.entity == "sales_data"]
    assert (sales.result, sales.message) == ("ok", "as of 2026-12-01")
    names = {row["id"]: row["name"] for row in bed.rows("right", "company")}
    right = {
        names[row["company_id"]]: (
            Decimal(row["sales_current"]), row["pyramid_current"], row["pyramid_previous"]
        )
        for row in bed.rows("right", "sales_data")
    }
    assert right == {
        "Viajes Sol": (Decimal("150000.00"), "A", "B"),
        "Tours Mar": (Decimal("5000.00"), "C", None),
    }
    assert [row["pyramid_current"] for row in bed.rows("left", "sales_data")] == [None, None]

    bed.edit("left", "sales_data", figures, sales_current="60000.00")  # a weaker year
    run = bed.sync()
    assert bed.outcomes(run.run_id, "sales_data") == {"updated": 1}
    assert sorted(row["pyramid_current"] for row in bed.rows("right", "sales_data")) == [
        "B", "C",
    ]
    assert bed.outcomes(bed.sync().run_id, "sales_data") == {}  # in step


def test_thresholds_belong_to_sales_data_and_go_down(tmp_path: Path) -> None:
    bed = Bed(tmp_path, {"company": {**RULES["company"], "pyramid": {"a_from": 1, "b_from": 0}}})
    with pytest.raises(ConfigError) as raised:
        parse(bed.config.read_text())
    assert "syncs.main.entities.company.pyramid: only a sales_data rule has pyramid" in str(
        raised.value
    )
    (tmp_path / "b").mkdir()
    bad = Bed(tmp_path / "b", {"sales_data": {"pyramid": {"a_from": 10, "b_from": 20}}})
    with pytest.raises(ConfigError) as raised:
        parse(bad.config.read_text())
    assert "a_from (10) is below b_from (20); class A starts higher" in str(raised.value)
