"""VAT numbers and tax codes, validated and normalised with python-stdnum.

Normal forms: a VAT number is its ISO country prefix plus the compact number
(``IT00743110157``, ``DK13585628``, ``GB980780684``; Greece keeps ``EL``); a US federal tax id
(EIN) is ``12-3456789``. Tax codes (codice fiscale, CPR, NIF, Steuernummer, UTR, SSN/EIN, the
Hungarian adószám) are kept in the compact form their module gives.
"""

from __future__ import annotations

from functools import lru_cache
from types import ModuleType

from stdnum import exceptions as stdnum_errors
from stdnum import get_cc_module
from stdnum.de import idnr as de_idnr
from stdnum.de import stnr as de_stnr
from stdnum.dk import cpr as dk_cpr
from stdnum.dk import cvr as dk_cvr
from stdnum.es import nif as es_nif
from stdnum.eu import vat as eu_vat
from stdnum.gb import utr as gb_utr
from stdnum.gb import vat as gb_vat
from stdnum.hu import anum as hu_anum
from stdnum.it import codicefiscale as it_cf
from stdnum.it import iva as it_iva
from stdnum.us import ein as us_ein
from stdnum.us import itin as us_itin
from stdnum.us import ssn as us_ssn

_COUNTRY_NAMES = {
    "IT": "Italian",
    "HU": "Hungarian",
    "DK": "Danish",
    "ES": "Spanish",
    "DE": "German",
    "GB": "British",
    "US": "US",
    "EL": "Greek",
}


def _describe(error: Exception) -> str:
    if isinstance(error, stdnum_errors.InvalidChecksum):
        return "its check digit is wrong"
    if isinstance(error, stdnum_errors.InvalidLength):
        return "it has the wrong number of digits"
    if isinstance(error, stdnum_errors.InvalidFormat):
        return "it has characters that do not belong in it"
    if isinstance(error, stdnum_errors.InvalidComponent):
        return "a part of it is invalid"
    return str(error)


def _country_label(country: str) -> str:
    return _COUNTRY_NAMES.get(country, country)


def _vat_prefix(value: str) -> str | None:
    head = value[:2].upper()
    if head.isalpha():
        if head == "GR":
            return "EL"
        if head.lower() in eu_vat.MEMBER_STATES or head in {"EL", "GB", "XI"}:
            return head
    return None


@lru_cache(maxsize=131_072)
def _check(module: ModuleType, number: str) -> str:
    """``module.validate(number)``, remembered: a run meets each number several times (read,
    written, read back; a company's tax code is often its VAT number) and the check is the
    costliest part of reading a company. Failures raise and are not remembered.
    """
    if module is it_iva:
        plain = _plain_partita_iva(number)
        if plain is not None:
            return plain
    return str(module.validate(number))


#: each ASCII digit to the byte of its contribution to a Luhn sum where it is doubled
_DOUBLED = bytes.maketrans(b"0123456789", bytes((2 * d) // 10 + (2 * d) % 10 for d in range(10)))
#: what the six undoubled ASCII digits of a partita IVA add beyond their values
_ASCII_ZEROS = 6 * ord("0")
#: the office codes (digits 8-10) stdnum.it.iva accepts
_IT_OFFICES = frozenset({f"{n:03d}" for n in range(1, 101)} | {"120", "121", "888", "999"})


def _plain_partita_iva(number: str) -> str | None:
    """The compact form of a partita IVA written plainly (``IT`` and 11 ASCII digits, or the
    digits alone) that stdnum.it.iva accepts, else None to let stdnum decide and explain.

    The same rules as stdnum's ``validate`` (not all zeros in the first seven digits, a
    known office code, the Luhn check digit) without its character-by-character clean-up,
    which cost two thirds of reading an Italian company. Only acceptances are decided
    here: anything else, valid or not, goes to stdnum. A test holds the two to the same
    answers over every shape of input.
    """
    digits = number[2:] if number[:2] == "IT" else number
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        return None
    if digits[:7] == "0000000" or digits[7:10] not in _IT_OFFICES:
        return None
    # the Luhn sum over the digits' bytes: sums of bytes run in C, digit by digit they did
    # not (half the cost of checking a number a full read has not met before)
    ascii_digits = digits.encode()
    total = sum(ascii_digits[0::2]) - _ASCII_ZEROS + sum(ascii_digits[1::2].translate(_DOUBLED))
    return digits if total % 10 == 0 else None


@lru_cache(maxsize=64)
def _vat_module(prefix: str) -> ModuleType:
    """The stdnum module for the VAT numbers of an EU member state (EL is Greece)."""
    module = get_cc_module("gr" if prefix == "EL" else prefix.lower(), "vat")
    assert module is not None, prefix
    return module  # type: ignore[return-value]


def normalize_vat(value: str, country: str | None) -> str:
    """Return the normal form of a VAT number, or raise ValueError saying what is wrong.

    The country comes from the number's own prefix, else from ``country`` (the record's).
    """
    # dots are a common separator that only some of stdnum's country modules strip
    raw = value.strip().replace(".", "")
    if not raw:
        raise ValueError("it is empty; leave the field out instead")
    prefix = _vat_prefix(raw)
    if prefix is not None:
        raw = prefix + raw[2:]  # one normal form: a Greek GR... number becomes EL...
    else:
        if not country:
            raise ValueError(
                f"cannot tell which country {raw!r} belongs to: add the country prefix "
                "(e.g. IT00743110157) or set the record's country"
            )
        prefix = "EL" if country.upper() == "GR" else country.upper()
        if prefix == "US":
            return _normalize_with(us_ein, raw, "US", "federal tax id (EIN)", us_ein.format)
        raw = prefix + raw
    if prefix in {"GB", "XI"}:
        number = _normalize_with(gb_vat, raw, "GB", "VAT number")
        return prefix + number
    if prefix.lower() not in eu_vat.MEMBER_STATES and prefix != "EL":
        raise ValueError(f"{prefix} is not a country with VAT numbers syncbridge can check")
    try:
        # what stdnum.eu.vat.validate does, without its second clean-up pass
        number = _check(_vat_module(prefix), raw)
    except stdnum_errors.ValidationError as error:
        raise ValueError(
            f"{raw!r} is not a valid {_country_label(prefix)} VAT number: {_describe(error)}"
        ) from None
    return number if number.startswith(prefix) else prefix + number


def _normalize_with(
    module: ModuleType, raw: str, country: str, what: str, fmt: object = None
) -> str:
    try:
        number = _check(module, raw)
    except stdnum_errors.ValidationError as error:
        raise ValueError(
            f"{raw!r} is not a valid {_country_label(country)} {what}: {_describe(error)}"
        ) from None
    return str(fmt(number)) if callable(fmt) else number


def _hu_tax_number(raw: str) -> str:
    """The Hungarian adószám: 8-digit core (checked), VAT code digit, 2-digit county code."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) == 8:
        return str(hu_anum.validate(digits))
    if len(digits) != 11:
        raise stdnum_errors.InvalidLength()
    hu_anum.validate(digits[:8])
    if digits[8] not in "12345":
        raise stdnum_errors.InvalidComponent()
    return f"{digits[:8]}-{digits[8]}-{digits[9:]}"


_TAX_CODE_MODULES: dict[str, tuple[tuple[object, str], ...]] = {
    "IT": ((it_cf, "codice fiscale"), (it_iva, "codice fiscale")),
    "DK": ((dk_cpr, "CPR number"), (dk_cvr, "CVR number")),
    "ES": ((es_nif, "NIF"),),
    "DE": ((de_idnr, "tax id (IdNr)"), (de_stnr, "Steuernummer")),
    "GB": ((gb_utr, "UTR"),),
    # not stdnum.us.tin: its ATIN fallback accepts any nine digits, so nothing was checked
    "US": ((us_ssn, "tax id (SSN/EIN/ITIN)"), (us_ein, "federal tax id (EIN)"), (us_itin, "ITIN")),
}


_SHAPE_MATCHED = (stdnum_errors.InvalidChecksum, stdnum_errors.InvalidComponent)


def normalize_tax_code(value: str, country: str | None) -> str:
    """Return the normal form of a national tax code for ``country``, or raise ValueError.

    Countries without a checker here keep the value as given (trimmed, upper-cased).
    """
    raw = value.strip()
    if not raw:
        raise ValueError("it is empty; leave the field out instead")
    if not country:
        return raw.upper()
    country = country.upper()
    if country == "HU":
        try:
            return _hu_tax_number(raw)
        except stdnum_errors.ValidationError as error:
            raise ValueError(
                f"{raw!r} is not a valid Hungarian tax number (adószám): {_describe(error)}"
            ) from None
    candidates = _TAX_CODE_MODULES.get(country)
    if not candidates:
        return raw.upper()
    if country == "IT" and len(raw) == 11 and raw.isdigit():
        # a company's codice fiscale is its partita IVA (stdnum's codicefiscale hands such
        # a code to iva): checked as the VAT number it usually also is, once
        try:
            return _check(it_iva, "IT" + raw)
        except stdnum_errors.ValidationError as error:
            raise ValueError(
                f"{raw!r} is not a valid Italian codice fiscale: {_describe(error)}"
            ) from None
    # report the first candidate the value has the shape of (its check digit or a part of
    # it failed), else the first candidate: a mistyped Danish CVR is not "a CPR number with
    # the wrong number of digits"
    failure: tuple[Exception, str] | None = None
    for module, what in candidates:
        try:
            return _check(module, raw)  # type: ignore[arg-type]
        except stdnum_errors.ValidationError as error:
            if failure is None or (
                isinstance(error, _SHAPE_MATCHED) and not isinstance(failure[0], _SHAPE_MATCHED)
            ):
                failure = (error, what)
    assert failure is not None
    failed, label = failure
    raise ValueError(
        f"{raw!r} is not a valid {_country_label(country)} {label}: {_describe(failed)}"
    )
