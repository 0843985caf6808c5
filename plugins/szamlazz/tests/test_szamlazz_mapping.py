"""Mapping and the small pure parts: VAT keys, tax numbers, line amounts, XML in and out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from syncbridge import RecordError
from syncbridge.models import Invoice
from syncbridge_szamlazz import agent, mapping, taxnumber, vat, xmltree


def _invoice(**line: object) -> Invoice:
    return Invoice(
        date=date(2026, 1, 5),
        currency="HUF",
        company_id="C1",
        status="issued",
        lines=[{"description": "x", "quantity": 3, "unit_price": "333.33", **line}],
    )


def test_line_amounts_are_rounded_per_line_as_the_agent_checks_them() -> None:
    native = mapping.map_out("invoice", _invoice(vat_percent=27))
    [item] = native["tetelek"]
    assert (item["nettoErtek"], item["afaErtek"], item["bruttoErtek"]) == (
        "999.99",
        "270.00",
        "1269.99",
    )
    assert item["afakulcs"] == "27" and "mennyisegiEgyseg" not in item  # no unit: sent empty


def test_a_vat_code_wins_over_the_percentage() -> None:
    [item] = mapping.map_out("invoice", _invoice(vat_rate_id="TAM"))["tetelek"]
    assert (item["afakulcs"], item["afaErtek"]) == ("TAM", "0.00")


def test_a_line_without_a_hungarian_vat_rate_is_refused_with_the_fix() -> None:
    with pytest.raises(RecordError, match=r"^lines\[0\]\.vat_percent: 22% is not a Hungarian"):
        mapping.map_out("invoice", _invoice(vat_percent=22))
    with pytest.raises(RecordError, match=r"^lines\[0\]\.vat_percent: every line needs its VAT"):
        mapping.map_out("invoice", _invoice())
    with pytest.raises(RecordError, match=r"^lines\[0\]\.discount_percent: Számlázz.hu items"):
        mapping.map_out("invoice", _invoice(vat_percent=27, discount_percent=10))


def test_vat_keys() -> None:
    assert vat.percent_of("18") == Decimal(18) and vat.percent_of("EUFAD37") == Decimal(0)
    assert vat.key_for(Decimal("5.00"), None) == "5"
    assert vat.key_for(None, "AAM") == "AAM"
    assert len(vat.KEYS) == 25


def test_tax_numbers_are_normalised_or_refused() -> None:
    assert taxnumber.normalise("12892312 2 13") == "12892312-2-13"
    assert taxnumber.normalise("12892312213") == "12892312-2-13"
    assert taxnumber.normalise_eu("HU12892312") == "HU12892312"
    with pytest.raises(ValueError, match=r"^adoszam: 'HU12892312' is not a Hungarian tax"):
        taxnumber.normalise("HU12892312")
    with pytest.raises(ValueError, match="invalid törzsszám 12892313"):
        taxnumber.normalise("12892313-2-13")


def test_requests_keep_their_element_order_and_leave_out_none() -> None:
    body = xmltree.render(
        "xmlszamlaxml",
        "http://www.szamlazz.hu/xmlszamlaxml",
        [("szamlaagentkulcs", "k"), ("szamlaszam", None), ("pdf", False), ("n", Decimal("1E+2"))],
    )
    assert body == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<xmlszamlaxml xmlns="http://www.szamlazz.hu/'
        b'xmlszamlaxml"><szamlaagentkulcs>k</szamlaagentkulcs><pdf>false</pdf><n>100</n>'
        b"</xmlszamlaxml>"
    )


def test_answers_decode_to_dicts_with_declared_lists() -> None:
    decoded = agent.decode(
        b'<szamla xmlns="http://www.szamlazz.hu/szamla"><tetelek><tetel><nev>a</nev></tetel>'
        b"</tetelek><x/></szamla>"
    )
    assert decoded == {"root": "szamla", "tetelek": {"tetel": [{"nev": "a"}]}, "x": ""}
    assert agent.decode(b"[ERR] Hiba") == {"root": "text", "text": "[ERR] Hiba"}
    with pytest.raises(ValueError, match="not well-formed XML"):
        agent.decode(b"<xmlszamlavalasz><sikeres>tr")
    with pytest.raises(ValueError, match="a PDF cut short"):
        agent.decode(b"%PDF-1.4\n1 0 obj")
    with pytest.raises(ValueError, match="an HTML page"):
        agent.decode(b"<html><body>502 Bad Gateway</body></html>")


def test_in_band_refusals_are_read_from_headers_then_body_then_text() -> None:
    encoded = httpx.Response(
        200, headers={"szlahu_error_code": "71", "szlahu_error": "M%C3%A1r+l%C3%A9tez%C5%91+X."}
    )
    assert agent.refusal_of(encoded, {}) == (71, "Már létező X.")
    body = {"root": "xmlszamlavalasz", "sikeres": "false", "hibakod": "3", "hibauzenet": "Hiba"}
    assert agent.refusal_of(httpx.Response(200), body) == (3, "Hiba")
    text = {"root": "text", "text": "[ERR] Számla mentés sikertelen. ---------- trace"}
    assert agent.refusal_of(httpx.Response(200), text) == (None, "Számla mentés sikertelen.")
    assert agent.refusal_of(httpx.Response(200), {"root": "szamla"}) is None
