"""Hungarian VAT keys (``afakulcs``): a percentage, or a code for a 0% treatment.

An item's ``afakulcs`` is a string: ``27``, ``18``, ``5``, ``0`` (a rate), or one of the codes
below, which carry no VAT on the invoice itself and say why (exempt, reverse charge, outside
the scope, intra-EU supply...). Query answers split them: ``afakulcs`` the number and
``afatipus`` the code. The connector reads them as canonical VAT rates whose id is the key.
"""

from __future__ import annotations

from decimal import Decimal

#: the rates in force (27 general, 18 and 5 reduced) and 0
RATES: tuple[str, ...] = ("27", "18", "5", "0")

#: the 0% codes client libraries send, with what each means
CODES: dict[str, str] = {
    "TAM": "tárgyi adómentes (exempt by the nature of the supply)",
    "AAM": "alanyi adómentes (exempt taxpayer)",
    "EU": "intra-EU supply of goods",
    "EUK": "supply of services to another EU member state",
    "MAA": "mentes az adó alól (exempt from tax)",
    "F.AFA": "fordított adózás (domestic reverse charge)",
    "K.AFA": "különbözeti adózás (margin scheme)",
    "ÁKK": "outside the scope of the VAT act",
    "TAHK": "not taxable in Hungary (outside the scope)",
    "TEHK": "supply not taxable in Hungary",
    "EUT": "intra-EU supply (tax-exempt)",
    "EUKT": "non-EU supply (tax-exempt)",
    "HO": "export outside the EU",
    "EUE": "EU supply, not VAT-registered buyer",
    "EUFADE": "EU reverse charge (other member state's VAT)",
    "EUFAD37": "reverse charge under section 37 of the VAT act",
    "ATK": "outside the scope of VAT",
    "NAM": "exempt: international transaction",
    "EAM": "exempt: export of goods",
    "KBAUK": "exempt: intra-EU supply of goods",
    "KBAET": "exempt: intra-EU supply of new means of transport",
}

KEYS: tuple[str, ...] = (*RATES, *CODES)


def is_key(value: str) -> bool:
    """Whether ``value`` is a VAT key the connector sends (a rate in force or a code)."""
    return value in RATES or value in CODES


def percent_of(key: str) -> Decimal:
    """The VAT percentage of a key: the number for a rate, 0 for a code."""
    return Decimal(key) if key in RATES or key.isdigit() else Decimal(0)


def key_for(percent: Decimal | None, code: str | None) -> str:
    """The key to send for a line: its code when it names one, else its percentage.

    Raises ValueError naming the fix for a line that says neither, or a percentage that is
    not a Hungarian rate.
    """
    if code:
        code = code.strip()
        if code in CODES or code in RATES:
            return code
    if percent is None:
        raise ValueError(
            "lines.vat_percent: every line needs its VAT (27, 18, 5 or 0), or a VAT key "
            f"such as AAM as its vat_rate_id; Számlázz.hu keys are {', '.join(KEYS)}"
        )
    text = format(percent.normalize(), "f")
    if text not in RATES:
        raise ValueError(
            f"lines.vat_percent: {text}% is not a Hungarian VAT rate ({', '.join(RATES)}); "
            "for an exempt line name its VAT key (e.g. AAM, TAM, EU) as vat_rate_id"
        )
    return text
