"""The emulated organisation's books: the chart of sales accounts, VAT types, and the
arithmetic of invoice totals.

Dinero derives each line's VAT from the account it is posted to (the account's VAT code,
whose rate ``GET /vatTypes`` lists); totals are rounded to øre (two decimals) per line and
per invoice. The chart is the emulator's (README assumption 9): 1000 is the standard sales
account with 25% Danish VAT, 1010 sales without VAT (exports, exempt services).
"""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")

#: account number -> (name, VAT code)
ACCOUNTS: dict[int, tuple[str, str]] = {
    1000: ("Salg af varer/ydelser m/moms", "U25"),
    1010: ("Salg af varer/ydelser u/moms", "none"),
    55000: ("Bank", "none"),
}
SALES_ACCOUNTS = (1000, 1010)
DEPOSIT_ACCOUNT = 55000
VAT_TYPES: dict[str, tuple[str, Decimal]] = {
    "U25": ("Salgsmoms 25%", Decimal("0.25")),
    "none": ("Ingen moms", Decimal(0)),
}

_NAMESPACE = uuid.UUID("8c3a7c1e-4f0e-4b7e-9a55-2d1f6f0b9e10")


def seeded_guid(kind: str, index: int) -> str:
    """The GUID of the ``index``-th seeded record of ``kind`` (``contact``, ``product``,
    ``invoice``): the same in every emulator, so tests can name seeded records."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}-{index}"))


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def vat_rate(account: int) -> Decimal:
    """The VAT rate of ``account`` (0 for an account without VAT)."""
    code = ACCOUNTS.get(account, ("", "none"))[1]
    return VAT_TYPES[code][1]


def line_totals(line: dict[str, Any]) -> dict[str, Decimal]:
    """A product line's amounts: ``TotalAmount`` (net, after discount), its VAT and gross."""
    quantity = Decimal(str(line.get("Quantity") or 0))
    price = Decimal(str(line.get("BaseAmountValue") or 0))
    discount = Decimal(str(line.get("Discount") or 0))
    rate = vat_rate(int(line.get("AccountNumber") or 0))
    net = money(quantity * price * (1 - discount / 100))
    vat = money(net * rate)
    return {
        "TotalAmount": net,
        "Vat": vat,
        "TotalAmountInclVat": net + vat,
        "BaseAmountValueInclVat": money(price * (1 + rate)),
        "Rate": rate,
    }


def invoice_totals(lines: list[dict[str, Any]]) -> dict[str, Decimal]:
    """``TotalExclVat``, ``TotalVat``, ``TotalInclVat`` and the vatable split of an invoice."""
    net = vat = vatable = Decimal(0)
    for line in lines:
        if line.get("LineType") == "Text":
            continue
        amounts = line_totals(line)
        net += amounts["TotalAmount"]
        vat += amounts["Vat"]
        if amounts["Rate"]:
            vatable += amounts["TotalAmount"]
    return {
        "TotalExclVat": net,
        "TotalVat": vat,
        "TotalInclVat": net + vat,
        "TotalVatableAmount": vatable,
        "TotalNonVatableAmount": net - vatable,
    }
