"""Document totals as invariants: what a target's mapping cannot carry is refused, rounding
is not.

The data is the issue's: QuickBooks invoice 1121, 13,359.24 net at 19 % and 7 % VAT, 1,886.37
VAT, 15,245.61 in all.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from syncbridge.connection import Connection
from syncbridge.describe import Capability, ConnectorInfo, EntityInfo
from syncbridge.engine.invariants import (
    Totals,
    allowance,
    check_write,
    compare,
    minor_unit,
    round_trip,
)
from syncbridge.hookspecs import hookimpl
from syncbridge.models import Company, DocumentLine, Invoice


def _invoice(**changes: Any) -> Invoice:
    lines = [
        DocumentLine(description="Braugerste", quantity=Decimal(2), unit_price=Decimal("3963.43"),
                     vat_rate_id="3", vat_percent=Decimal(19)),
        DocumentLine(description="Hopfen", quantity=Decimal(2), unit_price=Decimal("2716.19"),
                     vat_rate_id="4", vat_percent=Decimal(7)),
    ]
    values: dict[str, Any] = {"number": "1121", "date": date(2026, 11, 23), "currency": "EUR",
                              "company_id": "58", "lines": lines}
    return Invoice(**{**values, **changes})


def _without_vat(invoice: Invoice) -> Invoice:
    return invoice.model_copy(update={"lines": [
        line.model_copy(update={"vat_percent": None}) for line in invoice.lines]})


class Books:
    """A connector whose invoices are their canonical JSON; ``drop`` names line fields its
    mapping cannot carry (they are left out on the way out)."""

    def __init__(self, drop: frozenset[str] = frozenset(), broken_in: bool = False) -> None:
        self.drop, self.broken_in = drop, broken_in

    @hookimpl
    def describe(self) -> ConnectorInfo:
        every = frozenset({Capability.READ, Capability.CREATE, Capability.UPDATE})
        return ConnectorInfo(name="books", title="Books", uses_http=False, entities={
            name: EntityInfo(name=name, capabilities=every, id_field="number_id")
            for name in ("invoice", "company")})

    @hookimpl
    def map(self, entity: str, record: Any, direction: str) -> Any:
        if direction == "out":
            native = record.model_dump(mode="json", exclude={"id", "updated_at"})
            for line in native.get("lines") or []:
                for name in self.drop:
                    line.pop(name, None)
            return native
        if self.broken_in:
            raise ValueError("needs what only a read gives")
        native = {k: v for k, v in record.items() if k != "number_id"}
        model = Invoice if entity == "invoice" else Company
        return model.model_validate({**native, "id": record["number_id"]})


def _connection(books: Books) -> Connection:
    return Connection("books", books, {})


def test_the_currency_rounding() -> None:
    assert minor_unit("EUR") == Decimal("0.01")
    assert minor_unit("huf") == Decimal("0.01")
    assert minor_unit("JPY") == Decimal(1)
    assert minor_unit("KWD") == Decimal("0.001")
    # half a cent per line: each system may round each line once
    assert allowance("EUR", 2) == Decimal("0.01")
    assert allowance("EUR", 0) == Decimal("0.005")


def test_the_totals_of_invoice_1121() -> None:
    assert Totals.of(_invoice()) == Totals(
        Decimal("13359.24"), Decimal("1886.3700"), Decimal("15245.6100"))


def test_a_copy_that_lost_its_vat_is_refused_with_the_amounts() -> None:
    assert compare(_invoice(), _without_vat(_invoice()), "right") == (
        "net 13359.24 -> 13359.24, tax 1886.37 -> 0.00, total 15245.61 -> 13359.24: the right "
        "cannot carry line 1 vat_percent 19 -> none, line 2 vat_percent 7 -> none; not written "
        "(document totals must not change on the way)"
    )


def test_a_changed_quantity_or_a_missing_line_is_named() -> None:
    invoice = _invoice()
    fewer = invoice.model_copy(update={"lines": invoice.lines[:1]})
    assert compare(invoice, fewer, "left") == (
        "net 13359.24 -> 7926.86, tax 1886.37 -> 1506.10, total 15245.61 -> 9432.96: the left "
        "cannot carry its lines (2 lines -> 1); not written (document totals must not change "
        "on the way)"
    )
    halved = invoice.model_copy(update={"lines": [
        invoice.lines[0].model_copy(update={"quantity": Decimal(1)}), invoice.lines[1]]})
    message = compare(invoice, halved, "right")
    assert message is not None and "line 1 quantity 2 -> 1;" in message


def test_rounding_within_the_currency_is_no_loss() -> None:
    invoice = _invoice()
    # a system keeping unit prices to six places: a ten-thousandth of a cent per unit
    drifted = invoice.model_copy(update={"lines": [
        invoice.lines[0].model_copy(update={"unit_price": Decimal("3963.430001")}),
        invoice.lines[1].model_copy(update={"unit_price": Decimal("2716.189999")}),
    ]})
    assert compare(invoice, drifted, "right") is None
    # half a cent per line is the most rounding explains: three cents on one line are more
    three_cents = invoice.model_copy(update={"lines": [
        invoice.lines[0].model_copy(update={"quantity": Decimal(1),
                                            "unit_price": Decimal("7926.89")}),
        invoice.lines[1],
    ]})
    assert compare(invoice, three_cents, "right") is not None


def test_a_yen_invoice_is_compared_in_whole_yen() -> None:
    invoice = _invoice(currency="JPY")
    drifted = invoice.model_copy(update={"lines": [
        invoice.lines[0].model_copy(update={"unit_price": Decimal("3963.6")}),
        invoice.lines[1],
    ]})
    assert compare(invoice, drifted, "right") is None  # 0.6 yen: under a yen for two lines
    message = compare(invoice, _without_vat(invoice), "right")
    assert message is not None and message.startswith(
        "net 13359 -> 13359, tax 1886 -> 0, total 15246 -> 13359:")


def test_the_write_check_maps_the_native_record_back_with_the_targets_own_mapping() -> None:
    invoice = _invoice()
    carries = _connection(Books())
    native = carries.map_out("invoice", invoice)
    assert check_write(carries, "invoice", invoice, native, "right") is None
    assert "number_id" not in native  # the record sent is left as it was

    loses = _connection(Books(drop=frozenset({"vat_percent"})))
    native = loses.map_out("invoice", invoice)
    held = round_trip(loses, "invoice", native, "77")
    assert isinstance(held, Invoice) and held.id == "77" and held.tax_total == 0
    message = check_write(loses, "invoice", invoice, native, "right", "77")
    assert message is not None and message.startswith(
        "net 13359.24 -> 13359.24, tax 1886.37 -> 0.00, total 15245.61 -> 13359.24: the right "
        "cannot carry line 1 vat_percent 19 -> none")


def test_what_is_no_document_or_cannot_be_read_back_offline_is_let_through() -> None:
    company = Company(name="Brauhaus Ansbach GmbH")
    loses = _connection(Books(drop=frozenset({"vat_percent"})))
    assert check_write(loses, "company", company, loses.map_out("company", company),
                       "right") is None
    blind = _connection(Books(drop=frozenset({"vat_percent"}), broken_in=True))
    invoice = _invoice()
    assert check_write(blind, "invoice", invoice, blind.map_out("invoice", invoice),
                       "right") is None
