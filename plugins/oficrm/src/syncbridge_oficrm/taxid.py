"""Spanish tax ids (NIF of people, NIE of foreigners, CIF of companies) with python-stdnum.

OfiCRM keeps one tax id column per customer; a Spanish customer's holds a NIF/NIE or a CIF.
``stdnum.es.nif`` knows DNI/NIE based NIFs and ``stdnum.es.cif`` company CIFs; a value is
valid when either accepts it. Messages name the canonical field *and* the OfiCRM column, so
the person fixing it knows where to look.
"""

from __future__ import annotations

from stdnum import exceptions as stdnum_errors
from stdnum.es import cif as es_cif
from stdnum.es import nif as es_nif

__all__ = ["spanish_tax_id"]

_WHY = {
    stdnum_errors.InvalidChecksum: "its check letter/digit is wrong",
    stdnum_errors.InvalidLength: "it must have 9 characters (8 digits and a letter, or a "
    "letter, 7 digits and a check character)",
    stdnum_errors.InvalidFormat: "it has characters that do not belong in a NIF/CIF",
    stdnum_errors.InvalidComponent: "its first letter is not a valid NIF/CIF type",
}


def _why(error: stdnum_errors.ValidationError) -> str:
    for kind, text in _WHY.items():
        if isinstance(error, kind):
            return text
    return str(error)


def spanish_tax_id(value: str, where: str) -> str:
    """``value`` as a compact, valid Spanish NIF/NIE/CIF, or ValueError naming ``where``.

    ``where`` names the field, e.g. ``"tax_code (clientes.cif_nif)"``. The ``ES`` prefix of a
    VAT-style number is accepted and dropped: the column holds the national id.
    """
    compact = es_nif.compact(value)
    if compact.startswith("ES"):
        compact = compact[2:]
    try:
        return str(es_nif.validate(compact))
    except stdnum_errors.ValidationError as nif_error:
        try:
            return str(es_cif.validate(compact))
        except stdnum_errors.ValidationError:
            raise ValueError(
                f"{where}: {value!r} is not a valid Spanish NIF/CIF: {_why(nif_error)}; "
                "correct the customer's tax id (e.g. B58378431 for a company, "
                "12345678Z for a person)"
            ) from None
