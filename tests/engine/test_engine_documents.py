"""Dependency order, reference data linked by value, waiting documents, locked invoices."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

from tests.engine.bed import Bed

ENTITIES = {
    "vat_rate": {"direction": "left-to-right", "create": False},
    "company": {"direction": "left-to-right"},
    "invoice": {"direction": "left-to-right"},
}


def invoice(company_id: str, vat_id: str, number: str) -> dict[str, object]:
    return {
        "number": number,
        "date": "2026-11-02",
        "company_id": company_id,
        "currency": "EUR",
        "lines": [
            {
                "description": "Consulenza",
                "quantity": "2",
                "unit_price": "150.00",
                "vat_rate_id": vat_id,
            }
        ],
    }


def test_reference_data_links_by_value_and_documents_carry_the_linked_ids(tmp_path: Path) -> None:
    bed = Bed(tmp_path, ENTITIES)
    left_vat = bed.put(
        "left", "vat_rate", [{"rate": "22", "name": "IVA 22%"}, {"rate": "10", "name": "IVA 10%"}]
    )
    right_vat = bed.put(
        "right",
        "vat_rate",
        [
            {"rate": "4", "name": "Ridotta"},
            {"rate": "10", "name": "Dieci"},
            {"rate": "22.00", "name": "Ordinaria"},
        ],
    )
    [acme] = bed.put("left", "company", [{"name": "ACME S.p.A.", "city": "Milano"}])
    bed.put("left", "invoice", [invoice(acme, left_vat[0], "1/2026")])

    run = bed.sync()
    assert bed.outcomes(run.run_id, "vat_rate") == {"linked": 2}
    [right_acme] = bed.rows("right", "company")
    [copy] = bed.rows("right", "invoice")
    assert copy["company_id"] == right_acme["id"]
    assert copy["lines"][0]["vat_rate_id"] == right_vat[2]  # 22 <-> 22.00, by value
    # the reference entity ran first: the run's items are in dependency order
    entities = [item.entity for item in bed.items(run.run_id)]
    assert entities == sorted(entities, key=["vat_rate", "company", "invoice"].index)


def test_configured_links_override_matching_by_value(tmp_path: Path) -> None:
    entities = {
        **ENTITIES,
        "vat_rate": {"direction": "left-to-right", "create": False, "links": {"1": "2"}},
    }
    bed = Bed(tmp_path, entities)
    bed.put("left", "vat_rate", [{"rate": "22", "name": "IVA 22%"}])
    bed.put("right", "vat_rate", [{"rate": "22", "name": "A"}, {"rate": "22", "name": "B"}])
    [acme] = bed.put("left", "company", [{"name": "ACME", "city": "Milano"}])
    bed.put("left", "invoice", [invoice(acme, "1", "7/2026")])
    bed.sync()
    [copy] = bed.rows("right", "invoice")
    assert copy["lines"][0]["vat_rate_id"] == "2"


def test_an_invoice_waits_for_its_company_and_goes_through_once_the_company_does(
    tmp_path: Path,
) -> None:
    bed = Bed(
        tmp_path,
        {"company": {"direction": "left-to-right"}, "invoice": {"direction": "left-to-right"}},
    )
    [bad] = bed.put("left", "company", [{"name": "Broken", "city": "Roma"}])
    with sqlite3.connect(tmp_path / "left.db") as db:
        db.execute("UPDATE company SET country = 'XX' WHERE id = ?", (int(bad),))
    bed.put(
        "left",
        "invoice",
        [
            {
                "number": "9/2026",
                "date": "2026-11-02",
                "company_id": bad,
                "lines": [{"description": "Canone", "unit_price": "10"}],
            }
        ],
    )
    first = bed.cli("run", "-q")
    assert first.exit_code == 1
    items = {(i.entity, i.action): i for i in bed.items(1)}
    assert items[("company", "failed")].reason.startswith("country: 'XX' is not an ISO 3166")
    assert items[("invoice", "waiting")].reason == (
        f"waiting on company {bad} (left), not linked yet"
    )
    assert bed.rows("right", "invoice") == []  # never written with a dangling reference

    bed.edit("left", "company", bad, country="IT")
    assert bed.cli("run", "-q").exit_code == 0
    [company] = bed.rows("right", "company")
    [copy] = bed.rows("right", "invoice")
    assert copy["company_id"] == company["id"]


def test_a_locked_invoice_on_the_target_is_never_overwritten(tmp_path: Path) -> None:
    bed = Bed(
        tmp_path,
        {"company": {"direction": "left-to-right"}, "invoice": {"direction": "left-to-right"}},
    )
    [acme] = bed.put("left", "company", [{"name": "ACME", "city": "Milano"}])
    [inv] = bed.put(
        "left",
        "invoice",
        [
            {
                "number": "3/2026",
                "date": "2026-11-02",
                "company_id": acme,
                "lines": [{"description": "A", "unit_price": "10"}],
            }
        ],
    )
    bed.sync()
    [copy] = bed.rows("right", "invoice")
    bed.edit("right", "invoice", copy["id"], locked=True, status="issued")
    bed.edit("left", "invoice", inv, notes="please pay")
    run = bed.sync()
    [item] = bed.items(run.run_id, "invoice")
    assert item.action == "conflict"
    assert item.reason.startswith("the right record is locked (issued); not overwritten")
    assert json.loads(item.detail)["notes"] == {
        "to": "right", "before": None, "after": "please pay"}
    assert bed.rows("right", "invoice")[0]["notes"] is None


def test_a_line_field_left_out_is_neither_compared_nor_blanked_on_the_other_side(
    tmp_path: Path,
) -> None:
    # a system whose lines have no unit (here: the rule leaves it out, as a connector that
    # does not map `lines.unit` would) must not make every full run rewrite every document,
    # nor wipe the units the other side keeps
    entities = {
        "company": {"direction": "left-to-right"},
        "invoice": {"direction": "left-to-right", "exclude": ["lines.unit"]},
    }
    bed = Bed(tmp_path, entities)
    [acme] = bed.put("left", "company", [{"name": "ACME", "city": "Milano"}])
    line = {"description": "Consulenza", "quantity": "2", "unit_price": "150.00", "unit": "ore"}
    [left_id] = bed.put("left", "invoice", [{"number": "1/2026", "date": "2026-11-02",
                                             "company_id": acme, "lines": [line]}])
    bed.sync()
    [copy] = bed.rows("right", "invoice")
    assert [(row["description"], row["unit"]) for row in copy["lines"]] == [("Consulenza", None)]

    full = bed.sync(full=True)  # "ore" on the left, nothing on the right: not a difference
    assert bed.items(full.run_id, "invoice") == []  # in step: counted, no report row
    assert full.writes == 0

    bed.edit("right", "invoice", copy["id"],
             lines=[{**copy["lines"][0], "unit": "h"}])  # the right side's own unit
    bed.edit("left", "invoice", left_id,
             lines=[{**line, "unit_price": "160.00"}])
    changed = bed.sync()
    assert bed.outcomes(changed.run_id, "invoice") == {"conflict": 1}  # both changed: left wins
    [copy] = bed.rows("right", "invoice")
    assert [(row["unit_price"], row["unit"]) for row in copy["lines"]] == [("160", "h")]


def test_a_locked_record_still_sends_its_own_changes_to_the_other_side(tmp_path: Path) -> None:
    """Seed 002: an invoice booked (locked) in the accounting system is paid there while the
    CRM edits its notes. The notes cannot go to the locked invoice (a conflict, reported
    until resolved), but the payment must reach the CRM all the same."""
    bed = Bed(
        tmp_path,
        {
            "company": {"direction": "both"},
            "invoice": {"direction": "both", "priority": "left"},
        },
    )
    [acme] = bed.put("left", "company", [{"name": "ACME", "city": "Milano"}])
    [crm] = bed.put(
        "left",
        "invoice",
        [{"number": "3/2026", "date": "2026-11-02", "company_id": acme,
          "lines": [{"description": "A", "unit_price": "100"}], "balance": "100.00"}],
    )
    bed.sync()
    [booked] = bed.rows("right", "invoice")
    bed.edit("right", "invoice", booked["id"], locked=True, status="issued")
    bed.sync()  # the booking flows back: the pair is in step again
    bed.edit("right", "invoice", booked["id"], balance="40.00")  # a payment of 60
    bed.edit("left", "invoice", crm, notes="please pay")

    for _ in range(2):  # reported on every run until resolved; the payment arrives once
        run = bed.sync()
        [item] = bed.items(run.run_id, "invoice")
        assert item.action == "conflict"
        assert item.reason.startswith("the right record is locked (issued); not overwritten")
        [left] = bed.rows("left", "invoice")
        [right] = bed.rows("right", "invoice")
        assert (Decimal(left["balance"]), left["notes"]) == (Decimal(40), "please pay")
        assert (Decimal(right["balance"]), right["notes"]) == (Decimal(40), None)


def test_a_number_the_target_assigns_is_never_written_there_and_comes_back(
    tmp_path: Path,
) -> None:
    """Számlázz.hu numbers its invoices itself (read only there): the invoicing app's number
    is never written to it, and the number it assigned is the truth the app receives."""
    rules = {
        "company": {"direction": "both"},
        "invoice": {"direction": "both", "priority": "left"},
    }
    bed = Bed(tmp_path, rules)
    bed.rewrite(rules, extensions={"right": ["tests.engine.assigned"]})
    [acme] = bed.put("left", "company", [{"name": "ACME", "city": "Milano"}])
    [mine] = bed.put("left", "invoice", [invoice(acme, None, "1/2026")])
    bed.sync()
    [issued] = bed.rows("right", "invoice")
    bed.edit("right", "invoice", issued["id"], number="SBT-2026-1")  # the system's number
    bed.sync()
    assert [r["number"] for r in bed.rows("left", "invoice")] == ["SBT-2026-1"]
    bed.edit("left", "invoice", mine, number="2/2026", notes="please pay")

    bed.sync()

    [right] = bed.rows("right", "invoice")
    [left] = bed.rows("left", "invoice")
    assert (right["number"], right["notes"]) == ("SBT-2026-1", "please pay")
    assert (left["number"], left["notes"]) == ("SBT-2026-1", "please pay")
    assert bed.outcomes(bed.sync().run_id, "invoice") == {}  # in step: nothing more to do
