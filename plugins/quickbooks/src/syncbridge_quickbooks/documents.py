"""Invoices, estimates (quotes) and payments <-> their canonical documents.

Lines: ``SalesItemLineDetail`` lines are the document's lines (item, quantity, unit price,
tax code, line discount rate); the lines inside a ``GroupLineDetail`` (a bundle) are read as
lines of their own; a ``DiscountLineDetail`` (a document discount) becomes a line with a
negative price, and such a line (without product) is written back as a discount; a
``DescriptionOnly`` line becomes a text line with quantity and price 0, and back. The
``SubTotalLineDetail`` QuickBooks appends is computed by it and skipped.

Status of an invoice, from what QuickBooks knows about it, first match wins: voided ->
``cancelled``; ``Balance`` 0 of a positive total -> ``paid``; a balance below the total ->
``partially_paid``; ``EmailStatus`` ``EmailSent`` -> ``sent``; otherwise ``issued`` (QuickBooks
has no drafts: a saved invoice is booked). Written back only ``sent`` means something
(``EmailStatus=EmailSent``): payments, not fields, make an invoice paid.

An estimate's ``TxnStatus`` gives ``accepted`` (Accepted, and Closed: turned into an invoice)
or ``rejected``; a pending one is ``sent`` once e-mailed, else ``draft``.

Which customer a document belongs to (``CustomerRef``) becomes ``company_id`` or
``contact_id`` by the customer's kind, which ``fetch`` gives as the record's context
(``customer``, see :mod:`syncbridge_quickbooks.native`).

VAT: a sales line's ``TaxCodeRef`` is its ``vat_rate_id`` and the code's percentage, which
``fetch`` gives in the context as ``tax_rates``, its ``vat_percent`` (``NON``, not taxable, is
0 %; ``TAX``, US sales tax, is the percentage of the transaction's ``TxnTaxCodeRef``, else the
sum of its tax lines' ``TaxPercent``: what QuickBooks charged for the customer's location). Both
travel: a system that knows VAT only by percentage (Bitrix24) gets the percentage, and a line
coming from one is written with the tax code of its percentage, which ``upsert`` looks up
(:mod:`~syncbridge_quickbooks.taxes`); ``map`` out puts each line's percentage in the context
as ``vat_percents`` for that, and ``map`` in reads it back from a context that has it, so a
record mapped out and in again (with that context) keeps its VAT.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from syncbridge.describe import item_fields
from syncbridge.mapping import text
from syncbridge.models import DocumentLine, DocumentStatus, Invoice, Payment, Quote
from syncbridge_quickbooks.native import compact, decimal, make_ref, ref, updated_at
from syncbridge_quickbooks.taxes import PSEUDO_TAX_CODES, line_tax_codes, percent_text

_CENT = Decimal("0.01")
_PRECISION = Decimal("0.000001")


def _amount(value: Decimal) -> Decimal:
    return value.quantize(_CENT, ROUND_HALF_UP)


#: what a sales line holds: a tax code and its percentage, no product code or unit
LINE_FIELDS = item_fields(
    "lines", "description", "quantity", "unit_price", "discount_percent", "product_id",
    "vat_rate_id", "vat_percent",
)


class _Vat:
    """What tells a document's line percentages: the context of ``fetch`` or ``map`` out."""

    def __init__(self, record: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        rates = context.get("tax_rates")
        self.rates: dict[str, Decimal] = (
            {str(code): Decimal(str(rate)) for code, rate in rates.items()}
            if isinstance(rates, Mapping)
            else {}
        )
        wanted = context.get("vat_percents")
        self.wanted: list[Decimal | None] = (
            [None if p is None else Decimal(str(p)) for p in wanted]
            if isinstance(wanted, list)
            else []
        )
        tax = record.get("TxnTaxDetail")
        self.transaction = ref(tax.get("TxnTaxCodeRef")) if isinstance(tax, Mapping) else None
        #: US sales tax worked out by QuickBooks for the customer's location: the rates of
        #: the transaction's tax lines, all charged on each taxable (TAX) line; unknown when
        #: the lines also name tax codes, whose rates are among them
        self.sales_tax: Decimal | None = None
        if isinstance(tax, Mapping) and not _codes_named(record.get("Line")):
            self.sales_tax = sum(
                (
                    decimal((line.get("TaxLineDetail") or {}).get("TaxPercent")) or Decimal(0)
                    for line in tax.get("TaxLine") or []
                    if isinstance(line, Mapping)
                ),
                Decimal(0),
            )

    def percent(self, code: str | None, position: int | None) -> Decimal | None:
        if code is not None and code in self.rates:
            return self.rates[code]
        if position is not None and position < len(self.wanted):
            return self.wanted[position]  # asked for by map(out), looked up by upsert
        if code == "NON":
            return Decimal(0)
        if code == "TAX":
            if self.transaction is not None:
                return self.rates.get(self.transaction)
            return self.sales_tax
        return None


def _codes_named(lines: Any) -> bool:
    """Whether any sales line (in a bundle too) names a tax code other than TAX/NON."""
    return bool(line_tax_codes(lines) - PSEUDO_TAX_CODES)


def _sales_line(line: Mapping[str, Any], vat: _Vat, position: int | None) -> DocumentLine:
    detail = line.get("SalesItemLineDetail") or {}
    amount = decimal(line.get("Amount")) or Decimal(0)
    quantity = decimal(detail.get("Qty"))
    price = decimal(detail.get("UnitPrice"))
    if quantity is None:
        quantity = Decimal(1)
    if price is None:
        price = (amount / quantity).quantize(_PRECISION) if quantity else amount
    item = detail.get("ItemRef")
    code = ref(detail.get("TaxCodeRef"))
    return DocumentLine(
        description=text(line.get("Description"))
        or (text(item.get("name")) if isinstance(item, Mapping) else None)
        or "",
        quantity=quantity,
        unit_price=price,
        discount_percent=decimal(detail.get("DiscountRate")) or Decimal(0),
        product_id=ref(item),
        vat_rate_id=None if code in PSEUDO_TAX_CODES else code,
        vat_percent=vat.percent(code, position),
    )


def _lines_of(lines: Any, vat: _Vat, top: bool = True) -> Iterator[DocumentLine]:
    for position, line in enumerate(lines or []):
        if not isinstance(line, Mapping):
            continue
        kind = line.get("DetailType")
        if kind == "SalesItemLineDetail":
            yield _sales_line(line, vat, position if top else None)
        elif kind == "GroupLineDetail":
            yield from _lines_of((line.get("GroupLineDetail") or {}).get("Line"), vat, False)
        elif kind == "DiscountLineDetail":
            amount = decimal(line.get("Amount")) or Decimal(0)
            yield DocumentLine(
                description=text(line.get("Description")) or "Discount",
                quantity=Decimal(1),
                unit_price=-amount,
            )
        elif kind == "DescriptionOnly" and text(line.get("Description")):
            yield DocumentLine(
                description=text(line.get("Description")) or "",
                quantity=Decimal(0),
                unit_price=Decimal(0),
            )


def lines_in(record: Mapping[str, Any], context: Mapping[str, Any]) -> list[DocumentLine]:
    return list(_lines_of(record.get("Line"), _Vat(record, context)))


def line_out(line: DocumentLine) -> dict[str, Any]:
    description = line.description or None
    if line.product_id is None and line.unit_price < 0:
        return compact(
            {
                "DetailType": "DiscountLineDetail",
                "Amount": _amount(abs(line.quantity * line.unit_price)),
                "Description": description,
                "DiscountLineDetail": {"PercentBased": False},
            }
        )
    if line.product_id is None and line.quantity == 0 and line.unit_price == 0:
        return compact(
            {
                "DetailType": "DescriptionOnly",
                "Description": description,
                "DescriptionLineDetail": {},
            }
        )
    detail = compact(
        {
            "ItemRef": make_ref(line.product_id),
            "Qty": line.quantity,
            "UnitPrice": line.unit_price,
            "TaxCodeRef": make_ref(line.vat_rate_id),
            "DiscountRate": line.discount_percent or None,
        }
    )
    return compact(
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": _amount(line.quantity * line.unit_price),
            "Description": description,
            "SalesItemLineDetail": detail,
        }
    )


def party_in(
    record: Mapping[str, Any], context: Mapping[str, Any], *, contacts: bool = True
) -> dict[str, str | None]:
    """``CustomerRef`` as ``company_id`` or ``contact_id``, by the kind ``fetch`` gave."""
    customer = ref(record.get("CustomerRef"))
    if customer is None:
        return {}
    kind = context.get("customer")
    if kind == "company":
        return {"company_id": customer}
    if kind == "contact":
        return {"contact_id": customer} if contacts else {}
    raise ValueError(
        f"CustomerRef {customer}: whether this customer is a company or a contact is unknown "
        "(read the record through fetch, which looks it up)"
    )


def party_out(
    company_id: str | None, contact_id: str | None, context: dict[str, Any]
) -> dict[str, Any]:
    """The company when there is one (the billed party), else the contact."""
    customer = company_id or contact_id
    if customer is None:
        return {}
    context["customer"] = "company" if company_id else "contact"
    return {"CustomerRef": {"value": customer}}


def _currency(record: Mapping[str, Any]) -> str:
    currency = ref(record.get("CurrencyRef"))
    if currency is None:
        raise ValueError("the transaction has no CurrencyRef")
    return currency


def invoice_status(record: Mapping[str, Any]) -> DocumentStatus:
    total = decimal(record.get("TotalAmt")) or Decimal(0)
    balance = decimal(record.get("Balance"))
    if total == 0 and "voided" in (text(record.get("PrivateNote")) or "").lower():
        return DocumentStatus.CANCELLED
    if balance is not None and total > 0:
        if balance == 0:
            return DocumentStatus.PAID
        if balance < total:
            return DocumentStatus.PARTIALLY_PAID
    if record.get("EmailStatus") == "EmailSent":
        return DocumentStatus.SENT
    return DocumentStatus.ISSUED


def invoice_in(record: Mapping[str, Any], context: Mapping[str, Any]) -> Invoice:
    return Invoice(
        id=text(record.get("Id")),
        updated_at=updated_at(record),
        number=text(record.get("DocNumber")),
        date=record.get("TxnDate"),
        due_date=record.get("DueDate"),
        currency=_currency(record),
        payment_method_id=ref(record.get("PaymentMethodRef")),
        status=invoice_status(record),
        lines=lines_in(record, context),
        notes=text(record.get("PrivateNote")),
        total=decimal(record.get("TotalAmt")),
        balance=decimal(record.get("Balance")),
        **party_in(record, context),
    )


def _document_out(document: Invoice | Quote, context: dict[str, Any]) -> dict[str, Any]:
    native = compact(
        {
            "DocNumber": document.number,
            "TxnDate": document.date.isoformat(),
            "CurrencyRef": {"value": document.currency},
            "PaymentMethodRef": make_ref(document.payment_method_id),
            "PrivateNote": document.notes,
            "Line": [line_out(line) for line in document.lines],
            **party_out(document.company_id, document.contact_id, context),
        }
    )
    percents = [
        None if line.vat_percent is None else percent_text(line.vat_percent)
        for line in document.lines
    ]
    if any(p is not None for p in percents):
        # by position in Line: upsert writes each sales line with the tax code of its
        # percentage (or refuses one whose code charges another), map(in) reads it back
        context["vat_percents"] = percents
    return native


def invoice_out(invoice: Invoice, context: dict[str, Any]) -> dict[str, Any]:
    native = _document_out(invoice, context)
    if invoice.due_date is not None:
        native["DueDate"] = invoice.due_date.isoformat()
    if invoice.status == DocumentStatus.SENT:
        native["EmailStatus"] = "EmailSent"
    return native


_QUOTE_STATUS_IN = {
    "Accepted": DocumentStatus.ACCEPTED,
    "Closed": DocumentStatus.ACCEPTED,
    "Rejected": DocumentStatus.REJECTED,
}
_QUOTE_STATUS_OUT = {
    DocumentStatus.ACCEPTED: "Accepted",
    DocumentStatus.REJECTED: "Rejected",
}


def quote_status(record: Mapping[str, Any]) -> DocumentStatus:
    found = _QUOTE_STATUS_IN.get(str(record.get("TxnStatus")))
    if found is not None:
        return found
    if record.get("EmailStatus") == "EmailSent":
        return DocumentStatus.SENT
    return DocumentStatus.DRAFT


def quote_in(record: Mapping[str, Any], context: Mapping[str, Any]) -> Quote:
    return Quote(
        id=text(record.get("Id")),
        updated_at=updated_at(record),
        number=text(record.get("DocNumber")),
        date=record.get("TxnDate"),
        valid_until=record.get("ExpirationDate"),
        currency=_currency(record),
        payment_method_id=ref(record.get("PaymentMethodRef")),
        status=quote_status(record),
        lines=lines_in(record, context),
        notes=text(record.get("PrivateNote")),
        **party_in(record, context),
    )


def quote_out(quote: Quote, context: dict[str, Any]) -> dict[str, Any]:
    native = _document_out(quote, context)
    if quote.valid_until is not None:
        native["ExpirationDate"] = quote.valid_until.isoformat()
    native["TxnStatus"] = _QUOTE_STATUS_OUT.get(quote.status, "Pending")
    if quote.status == DocumentStatus.SENT:
        native["EmailStatus"] = "EmailSent"
    return native


def paid_invoices(record: Mapping[str, Any]) -> list[str]:
    """The invoices a payment is applied to, in line order, each once."""
    found: list[str] = []
    for line in record.get("Line") or []:
        for link in (line.get("LinkedTxn") if isinstance(line, Mapping) else None) or []:
            if link.get("TxnType") == "Invoice" and link.get("TxnId") is not None:
                id = str(link["TxnId"])
                if id not in found:
                    found.append(id)
    return found


def payment_in(record: Mapping[str, Any], context: Mapping[str, Any]) -> Payment:
    invoices = paid_invoices(record)
    if len(invoices) > 1:
        raise ValueError(
            f"the payment is applied to {len(invoices)} invoices ({', '.join(invoices)}); a "
            "syncbridge payment settles one invoice, so it is not synced"
        )
    return Payment(
        id=text(record.get("Id")),
        updated_at=updated_at(record),
        amount=decimal(record.get("TotalAmt")),
        date=record.get("TxnDate"),
        currency=_currency(record),
        invoice_id=invoices[0] if invoices else None,
        payment_method_id=ref(record.get("PaymentMethodRef")),
        reference=text(record.get("PaymentRefNum")),
        **party_in(record, context, contacts=False),
    )


def payment_out(payment: Payment, context: dict[str, Any]) -> dict[str, Any]:
    native = compact(
        {
            "TotalAmt": payment.amount,
            "TxnDate": payment.date.isoformat(),
            "CurrencyRef": {"value": payment.currency},
            "PaymentMethodRef": make_ref(payment.payment_method_id),
            "PaymentRefNum": payment.reference,
            **party_out(payment.company_id, None, context),
        }
    )
    if payment.invoice_id is not None:
        native["Line"] = [
            {
                "Amount": payment.amount,
                "LinkedTxn": [{"TxnId": payment.invoice_id, "TxnType": "Invoice"}],
            }
        ]
    return native


_DOCUMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "number": ("DocNumber",),
    "date": ("TxnDate",),
    "currency": ("CurrencyRef",),
    "company_id": ("CustomerRef",),
    "contact_id": ("CustomerRef",),
    "payment_method_id": ("PaymentMethodRef",),
    "lines": ("Line",),
    "notes": ("PrivateNote",),
}
#: canonical field -> the properties a sparse update of it sends; () = computed by QuickBooks
INVOICE_FIELDS: dict[str, tuple[str, ...]] = {
    **_DOCUMENT_FIELDS,
    "due_date": ("DueDate",),
    "status": ("EmailStatus",),
    "total": (),
    "balance": (),
}
QUOTE_FIELDS: dict[str, tuple[str, ...]] = {
    **_DOCUMENT_FIELDS,
    "valid_until": ("ExpirationDate",),
    "status": ("TxnStatus", "EmailStatus"),
}
PAYMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "amount": ("TotalAmt", "Line"),
    "date": ("TxnDate",),
    "currency": ("CurrencyRef",),
    "invoice_id": ("Line",),
    "company_id": ("CustomerRef",),
    "payment_method_id": ("PaymentMethodRef",),
    "reference": ("PaymentRefNum",),
}
