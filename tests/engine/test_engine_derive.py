"""Derived records: an accepted quote becomes an order on the other side, once."""

from __future__ import annotations

from pathlib import Path

from tests.engine.bed import Bed

QUOTE_TO_ORDER = {
    "company": {"direction": "left-to-right"},
    "quote": {"direction": "left-to-right"},
}


def make_bed(tmp_path: Path) -> Bed:
    bed = Bed(tmp_path, QUOTE_TO_ORDER)
    text = bed.config.read_text()
    text += (
        "\n[[syncs.main.entities.quote.derive]]\n"
        'when = { status = "accepted" }\n'
        'create = "order"\n'
        'link_field = "quote_id"\n'
    )
    bed.config.write_text(text)
    return bed


def quote(company_id: str, number: str, status: str = "sent") -> dict[str, object]:
    return {
        "number": number,
        "date": "2026-11-20",
        "company_id": company_id,
        "status": status,
        "lines": [{"description": "Licenza annuale", "quantity": "3", "unit_price": "120.00"}],
    }


def test_an_accepted_quote_creates_one_order_linked_to_the_quote(tmp_path: Path) -> None:
    bed = make_bed(tmp_path)
    [acme] = bed.put("left", "company", [{"name": "ACME S.r.l.", "city": "Milano"}])
    q1, _q2 = bed.put("left", "quote", [quote(acme, "P-1"), quote(acme, "P-2")])
    first = bed.sync()
    assert bed.outcomes(first.run_id, "order") == {}
    assert bed.rows("right", "order") == []

    bed.edit("left", "quote", q1, status="accepted")
    second = bed.sync()
    assert bed.outcomes(second.run_id, "order") == {"created": 1}
    [order] = bed.rows("right", "order")
    [right_company] = bed.rows("right", "company")
    right_quote = next(q for q in bed.rows("right", "quote") if q["number"] == "P-1")
    assert order["company_id"] == right_company["id"]
    assert order["quote_id"] == right_quote["id"]
    assert order["lines"][0]["description"] == "Licenza annuale"
    assert order["lines"][0]["quantity"] == "3"

    bed.edit("left", "quote", q1, notes="accepted by phone")  # changes again: no second order
    third = bed.sync(full=True)
    assert bed.outcomes(third.run_id, "order") == {}
    assert len(bed.rows("right", "order")) == 1


def test_a_derivation_is_refused_at_config_time_when_it_makes_no_sense(tmp_path: Path) -> None:
    bed = make_bed(tmp_path)
    bed.config.write_text(
        bed.config.read_text().replace('link_field = "quote_id"', 'link_field = "quote_ref"')
    )
    result = bed.cli("plan")
    assert result.exit_code == 2
    assert (
        "syncs.main.entities.quote.derive[0].link_field: order has no field 'quote_ref'"
        in result.stderr
    )
