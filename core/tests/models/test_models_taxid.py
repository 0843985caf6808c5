"""VAT numbers and national tax codes: normal forms and the exact messages for bad values."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from syncbridge.models import Company, Contact
from syncbridge.models.taxid import normalize_tax_code, normalize_vat


def _errors(model: type[Any], **data: Any) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        model(**data)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


# --------------------------------------------------------------------------- VAT: good values

VALID_VATS: list[tuple[str, str | None, str]] = [
    # Italy
    ("IT00743110157", None, "IT00743110157"),
    ("it00743110157", None, "IT00743110157"),
    ("IT 007 431 101 57", None, "IT00743110157"),
    ("IT-00743110157", None, "IT00743110157"),
    ("  IT00743110157  ", None, "IT00743110157"),
    ("00743110157", "IT", "IT00743110157"),
    ("00743110157", "it", "IT00743110157"),
    ("007 431 101 57", "IT", "IT00743110157"),
    ("00.743.110.157", "IT", "IT00743110157"),
    ("IT00.743.110.157", None, "IT00743110157"),
    # Hungary
    ("HU12892312", None, "HU12892312"),
    ("hu12892312", None, "HU12892312"),
    ("HU 1289 2312", None, "HU12892312"),
    ("12892312", "HU", "HU12892312"),
    ("1289.2312", "HU", "HU12892312"),
    # Denmark
    ("DK13585628", None, "DK13585628"),
    ("DK 13 58 56 28", None, "DK13585628"),
    ("13585628", "DK", "DK13585628"),
    ("13.58.56.28", "DK", "DK13585628"),
    # Spain: CIF, DNI and NIE forms
    ("ESB58378431", None, "ESB58378431"),
    ("esb58378431", None, "ESB58378431"),
    ("ES B-58378431", None, "ESB58378431"),
    ("B58378431", "ES", "ESB58378431"),
    ("B.58378431", "ES", "ESB58378431"),
    ("54362315K", "ES", "ES54362315K"),
    ("X2482300W", "ES", "ESX2482300W"),
    # Germany
    ("DE136695976", None, "DE136695976"),
    ("DE 136.695.976", None, "DE136695976"),
    ("136695976", "DE", "DE136695976"),
    ("136 695 976", "DE", "DE136695976"),
    # United Kingdom and Northern Ireland
    ("GB980780684", None, "GB980780684"),
    ("gb980780684", None, "GB980780684"),
    ("GB 980 7806 84", None, "GB980780684"),
    ("980780684", "GB", "GB980780684"),
    ("980 7806 84", "GB", "GB980780684"),
    ("980.7806.84", "GB", "GB980780684"),
    ("XI980780684", None, "XI980780684"),
    ("XI 980 7806 84", None, "XI980780684"),
    # United States: the federal tax id (EIN), whose two-digit prefix is an IRS campus code
    ("12-3456789", "US", "12-3456789"),  # 12: Andover
    ("123456789", "US", "12-3456789"),
    ("04-2103594", "US", "04-2103594"),  # 04: Brookhaven
    ("04.2103594", "US", "04-2103594"),
    ("12-3456789", "us", "12-3456789"),
    # Greece: both prefixes give the one normal form, EL
    ("EL094259216", None, "EL094259216"),
    ("GR094259216", None, "EL094259216"),
    ("094259216", "GR", "EL094259216"),
    ("094259216", "EL", "EL094259216"),
    # another member state, through stdnum's EU module
    ("FR40303265045", None, "FR40303265045"),
    # the number's own prefix wins over the record's country
    ("DE136695976", "IT", "DE136695976"),
    ("IT00743110157", "US", "IT00743110157"),
]


@pytest.mark.parametrize(("value", "country", "expected"), VALID_VATS)
def test_normalize_vat_valid(value: str, country: str | None, expected: str) -> None:
    assert normalize_vat(value, country) == expected


@pytest.mark.parametrize(("value", "country", "expected"), VALID_VATS)
def test_normal_form_is_a_fixed_point(value: str, country: str | None, expected: str) -> None:
    """Normalising a normal form again changes nothing (no drift between sync runs)."""
    again_country = "US" if expected[2:3] == "-" else None
    assert normalize_vat(expected, again_country) == expected


# --------------------------------------------------------------------------- VAT: bad values

INVALID_VATS: list[tuple[str, str | None, str]] = [
    ("IT00743110158", None,
     "'IT00743110158' is not a valid Italian VAT number: its check digit is wrong"),
    ("00743110158", "IT",
     "'IT00743110158' is not a valid Italian VAT number: its check digit is wrong"),
    ("0074311015", "IT",
     "'IT0074311015' is not a valid Italian VAT number: it has the wrong number of digits"),
    ("IT0074311015A", None,
     "'IT0074311015A' is not a valid Italian VAT number: "
     "it has characters that do not belong in it"),
    ("IT", None,
     "'IT' is not a valid Italian VAT number: it has characters that do not belong in it"),
    ("HU12892313", None,
     "'HU12892313' is not a valid Hungarian VAT number: its check digit is wrong"),
    # the 11-digit domestic adószám is a tax code, not a VAT number
    ("12892312-2-42", "HU",
     "'HU12892312-2-42' is not a valid Hungarian VAT number: "
     "it has the wrong number of digits"),
    ("DK13585629", None,
     "'DK13585629' is not a valid Danish VAT number: its check digit is wrong"),
    ("1358562", "DK",
     "'DK1358562' is not a valid Danish VAT number: it has the wrong number of digits"),
    ("ESB58378432", None,
     "'ESB58378432' is not a valid Spanish VAT number: its check digit is wrong"),
    ("DE136695977", None,
     "'DE136695977' is not a valid German VAT number: its check digit is wrong"),
    ("13669597", "DE",
     "'DE13669597' is not a valid German VAT number: it has the wrong number of digits"),
    ("GB980780685", None,
     "'GB980780685' is not a valid British VAT number: its check digit is wrong"),
    ("980780685", "GB",
     "'GB980780685' is not a valid British VAT number: its check digit is wrong"),
    ("GB98078068", None,
     "'GB98078068' is not a valid British VAT number: it has the wrong number of digits"),
    ("07-3456789", "US",
     "'07-3456789' is not a valid US federal tax id (EIN): a part of it is invalid"),
    ("00-3456789", "US",
     "'00-3456789' is not a valid US federal tax id (EIN): a part of it is invalid"),
    ("12-345678", "US",
     "'12-345678' is not a valid US federal tax id (EIN): "
     "it has characters that do not belong in it"),
    ("ATU12345678", None, "'ATU12345678' is not a valid AT VAT number: its check digit is wrong"),
    # no prefix and no country: the message names both fixes
    ("00743110157", None,
     "cannot tell which country '00743110157' belongs to: add the country prefix "
     "(e.g. IT00743110157) or set the record's country"),
    ("123456789", "",
     "cannot tell which country '123456789' belongs to: add the country prefix "
     "(e.g. IT00743110157) or set the record's country"),
    ("00743110157", "CH", "CH is not a country with VAT numbers syncbridge can check"),
    ("", None, "it is empty; leave the field out instead"),
    ("   ", "IT", "it is empty; leave the field out instead"),
]


@pytest.mark.parametrize(("value", "country", "message"), INVALID_VATS)
def test_normalize_vat_invalid(value: str, country: str | None, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalize_vat(value, country)
    assert str(caught.value) == message


# --------------------------------------------------------------------------- tax codes: good

VALID_TAX_CODES: list[tuple[str, str | None, str]] = [
    # Italy: codice fiscale of a person, or the 11-digit code of a company
    ("RSSMRA85T10A562S", "IT", "RSSMRA85T10A562S"),
    ("rssmra85t10a562s", "IT", "RSSMRA85T10A562S"),
    ("RSS MRA 85T10 A562S", "IT", "RSSMRA85T10A562S"),
    ("00743110157", "IT", "00743110157"),
    ("IT00743110157", "IT", "00743110157"),
    # Hungary: the 8-digit core or the full 11-digit adószám
    ("12892312", "HU", "12892312"),
    ("12 892 312", "HU", "12892312"),
    ("HU12892312", "HU", "12892312"),
    ("12892312-2-42", "HU", "12892312-2-42"),
    ("12892312242", "HU", "12892312-2-42"),
    ("1289 2312 2 42", "HU", "12892312-2-42"),
    ("12892312-5-99", "HU", "12892312-5-99"),
    # Denmark: CPR (people) or CVR (companies)
    ("211062-5629", "DK", "2110625629"),
    ("2110625629", "DK", "2110625629"),
    ("13585628", "DK", "13585628"),
    ("DK13585628", "DK", "13585628"),
    # Spain: NIF in its DNI, NIE and CIF forms
    ("54362315K", "ES", "54362315K"),
    ("54362315-K", "ES", "54362315K"),
    ("X2482300W", "ES", "X2482300W"),
    ("x2482300w", "ES", "X2482300W"),
    ("B58378431", "ES", "B58378431"),
    # Germany: the personal IdNr or a Steuernummer
    ("36574261809", "DE", "36574261809"),
    ("36 574 261 809", "DE", "36574261809"),
    ("181/815/08155", "DE", "18181508155"),
    ("9181081508155", "DE", "9181081508155"),
    # United Kingdom: UTR
    ("1955839661", "GB", "1955839661"),
    ("19558 39661", "GB", "1955839661"),
    ("K1955839661", "GB", "1955839661"),
    # United States: SSN, EIN, ITIN (compact form)
    ("536-90-4399", "US", "536904399"),
    ("536904399", "US", "536904399"),
    ("04-2103594", "US", "042103594"),
    ("12-3456789", "US", "123456789"),
    ("912-90-3456", "US", "912903456"),
    # countries without a checker, or no country: trimmed and upper-cased
    ("fr-abc 123", "FR", "FR-ABC 123"),
    ("  rssmra85t10a562s ", None, "RSSMRA85T10A562S"),
    ("anything", "", "ANYTHING"),
    ("2110625629", "dk", "2110625629"),
]


@pytest.mark.parametrize(("value", "country", "expected"), VALID_TAX_CODES)
def test_normalize_tax_code_valid(value: str, country: str | None, expected: str) -> None:
    assert normalize_tax_code(value, country) == expected


# --------------------------------------------------------------------------- tax codes: bad

INVALID_TAX_CODES: list[tuple[str, str | None, str]] = [
    ("RSSMRA85T10A562T", "IT",
     "'RSSMRA85T10A562T' is not a valid Italian codice fiscale: its check digit is wrong"),
    ("RSSMRA85T10A562", "IT",
     "'RSSMRA85T10A562' is not a valid Italian codice fiscale: "
     "it has the wrong number of digits"),
    ("00743110158", "IT",
     "'00743110158' is not a valid Italian codice fiscale: its check digit is wrong"),
    ("12892313", "HU",
     "'12892313' is not a valid Hungarian tax number (adószám): its check digit is wrong"),
    ("12892313-2-42", "HU",
     "'12892313-2-42' is not a valid Hungarian tax number (adószám): its check digit is wrong"),
    ("12892312-6-42", "HU",
     "'12892312-6-42' is not a valid Hungarian tax number (adószám): a part of it is invalid"),
    ("12892312-0-42", "HU",
     "'12892312-0-42' is not a valid Hungarian tax number (adószám): a part of it is invalid"),
    ("1289231", "HU",
     "'1289231' is not a valid Hungarian tax number (adószám): "
     "it has the wrong number of digits"),
    ("12892312-12", "HU",
     "'12892312-12' is not a valid Hungarian tax number (adószám): "
     "it has the wrong number of digits"),
    ("3113625629", "DK",
     "'3113625629' is not a valid Danish CPR number: a part of it is invalid"),
    # an 8-digit value is shaped like a CVR number, so the CVR check is the one reported
    ("13585629", "DK", "'13585629' is not a valid Danish CVR number: its check digit is wrong"),
    ("1234567", "DK",
     "'1234567' is not a valid Danish CPR number: it has the wrong number of digits"),
    ("54362315Z", "ES", "'54362315Z' is not a valid Spanish NIF: its check digit is wrong"),
    ("X2482300A", "ES", "'X2482300A' is not a valid Spanish NIF: its check digit is wrong"),
    ("B58378432", "ES", "'B58378432' is not a valid Spanish NIF: its check digit is wrong"),
    ("5436231", "ES", "'5436231' is not a valid Spanish NIF: it has the wrong number of digits"),
    ("1234", "DE", "'1234' is not a valid German tax id (IdNr): it has the wrong number of digits"),
    ("3657426180A", "DE",
     "'3657426180A' is not a valid German tax id (IdNr): "
     "it has characters that do not belong in it"),
    ("1955839662", "GB", "'1955839662' is not a valid British UTR: its check digit is wrong"),
    ("123", "GB", "'123' is not a valid British UTR: it has the wrong number of digits"),
    # SSNs that can never be issued (area 000 and 666, the Woolworth wallet number)
    ("000-12-3456", "US",
     "'000-12-3456' is not a valid US tax id (SSN/EIN/ITIN): a part of it is invalid"),
    ("666-90-4399", "US",
     "'666-90-4399' is not a valid US tax id (SSN/EIN/ITIN): a part of it is invalid"),
    ("078-05-1120", "US",
     "'078-05-1120' is not a valid US tax id (SSN/EIN/ITIN): a part of it is invalid"),
    ("07-3456789", "US",
     "'07-3456789' is not a valid US federal tax id (EIN): a part of it is invalid"),
    ("AB1234567", "US",
     "'AB1234567' is not a valid US tax id (SSN/EIN/ITIN): "
     "it has characters that do not belong in it"),
    ("", "IT", "it is empty; leave the field out instead"),
    ("  ", None, "it is empty; leave the field out instead"),
]


@pytest.mark.parametrize(("value", "country", "message"), INVALID_TAX_CODES)
def test_normalize_tax_code_invalid(value: str, country: str | None, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalize_tax_code(value, country)
    assert str(caught.value) == message


# --------------------------------------------------------------------------- through the models


@pytest.mark.parametrize("model", [Company, Contact])
def test_vat_number_field_uses_the_record_country(model: type[Any]) -> None:
    names: dict[str, str] = {"name": "ACME"} if model is Company else {"last_name": "Rossi"}
    record = model(country="it", vat_number="007 431 101 57", **names)
    assert record.country == "IT"
    assert record.vat_number == "IT00743110157"


@pytest.mark.parametrize("model", [Company, Contact])
def test_tax_code_field_uses_the_record_country(model: type[Any]) -> None:
    names: dict[str, str] = {"name": "ACME"} if model is Company else {"last_name": "Kovács"}
    record = model(country="HU", tax_code="12892312242", **names)
    assert record.tax_code == "12892312-2-42"


def test_country_is_normalised_before_the_vat_number_reads_it() -> None:
    assert Company(name="ACME", country="UK", vat_number="980780684").vat_number == "GB980780684"
    assert Company(name="ACME", country="gr", vat_number="094259216").vat_number == "EL094259216"


def test_equal_vat_numbers_written_differently_are_equal_after_normalisation() -> None:
    a = Company(name="ACME", country="IT", vat_number="00743110157")
    b = Company(name="ACME", country="IT", vat_number="it 00743110157")
    assert a.vat_number == b.vat_number == "IT00743110157"
    assert a.fingerprint() == b.fingerprint()


def test_vat_number_bad_check_digit_reported_on_the_field() -> None:
    assert _errors(Company, name="ACME", country="IT", vat_number="00743110158") == [
        (("vat_number",),
         "Value error, 'IT00743110158' is not a valid Italian VAT number: "
         "its check digit is wrong"),
    ]


def test_vat_number_without_prefix_or_country_names_the_fix() -> None:
    assert _errors(Contact, first_name="Mario", vat_number="00743110157") == [
        (("vat_number",),
         "Value error, cannot tell which country '00743110157' belongs to: add the country "
         "prefix (e.g. IT00743110157) or set the record's country"),
    ]


def test_vat_number_with_an_invalid_country_reports_both_fields() -> None:
    assert _errors(Company, name="ACME", country="XX", vat_number="00743110157") == [
        (("country",),
         "Value error, 'XX' is not an ISO 3166-1 alpha-2 country code (e.g. IT, HU, DK)"),
        (("vat_number",),
         "Value error, cannot tell which country '00743110157' belongs to: add the country "
         "prefix (e.g. IT00743110157) or set the record's country"),
    ]


def test_vat_number_with_prefix_needs_no_country() -> None:
    assert Company(name="ACME", vat_number="DK 13 58 56 28").vat_number == "DK13585628"


def test_us_company_vat_number_is_the_ein() -> None:
    assert Company(name="ACME Inc", country="US", vat_number="123456789").vat_number == (
        "12-3456789"
    )
    assert _errors(Company, name="ACME Inc", country="US", vat_number="07-3456789") == [
        (("vat_number",),
         "Value error, '07-3456789' is not a valid US federal tax id (EIN): "
         "a part of it is invalid"),
    ]


def test_tax_code_bad_value_reported_on_the_field() -> None:
    assert _errors(Contact, last_name="Rossi", country="IT", tax_code="RSSMRA85T10A562T") == [
        (("tax_code",),
         "Value error, 'RSSMRA85T10A562T' is not a valid Italian codice fiscale: "
         "its check digit is wrong"),
    ]


def test_tax_code_without_country_is_kept_upper_cased() -> None:
    assert Contact(last_name="Rossi", tax_code=" rssmra85t10a562t ").tax_code == (
        "RSSMRA85T10A562T"
    )


@pytest.mark.parametrize("field", ["vat_number", "tax_code"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_tax_ids_become_none(field: str, blank: str) -> None:
    company = Company(name="ACME", country="IT", **{field: blank})
    assert getattr(company, field) is None


def test_assigned_vat_number_is_validated_against_the_current_country() -> None:
    company = Company(name="ACME", country="DK")
    company.vat_number = "13 58 56 28"
    assert company.vat_number == "DK13585628"
    with pytest.raises(ValidationError) as caught:
        company.vat_number = "13585629"
    assert [(e["loc"], e["msg"]) for e in caught.value.errors()] == [
        (("vat_number",),
         "Value error, 'DK13585629' is not a valid Danish VAT number: its check digit is wrong"),
    ]
    assert company.vat_number == "DK13585628"


def test_assigned_tax_code_is_validated_against_the_current_country() -> None:
    contact = Contact(first_name="Lars", country="DK")
    contact.tax_code = "211062-5629"
    assert contact.tax_code == "2110625629"
    with pytest.raises(ValidationError) as caught:
        contact.tax_code = "3113625629"
    assert [(e["loc"], e["msg"]) for e in caught.value.errors()] == [
        (("tax_code",),
         "Value error, '3113625629' is not a valid Danish CPR number: a part of it is invalid"),
    ]


def test_the_fast_partita_iva_check_gives_stdnums_answers() -> None:
    # the plain-digits path must accept exactly what stdnum.it.iva accepts of plain input,
    # with the same normal form, and leave everything else (rejections included) to stdnum
    import random

    from stdnum import luhn
    from stdnum.exceptions import ValidationError
    from stdnum.it import iva

    from syncbridge.models.taxid import _plain_partita_iva

    def stdnum_says(number: str) -> str | None:
        try:
            return str(iva.validate(number))
        except ValidationError:
            return None

    rng = random.Random(2026)
    offices = ["000", "001", "050", "100", "101", "119", "120", "121", "122", "888", "999"]
    numbers = []
    for _ in range(20_000):
        head = f"{rng.randrange(10**7):07d}{rng.choice(offices)}"
        numbers.append(head + luhn.calc_check_digit(head))  # right check digit
        numbers.append(f"{rng.randrange(10**11):011d}")  # mostly wrong ones
    full_width = "".join(chr(0xFF10 + int(d)) for d in "12345678903")  # what isdigit() takes
    numbers += ["00000000000", "0000000" + "0018", full_width, "1234567890"]
    numbers += [f"IT{n}" for n in numbers[:200]] + [f"it{n}" for n in numbers[:20]]
    numbers += [f" {n}" for n in numbers[:20]] + [n[:5] + "-" + n[5:] for n in numbers[:20]]
    accepted = 0
    for number in numbers:
        fast, slow = _plain_partita_iva(number), stdnum_says(number)
        if fast is not None:
            accepted += 1
            assert fast == slow, number
        elif number.isascii() and number.removeprefix("IT").isdigit():
            assert slow is None, number  # a plain valid number never misses the fast path
    assert accepted > 2_000
