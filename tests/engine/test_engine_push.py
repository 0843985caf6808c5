"""`syncbridge push`: one record against the sync's direction, references first."""

from __future__ import annotations

from pathlib import Path

from tests.engine.bed import Bed


def test_pushing_an_invoice_against_the_direction_creates_its_customer_first(
    tmp_path: Path,
) -> None:
    bed = Bed(
        tmp_path,
        {"company": {"direction": "left-to-right"}, "invoice": {"direction": "left-to-right"}},
    )
    bed.put("left", "company", [{"name": "Imported GmbH", "city": "Berlin"}])
    bed.sync()
    [new_customer] = bed.put("right", "company", [{"name": "CRM-only AG", "city": "Köln"}])
    [invoice] = bed.put(
        "right",
        "invoice",
        [
            {
                "number": "B24-7",
                "date": "2026-11-21",
                "company_id": new_customer,
                "lines": [{"description": "Beratung", "quantity": "4", "unit_price": "95.00"}],
            }
        ],
    )
    assert bed.sync().writes == 0  # the usual direction does not carry them

    result = bed.cli("push", "main", "invoice", "--from", "right", "--record", invoice, "-q")
    assert result.exit_code == 0, result.output
    left_companies = bed.by("left", "company", "name")
    assert set(left_companies) == {"Imported GmbH", "CRM-only AG"}
    [left_invoice] = bed.rows("left", "invoice")
    assert left_invoice["number"] == "B24-7"
    assert left_invoice["company_id"] == left_companies["CRM-only AG"]["id"]
    assert left_invoice["lines"][0]["description"] == "Beratung"
    # pushing again changes nothing, and the usual direction still writes nothing
    again = bed.cli("push", "main", "invoice", "--from", "right", "--record", invoice, "-q")
    assert again.exit_code == 0
    assert len(bed.rows("left", "invoice")) == 1
    assert bed.sync().writes == 0
