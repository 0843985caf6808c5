"""The rules that guard each emulated object, and the arithmetic QuickBooks does on it.

One method per object checks a write the way the real service checks it (required fields,
unique names, references that must exist, enumerations, a currency that matches the
customer's) and completes it the way QuickBooks does: defaults, line numbers, sales tax per
tax code, ``TotalAmt``, an invoice's ``Balance`` from the payments applied to it, a payment's
``UnappliedAmt``. Each raises a :class:`~syncbridge_quickbooks.emulator.faults.Fault` with
Intuit's code, or changes the object in place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pycountry

from syncbridge_quickbooks.emulator import faults
from syncbridge_quickbooks.emulator.values import (
    EXCHANGE_RATES,
    HOME_CURRENCY,
    TZ,
    as_date,
    money,
    number,
    ref,
)

if TYPE_CHECKING:
    from syncbridge_quickbooks.emulator.books import Books

#: the Undeposited Funds account payments go to unless told otherwise
UNDEPOSITED_FUNDS = "4"
_ITEM_TYPES = frozenset({"Service", "NonInventory", "Inventory", "Group", "Category"})
_NEED_INCOME_ACCOUNT = frozenset({"Service", "NonInventory", "Inventory"})
_EMAIL_STATUSES = frozenset({"NotSet", "NeedToSend", "EmailSent"})
_ESTIMATE_STATUSES = frozenset({"Pending", "Accepted", "Closed", "Rejected"})
#: US sales-tax pseudo codes a line may carry instead of a TaxCode id
_PSEUDO_TAX_CODES = frozenset({"TAX", "NON"})

Rule = Callable[[dict[str, Any], Mapping[str, Any] | None], None]


class Rules:
    """The write rules of one company's books (called by :class:`Books` under its lock)."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self.by_entity: dict[str, Rule] = {
            "Customer": self._customer,
            "Item": self._item,
            "PaymentMethod": self._payment_method,
            "CompanyCurrency": self._company_currency,
            "Invoice": lambda data, current: self._sales_transaction("Invoice", data, current),
            "Estimate": lambda data, current: self._sales_transaction("Estimate", data, current),
            "Payment": self._payment,
        }

    def apply(self, entity: str, data: dict[str, Any], current: Mapping[str, Any] | None) -> None:
        """Check and complete ``data``, a create (``current`` None) or an update of ``current``."""
        self.by_entity[entity](data, current)

    # -- shared checks ---------------------------------------------------------------------

    def _exists(self, entity: str, element: str, value: Any, *, active: bool = False) -> str:
        id = ref(value)
        row = self.books.row(entity, id) if id is not None else None
        if row is None or (active and row.get("Active") is False):
            raise faults.invalid_reference(element, id)
        return str(row["id"])

    def _unique(
        self, entity: str, field: str, value: str, current: Mapping[str, Any] | None
    ) -> None:
        folded = value.casefold()
        own = None if current is None else current["id"]
        for row in self.books.tables[entity].list():
            if row["id"] != own and str(row.get(field) or "").casefold() == folded:
                raise faults.duplicate_name(value)

    def _currency(self, value: Any, element: str = "CurrencyRef") -> dict[str, str]:
        code = (ref(value) or HOME_CURRENCY).upper()
        known = {HOME_CURRENCY} | {
            str(row["Code"])
            for row in self.books.tables["CompanyCurrency"].list()
            if row.get("Active")
        }
        if code not in known:
            raise faults.invalid_reference(element, code)
        found = pycountry.currencies.get(alpha_3=code)
        return {"value": code, "name": found.name if found else code}

    # -- the rules of each object ----------------------------------------------------------

    def _customer(self, data: dict[str, Any], current: Mapping[str, Any] | None) -> None:
        display = str(data.get("DisplayName") or "").strip()
        if not display:
            parts = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
            display = " ".join(str(data[p]).strip() for p in parts if data.get(p))
        if not display:
            raise faults.required("DisplayName")
        self._unique("Customer", "DisplayName", display, current)
        data["DisplayName"] = display
        data.setdefault("PrintOnCheckName", display)
        parent = ref(data.get("ParentRef"))
        if parent is not None:
            self._exists("Customer", "ParentRef", parent)
            if current is not None and self._descends(parent, str(current["id"])):
                raise faults.business("A customer cannot be its own parent or sub-customer.")
            data["ParentRef"] = {"value": parent}
            data.setdefault("Job", True)
        else:
            data.pop("ParentRef", None)
            data["Job"] = False
        data.setdefault("BillWithParent", False)
        currency = self._currency(data.get("CurrencyRef"))
        if current is not None and ref(current.get("CurrencyRef")) != currency["value"]:
            if "CurrencyRef" in data:
                raise faults.business("You can't change the currency of an existing customer.")
            currency = dict(current["CurrencyRef"])
        data["CurrencyRef"] = currency
        if data.get("PaymentMethodRef") is not None:
            self._exists("PaymentMethod", "PaymentMethodRef", data["PaymentMethodRef"])
        data.setdefault("Active", True)
        data.setdefault("Taxable", True)

    def _descends(self, candidate: str, ancestor: str) -> bool:
        """Whether ``candidate`` is ``ancestor`` or one of its sub-customers."""
        seen: set[str] = set()
        node: str | None = candidate
        while node is not None and node not in seen:
            if node == ancestor:
                return True
            seen.add(node)
            row = self.books.row("Customer", node)
            node = ref(row.get("ParentRef")) if row is not None else None
        return False

    def _item(self, data: dict[str, Any], current: Mapping[str, Any] | None) -> None:
        name = str(data.get("Name") or "").strip()
        if not name:
            raise faults.required("Name")
        self._unique("Item", "Name", name, current)
        data["Name"] = name
        kind = str(data.setdefault("Type", "Service"))
        if kind not in _ITEM_TYPES:
            raise faults.invalid_value("Type", f"Invalid Enumeration : {kind}")
        if kind in _NEED_INCOME_ACCOUNT:
            if data.get("IncomeAccountRef") is None:
                raise faults.required("IncomeAccountRef")
            self._exists("Account", "IncomeAccountRef", data["IncomeAccountRef"])
        if data.get("SalesTaxCodeRef") is not None:
            code = ref(data["SalesTaxCodeRef"])
            if code not in _PSEUDO_TAX_CODES:
                self._exists("TaxCode", "SalesTaxCodeRef", code)
        for field in ("UnitPrice", "PurchaseCost"):
            if field in data:
                data[field] = number(data[field], field)
        data.setdefault("UnitPrice", Decimal(0))
        data.setdefault("Active", True)

    def _payment_method(self, data: dict[str, Any], current: Mapping[str, Any] | None) -> None:
        name = str(data.get("Name") or "").strip()
        if not name:
            raise faults.required("Name")
        self._unique("PaymentMethod", "Name", name, current)
        data["Name"] = name
        kind = data.setdefault("Type", "NON_CREDIT_CARD")
        if kind not in ("CREDIT_CARD", "NON_CREDIT_CARD"):
            raise faults.invalid_value("Type", f"Invalid Enumeration : {kind}")
        data.setdefault("Active", True)

    def _company_currency(self, data: dict[str, Any], current: Mapping[str, Any] | None) -> None:
        code = str(data.get("Code") or "").strip().upper()
        if not code:
            raise faults.required("Code")
        found = pycountry.currencies.get(alpha_3=code)
        if found is None:
            raise faults.invalid_value("Code", f"{code} is not a currency code")
        if code == HOME_CURRENCY:
            raise faults.business(f"{code} is the home currency.")
        self._unique("CompanyCurrency", "Code", code, current)
        data["Code"] = code
        data["Name"] = found.name
        data.setdefault("Active", True)

    def _sales_transaction(
        self, kind: str, data: dict[str, Any], current: Mapping[str, Any] | None
    ) -> None:
        customer_id = self._party(data)
        lines = data.get("Line")
        if not lines:
            raise faults.required("Line")
        customer = self.books.row("Customer", customer_id)
        assert customer is not None
        self._transaction_currency(data, customer)
        data["TxnDate"] = as_date(data.get("TxnDate") or datetime.now(TZ).date(), "TxnDate")
        if kind == "Invoice":
            due = (
                data.get("DueDate")
                or (date.fromisoformat(data["TxnDate"]) + timedelta(days=30)).isoformat()
            )
            data["DueDate"] = as_date(due, "DueDate")
        else:
            data.pop("DueDate", None)
            if data.get("ExpirationDate"):
                data["ExpirationDate"] = as_date(data["ExpirationDate"], "ExpirationDate")
            status = data.setdefault("TxnStatus", "Pending")
            if status not in _ESTIMATE_STATUSES:
                raise faults.invalid_value("TxnStatus", f"Invalid Enumeration : {status}")
        self._doc_number(kind, data, current)
        email = data.setdefault("EmailStatus", "NotSet")
        if email not in _EMAIL_STATUSES:
            raise faults.invalid_value("EmailStatus", f"Invalid Enumeration : {email}")
        if data.get("PaymentMethodRef") is not None:
            self._exists("PaymentMethod", "PaymentMethodRef", data["PaymentMethodRef"])
        self._totals(data)
        if kind == "Invoice":
            applied = self.books.applied(str(current["id"])) if current is not None else {}
            total_applied = sum(applied.values(), Decimal(0))
            if total_applied > data["TotalAmt"]:
                raise faults.business(
                    "The invoice total would be less than the payments applied to it."
                )
            data["Balance"] = data["TotalAmt"] - total_applied
            data["HomeBalance"] = money(data["Balance"] * data["ExchangeRate"])
            data["LinkedTxn"] = [{"TxnId": pid, "TxnType": "Payment"} for pid in applied]

    def _party(self, data: dict[str, Any]) -> str:
        if data.get("CustomerRef") is None:
            raise faults.required("CustomerRef")
        customer = self._exists("Customer", "CustomerRef", data["CustomerRef"], active=True)
        data["CustomerRef"] = {"value": customer}
        return customer

    def _transaction_currency(self, data: dict[str, Any], customer: Mapping[str, Any]) -> None:
        theirs = ref(customer.get("CurrencyRef")) or HOME_CURRENCY
        currency = self._currency(data.get("CurrencyRef") or theirs)
        if currency["value"] != theirs:
            raise faults.business(
                f"The transaction currency ({currency['value']}) must be the customer's "
                f"currency ({theirs})."
            )
        data["CurrencyRef"] = currency
        data["ExchangeRate"] = EXCHANGE_RATES.get(currency["value"], Decimal(1))

    def _doc_number(
        self, kind: str, data: dict[str, Any], current: Mapping[str, Any] | None
    ) -> None:
        table = self.books.tables[kind]
        own = None if current is None else current["id"]
        numbers = [str(row.get("DocNumber") or "") for row in table.list() if row["id"] != own]
        given = str(data.get("DocNumber") or "").strip()
        if not given:
            numeric = [int(n) for n in numbers if n.isdigit()]
            given = str(max(numeric, default=1000) + 1)
        elif kind == "Invoice" and given.casefold() in {n.casefold() for n in numbers}:
            raise faults.business(
                "Duplicate Document Number Error : You must specify a different number. "
                f"This number has already been used ({given}).",
                code="6140",
            )
        data["DocNumber"] = given

    def _totals(self, data: dict[str, Any]) -> None:
        """Number the lines, check their amounts, compute sales tax and ``TotalAmt``."""
        lines: list[dict[str, Any]] = []
        subtotal = Decimal(0)
        discounts = Decimal(0)
        taxable: dict[str, Decimal] = {}
        for raw in data["Line"]:
            if not isinstance(raw, Mapping):
                raise faults.invalid_value("Line", "each Line must be an object")
            line = {k: v for k, v in raw.items() if k not in ("Id", "LineNum")}
            kind = line.get("DetailType")
            if kind == "SubTotalLineDetail":
                continue  # computed, appended below
            if kind == "SalesItemLineDetail":
                subtotal += self._sales_line(line, taxable)
            elif kind == "DiscountLineDetail":
                detail = line.get("DiscountLineDetail") or {}
                if detail.get("PercentBased") and detail.get("DiscountPercent") is not None:
                    amount = money(subtotal * number(detail["DiscountPercent"]) / 100)
                else:
                    amount = money(line.get("Amount", 0))
                line["Amount"] = amount
                discounts += amount
            elif kind == "DescriptionOnly":
                line.setdefault("DescriptionLineDetail", {})
                line["Amount"] = money(line.get("Amount", 0))
            else:
                raise faults.invalid_value("Line.DetailType", f"Invalid Enumeration : {kind}")
            line["Id"] = str(len(lines) + 1)
            line["LineNum"] = len(lines) + 1
            lines.append(line)
        lines.append(
            {
                "Amount": money(subtotal),
                "DetailType": "SubTotalLineDetail",
                "SubTotalLineDetail": {},
            }
        )
        tax_lines, total_tax = self._tax(taxable)
        data["Line"] = lines
        data["TxnTaxDetail"] = {"TotalTax": total_tax, "TaxLine": tax_lines}
        data["TotalAmt"] = money(subtotal - discounts + total_tax)
        data["HomeTotalAmt"] = money(data["TotalAmt"] * data["ExchangeRate"])

    def _sales_line(self, line: dict[str, Any], taxable: dict[str, Decimal]) -> Decimal:
        detail = dict(line.get("SalesItemLineDetail") or {})
        if line.get("Amount") is None:
            raise faults.required("Line.Amount")
        amount = money(line["Amount"])
        qty, price = detail.get("Qty"), detail.get("UnitPrice")
        if qty is not None and price is not None and money(number(qty) * number(price)) != amount:
            raise faults.business(
                f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}", code="6070"
            )
        if detail.get("ItemRef") is not None:
            # QuickBooks fills a reference's name from the referenced object ("name: an
            # identifying name for the object being referenced by value that is derived from
            # the field that holds the common name of that object", ReferenceType in the
            # Accounting API docs; an invoice's sample response shows
            # <ItemRef name="Rock Fountain">5</ItemRef>), whatever name the request sent
            item_id = self._exists("Item", "ItemRef", detail["ItemRef"])
            item = self.books.row("Item", item_id)
            detail["ItemRef"] = {"value": item_id, "name": str((item or {}).get("Name") or "")}
        code = ref(detail.get("TaxCodeRef"))
        if code is not None:
            if code not in _PSEUDO_TAX_CODES:
                self._exists("TaxCode", "TaxCodeRef", code)
            detail["TaxCodeRef"] = {"value": code}
            taxable[code] = taxable.get(code, Decimal(0)) + amount
        line["SalesItemLineDetail"] = detail
        line["Amount"] = amount
        return amount

    def _tax(self, taxable: Mapping[str, Decimal]) -> tuple[list[dict[str, Any]], Decimal]:
        """One ``TaxLine`` per tax rate of each code used, and the total tax."""
        by_rate: dict[str, tuple[Decimal, Decimal]] = {}
        for code, base in taxable.items():
            row = self.books.row("TaxCode", code)
            if row is None:
                continue  # a US pseudo code: the emulated company charges no sales tax on it
            for detail in (row.get("SalesTaxRateList") or {}).get("TaxRateDetail", []):
                rate_id = ref(detail.get("TaxRateRef"))
                rate = self.books.row("TaxRate", rate_id)
                if rate_id is None or rate is None:
                    continue
                held = by_rate.get(rate_id, (Decimal(0), number(rate.get("RateValue", 0))))
                by_rate[rate_id] = (held[0] + base, held[1])
        lines = []
        total = Decimal(0)
        for rate_id, (base, percent) in sorted(by_rate.items()):
            amount = money(base * percent / 100)
            total += amount
            lines.append(
                {
                    "Amount": amount,
                    "DetailType": "TaxLineDetail",
                    "TaxLineDetail": {
                        "TaxRateRef": {"value": rate_id},
                        "PercentBased": True,
                        "TaxPercent": percent,
                        "NetAmountTaxable": money(base),
                    },
                }
            )
        return lines, money(total)

    def _payment(self, data: dict[str, Any], current: Mapping[str, Any] | None) -> None:
        customer_id = self._party(data)
        if data.get("TotalAmt") is None:
            raise faults.required("TotalAmt")
        total = money(data["TotalAmt"])
        if total < 0:
            raise faults.business("The payment amount cannot be negative.")
        customer = self.books.row("Customer", customer_id)
        assert customer is not None
        self._transaction_currency(data, customer)
        data["TxnDate"] = as_date(data.get("TxnDate") or datetime.now(TZ).date(), "TxnDate")
        own = None if current is None else str(current["id"])
        applied_total = Decimal(0)
        lines = []
        for raw in data.get("Line") or []:
            line = dict(raw)
            amount = money(line.get("Amount", 0))
            links = line.get("LinkedTxn") or []
            for link in links:
                if link.get("TxnType") != "Invoice":
                    raise faults.invalid_value(
                        "LinkedTxn.TxnType", f"Unsupported TxnType {link.get('TxnType')!r}"
                    )
                invoice = self.books.row("Invoice", link.get("TxnId"))
                if invoice is None:
                    raise faults.invalid_reference("LinkedTxn", link.get("TxnId"))
                if ref(invoice.get("CustomerRef")) != customer_id:
                    raise faults.business(
                        f"Invoice {invoice['id']} belongs to another customer than the payment."
                    )
                other = sum(
                    (v for k, v in self.books.applied(str(invoice["id"])).items() if k != own),
                    Decimal(0),
                )
                if amount > invoice["TotalAmt"] - other:
                    raise faults.business(
                        f"The payment amount {amount} is more than the open balance of invoice "
                        f"{invoice.get('DocNumber')} ({invoice['TotalAmt'] - other})."
                    )
            line["Amount"] = amount
            applied_total += amount
            lines.append(line)
        if applied_total > total:
            raise faults.business("The amounts applied are more than the payment's total.")
        data["Line"] = lines
        data["TotalAmt"] = total
        data["UnappliedAmt"] = total - applied_total
        if data.get("PaymentMethodRef") is not None:
            self._exists("PaymentMethod", "PaymentMethodRef", data["PaymentMethodRef"])
        data.setdefault("DepositToAccountRef", {"value": UNDEPOSITED_FUNDS})
