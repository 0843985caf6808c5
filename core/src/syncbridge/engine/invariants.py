"""Document totals are invariants: a document whose amounts would change on the way is not written.

Why this exists: a mapping can lose money without anyone noticing. A QuickBooks invoice whose
lines named only their tax code reached Bitrix24 with no VAT on any row; the write succeeded,
the copy totalled its net amount, and every later comparison found the two "in step" because
both sides now said nothing about VAT. Comparing field by field cannot catch what neither
record holds; comparing what the document *comes to* can.

So, before a quote, order or invoice is written, :func:`check_write` takes the native record
the target's mapping made (``map`` out) and maps it back in with the same connection (the
offline round trip :mod:`syncbridge.engine.decide` uses to tell what a target would hold). If
the net, VAT or gross total of the record read back differs from the record sent by more than
the currency's rounding, the target cannot carry the document as it is: the write fails with
both sets of amounts and the line fields that did not survive, and nothing is sent. ``plan``
prepares its writes the same way, so it shows the failure too.

Amounts are the canonical model's own (:attr:`~syncbridge.models.Invoice.net_total`,
``tax_total``, ``gross_total``), computed the same way on both records, so only what the
mapping changed can differ. Each system rounds line amounts its own way, so the allowance is
half a minor unit of the currency per line (at least half a unit): a cent of rounding is not
a loss, VAT dropped from a line is.

When the round trip itself cannot be done offline (a mapping that needs what only a read
provides), nothing is concluded and the write goes ahead, as in ``decide``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from syncbridge.connection import Connection
from syncbridge.models import CanonicalRecord, DocumentLine, Invoice, Order, Quote

#: ISO 4217 currencies whose minor unit is not the cent (the list's "minor unit" column);
#: every other currency has two decimals
_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
            "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
#: the line fields that make up a line's amounts, named when a target loses one of them
_AMOUNT_FIELDS = ("quantity", "unit_price", "discount_percent", "vat_percent")
#: line differences named in a message; more are counted
_NAMED = 3

Document = Quote | Order | Invoice


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency``: ``0.01`` for EUR, ``1`` for JPY."""
    return Decimal(1).scaleb(-_MINOR_UNITS.get(currency.upper(), 2))


@dataclass(frozen=True)
class Totals:
    """Net, VAT and gross total of a document, unrounded."""

    net: Decimal
    tax: Decimal
    total: Decimal

    @classmethod
    def of(cls, document: Document) -> Totals:
        return cls(document.net_total, document.tax_total, document.gross_total)


def allowance(currency: str, lines: int) -> Decimal:
    """How far two systems' totals of one document may drift by rounding alone."""
    return minor_unit(currency) / 2 * max(lines, 1)


def compare(sent: Document, held: Document, side: str) -> str | None:
    """Why ``held`` (what ``side`` would hold) does not carry ``sent``'s amounts, or None."""
    before, after = Totals.of(sent), Totals.of(held)
    room = allowance(sent.currency, max(len(sent.lines), len(held.lines)))
    pairs = (("net", before.net, after.net), ("tax", before.tax, after.tax),
             ("total", before.total, after.total))
    if all(abs(a - b) <= room for _name, a, b in pairs):
        return None
    unit = minor_unit(sent.currency)
    amounts = ", ".join(
        f"{name} {_money(a, unit)} -> {_money(b, unit)}" for name, a, b in pairs
    )
    return (
        f"{amounts}: the {side} cannot carry {_lost(sent.lines, held.lines)}; not written "
        "(document totals must not change on the way)"
    )


def round_trip(
    connection: Connection,
    entity: str,
    native: dict[str, Any],
    target_id: str | None,
    context: dict[str, Any] | None = None,
) -> CanonicalRecord | None:
    """``native`` read back through the connection's own mapping, as a read would give it
    (with an id, which ``map`` out leaves to the write, and the ``context`` ``map`` out gave
    it); None when that cannot be done offline. ``native`` itself is not changed: it is what
    will be sent."""
    try:
        readable = {**native}
        readable.setdefault(connection.info.entities[entity].id_field, target_id or "0")
        return connection.map_in(entity, readable, context)
    except Exception:
        return None


def check_write(
    connection: Connection,
    entity: str,
    record: CanonicalRecord,
    native: dict[str, Any],
    side: str,
    target_id: str | None = None,
    context: dict[str, Any] | None = None,
) -> str | None:
    """The reason the document ``record``, mapped out to ``native`` (and ``context``) for
    ``side``, must not be written (its totals would change), or None: not a document, or its
    amounts survive."""
    if not isinstance(record, Quote | Order | Invoice):
        return None
    held = round_trip(connection, entity, native, target_id, context)
    if not isinstance(held, Quote | Order | Invoice):
        return None
    return compare(record, held, side)


def _money(value: Decimal, unit: Decimal) -> str:
    return format(value.quantize(unit, rounding=ROUND_HALF_UP), "f")


def _lost(sent: list[DocumentLine], held: list[DocumentLine]) -> str:
    """The line fields that did not survive, as ``line 1 vat_percent 19 -> none``."""
    if len(sent) != len(held):
        return f"its lines ({len(sent)} lines -> {len(held)})"
    found: list[str] = []
    for number, (ours, theirs) in enumerate(zip(sent, held, strict=True), start=1):
        for name in _AMOUNT_FIELDS:
            a, b = getattr(ours, name), getattr(theirs, name)
            if a != b:
                found.append(f"line {number} {name} {_plain(a)} -> {_plain(b)}")
    if not found:
        return "its amounts"
    named = ", ".join(found[:_NAMED])
    if len(found) > _NAMED:
        named += f" and {len(found) - _NAMED} more"
    return named


def _plain(value: Decimal | None) -> str:
    return "none" if value is None else format(value.normalize(), "f")
