"""The account's documents: issuing, numbering, amount checks, storno, payments, deletes.

What the Agent enforces and the emulator therefore enforces too (README, "Emulator"):

* numbers come from the account's sequences (``[E-]<prefix>-<year>-<n>``, proformas
  ``D-<prefix>-<year>-<n>``), the year being the year the document is issued; a prefix the
  account has not registered is refused (error 202);
* an item's net value must be quantity x unit price, its VAT the net at its key's rate and its
  gross their sum, within the Agent's rounding tolerance (errors 259, 260, 261);
* an order number already used is refused (error 71, "Már létező rendelésszám"), the account
  having "no repeated order numbers" switched on;
* issued invoices never change: a storno issues a new, negative invoice in the same sequence
  and marks the original ``sztornozott``; only proformas can be deleted.

Refusals are :class:`Refusal` (the Agent's code and message), rendered by ``answers``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

BUDAPEST = ZoneInfo("Europe/Budapest")
CENT = Decimal("0.01")
#: the rounding the Agent forgives between the amounts sent and the ones it computes: 2 HUF,
#: or 0.02 of another currency (what an open-source fake Agent allows; README assumption 9)
TOLERANCE = {"HUF": Decimal(2)}
DEFAULT_TOLERANCE = Decimal("0.02")

RATES = {"27", "18", "5", "0"}


class Refusal(Exception):
    """The Agent's in-band refusal: ``code`` and its (Hungarian) ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def today() -> date:
    """The Agent's today: Budapest time."""
    return datetime.now(BUDAPEST).date()


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def key_percent(key: str) -> Decimal:
    """The VAT percentage of an ``afakulcs`` key: its number, 0 for a code (AAM, TAM...)."""
    try:
        return Decimal(key)
    except ArithmeticError:
        return Decimal(0)


@dataclass
class Item:
    name: str
    code: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_key: str
    net: Decimal
    vat: Decimal
    gross: Decimal
    comment: str = ""

    def negated(self) -> Item:
        return Item(
            self.name,
            self.code,
            -self.quantity,
            self.unit,
            self.unit_price,
            self.vat_key,
            -self.net,
            -self.vat,
            -self.gross,
            self.comment,
        )


@dataclass
class Payment:
    day: date
    title: str
    amount: Decimal
    comment: str = ""


@dataclass
class Document:
    """One issued document as the Agent keeps it."""

    id: int
    number: str
    kind: str  # "SZ" invoice, "SS" storno invoice, "D" proforma
    e_invoice: bool
    issued: date
    fulfilled: date
    due: date
    payment_method: str
    currency: str
    language: str
    notes: str
    order_number: str
    external_id: str
    buyer: dict[str, str]
    items: list[Item]
    payments: list[Payment] = field(default_factory=list)
    reversed: bool = False
    refers_to: str = ""  # the reversed invoice of a storno
    paid_at_issue: bool = False

    @property
    def net(self) -> Decimal:
        return sum((item.net for item in self.items), Decimal(0))

    @property
    def vat(self) -> Decimal:
        return sum((item.vat for item in self.items), Decimal(0))

    @property
    def gross(self) -> Decimal:
        return sum((item.gross for item in self.items), Decimal(0))

    @property
    def outstanding(self) -> Decimal:
        if self.paid_at_issue or self.kind == "SS" or self.reversed:
            return Decimal(0)
        return max(self.gross - sum((p.amount for p in self.payments), Decimal(0)), Decimal(0))


def check_items(items: list[Item], currency: str) -> None:
    """Refuse items whose amounts do not add up (errors 259-261)."""
    tolerance = TOLERANCE.get(currency, DEFAULT_TOLERANCE)
    for number, item in enumerate(items, start=1):
        if abs(item.net - item.quantity * item.unit_price) > tolerance:
            raise Refusal(259, f"A(z) {number}. tétel nettó értéke nem megfelelő: {item.net}")
        if abs(item.vat - item.net * key_percent(item.vat_key) / 100) > tolerance:
            raise Refusal(260, f"A(z) {number}. tétel ÁFA értéke nem megfelelő: {item.vat}")
        if abs(item.gross - (item.net + item.vat)) > tolerance:
            raise Refusal(261, f"A(z) {number}. tétel bruttó értéke nem megfelelő: {item.gross}")


class Ledger:
    """Every document of the one emulated account, by number."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        #: registered prefixes; the first is the account's default
        self.prefixes = prefixes
        self.documents: dict[str, Document] = {}
        self._counters: dict[tuple[str, int], int] = {}
        self._next_id = 1000

    def head(self, kind: str, prefix: str, e_invoice: bool) -> str:
        if kind == "D":
            return f"D-{prefix}"
        return f"E-{prefix}" if e_invoice else prefix

    def next_number(self, head: str, year: int) -> str:
        n = self._counters.get((head, year), 0) + 1
        self._counters[(head, year)] = n
        return f"{head}-{year}-{n}"

    def prefix(self, asked: str) -> str:
        """The prefix to number with: the one asked if registered (else error 202)."""
        if not asked:
            return self.prefixes[0]
        if asked not in self.prefixes:
            raise Refusal(
                202,
                f"A megadott számlaszám előtag ({asked}) nem használható. Az előtagot előbb "
                "fel kell venni a Beállítások / Számlaszám előtagok oldalon.",
            )
        return asked

    def issue(self, fields: dict[str, Any], prefix: str) -> Document:
        """Issue a document (``fields``: everything but id and number)."""
        order = str(fields.get("order_number") or "")
        if order and self.by_order(order) is not None:
            raise Refusal(71, f"Már létező rendelésszám: {order}.")
        check_items(fields["items"], fields["currency"])
        if not fields["items"]:
            raise Refusal(7, "Hiányzó adat: a bizonylaton nincs tétel.")
        head = self.head(
            fields["kind"] if fields["kind"] == "D" else "SZ", prefix, fields["e_invoice"]
        )
        self._next_id += 1
        document = Document(id=self._next_id, number=self.next_number(head, today().year), **fields)
        self.documents[document.number] = document
        return document

    def get(self, number: str) -> Document:
        document = self.documents.get(number)
        if document is None:
            raise Refusal(7, f"Hiányzó adat: nincs ilyen számla a rendszerben ({number}).")
        return document

    def by_order(self, order: str) -> Document | None:
        """The newest document with this order number (what queries by order number give)."""
        found = [d for d in self.documents.values() if d.order_number == order]
        return max(found, key=lambda d: d.id) if found else None

    def by_external_id(self, external: str) -> Document | None:
        found = [d for d in self.documents.values() if d.external_id == external]
        return max(found, key=lambda d: d.id) if found else None

    def find(self, number: str, order: str, external: str) -> Document:
        """A document by number, order number or external id, as queries name it."""
        if number:
            return self.get(number)
        found = (
            self.by_order(order) if order else self.by_external_id(external) if external else None
        )
        if found is None:
            what = order or external
            if not what:
                raise Refusal(7, "Hiányzó adat: számlaszám vagy rendelésszám megadása kötelező.")
            raise Refusal(7, f"Hiányzó adat: nincs ilyen számla a rendszerben ({what}).")
        return found

    def reverse(self, number: str, issued: date | None, fulfilled: date | None) -> Document:
        """Storno: a negative copy in the original's sequence; the original is marked."""
        original = self.get(number)
        if original.kind != "SZ":
            raise Refusal(7, f"Hiányzó adat: a(z) {number} bizonylat nem sztornózható számla.")
        if original.reversed:
            raise Refusal(7, f"Hiányzó adat: a(z) {number} számla már sztornózva van.")
        head, _, _ = original.number.rpartition("-")[0].rpartition("-")
        self._next_id += 1
        storno = Document(
            id=self._next_id,
            number=self.next_number(head, today().year),
            kind="SS",
            e_invoice=original.e_invoice,
            issued=issued or today(),
            fulfilled=fulfilled or original.fulfilled,
            due=issued or today(),
            payment_method=original.payment_method,
            currency=original.currency,
            language=original.language,
            notes="",
            order_number="",
            external_id="",
            buyer=dict(original.buyer),
            items=[item.negated() for item in original.items],
            refers_to=original.number,
        )
        original.reversed = True
        self.documents[storno.number] = storno
        return storno

    def pay(self, number: str, payments: list[Payment], additive: bool) -> Document:
        document = self.get(number)
        if document.kind == "SS":
            raise Refusal(7, f"Hiányzó adat: sztornó számlára ({number}) nem írható jóvá fizetés.")
        document.payments = [*document.payments, *payments] if additive else list(payments)
        return document

    def delete_proforma(self, number: str, order: str) -> None:
        document = self.documents.get(number) if number else self.by_order(order) if order else None
        if document is None or document.kind != "D":
            raise Refusal(
                335,
                "nincs ilyen díjbekérő a rendszerben, már törlésre került vagy nem is létezett",
            )
        del self.documents[document.number]
