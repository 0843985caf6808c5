"""Hungarian tax numbers and EU VAT numbers, checked with python-stdnum before they move.

MiniCRM keeps a contact's *adószám* in ``VatNumber`` (``12345676-2-41``: an 8-digit core with
a check digit, the VAT code, the county code) and its EU VAT number in ``EUVatNumber``
(``HU12345676``). A number that does not check out fails its record with a reason naming the
MiniCRM field, what is wrong, and how to fix it, rather than travelling on.
"""

from __future__ import annotations

from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat
from stdnum.hu import anum

from syncbridge import RecordError

#: the VAT code digit of an adószám: 1 exempt, 2 VAT payer, 3 simplified, 4 group member,
#: 5 group representative
_VAT_CODES = "12345"


def _why(error: stdnum_errors.ValidationError) -> str:
    message: object = getattr(error, "message", None)
    return str(message) if message else type(error).__name__


def adoszam(raw: str, field: str = "VatNumber") -> str:
    """The adószám as written, 8-1-2 digits (``12345676-2-41``), or its 8-digit core alone.

    Raises RecordError naming ``field`` and the fix.
    """
    digits = "".join(ch for ch in raw if ch.isdigit())
    fix = (
        f"{field}: {raw!r} is not a valid Hungarian tax number (adószám): {{why}}; correct it "
        "on the contact in MiniCRM (8+1+2 digits, e.g. 12345676-2-41) or clear the field"
    )
    try:
        if len(digits) == 8:
            return str(anum.validate(digits))
        if len(digits) != 11:
            raise stdnum_errors.InvalidLength()
        anum.validate(digits[:8])
    except stdnum_errors.ValidationError as error:
        raise RecordError(fix.format(why=_why(error))) from None
    if digits[8] not in _VAT_CODES:
        raise RecordError(fix.format(why=f"the VAT code digit {digits[8]} is not 1-5"))
    return f"{digits[:8]}-{digits[8]}-{digits[9:]}"


def eu_vat_number(raw: str, field: str = "EUVatNumber") -> str:
    """The EU VAT number in its compact form with the country prefix (``HU12345676``).

    A number without a prefix is taken as Hungarian. Raises RecordError naming ``field``.
    """
    compact = "".join(ch for ch in raw.upper() if ch.isalnum())
    if compact[:2].isdigit():
        compact = "HU" + compact
    try:
        return str(eu_vat.validate(compact))
    except stdnum_errors.ValidationError as error:
        raise RecordError(
            f"{field}: {raw!r} is not a valid EU VAT number: {_why(error)}; correct it on the "
            "contact in MiniCRM (country prefix and number, e.g. HU12345676) or clear the field"
        ) from None
