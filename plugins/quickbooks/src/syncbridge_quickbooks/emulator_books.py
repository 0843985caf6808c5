"""The emulated company's books: QuickBooks' objects, the rules that guard them, their totals.

Kept apart from HTTP so that a single request, a batch item and the seeding all go through the
same validation and arithmetic. Each write is checked the way the real service checks it (the
properties of the object's XSD type, required fields, unique names, references that must
exist, the current ``SyncToken``) and then computed the way QuickBooks computes it: line
amounts, sales tax per tax code, ``TotalAmt``, and an invoice's ``Balance`` from the payments
applied to it (applying a payment updates the invoice: new ``SyncToken``, new
``LastUpdatedTime``, so change data capture reports it).

Times are kept to the microsecond and shown, as QuickBooks shows them, to the second: two
writes within one second show the same ``LastUpdatedTime``, which is what makes clients compare
with ``>=`` on whole seconds. Records are stored as the JSON objects QuickBooks returns, minus
what is derived when they are rendered (``Id``, ``MetaData``, a customer's
``FullyQualifiedName``, ``Level`` and ``Balance``). Money is ``Decimal`` throughout; JSON
numbers in request bodies are parsed as ``Decimal``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pycountry

from syncbridge.emulator import Store, Table
from syncbridge.emulator.store import CREATED, UPDATED
from syncbridge_quickbooks import emulator_faults as faults
from syncbridge_quickbooks.emulator_faults import Fault
from syncbridge_quickbooks.emulator_query import QueryError, parse
from syncbridge_quickbooks.emulator_schema import PROPERTIES

#: the company's time zone (Pacific standard time, as a fixed offset: no daylight saving)
TZ = timezone(timedelta(hours=-8))
HOME_CURRENCY = "USD"
#: exchange rates to the home currency, used for ``ExchangeRate`` and ``HomeTotalAmt``
EXCHANGE_RATES = {"USD": Decimal(1), "EUR": Decimal("1.0850"), "GBP": Decimal("1.2700")}
#: the Undeposited Funds account payments go to unless told otherwise
UNDEPOSITED_FUNDS = "4"

ENTITIES = (
    "Account",
    "TaxRate",
    "TaxCode",
    "PaymentMethod",
    "CompanyCurrency",
    "Item",
    "Customer",
    "Invoice",
    "Estimate",
    "Payment",
)
#: objects that are never deleted, only made inactive, and hidden from queries when inactive
NAME_LISTS = frozenset(
    {"Customer", "Item", "PaymentMethod", "CompanyCurrency", "TaxCode", "TaxRate", "Account"}
)
TRANSACTIONS = frozenset({"Invoice", "Estimate", "Payment"})
#: objects the API writes through ``POST /{entity}`` (tax codes go through the tax service)
WRITABLE = frozenset(
    {"Customer", "Item", "PaymentMethod", "CompanyCurrency", "Invoice", "Estimate", "Payment"}
)
#: properties the service computes or owns: accepted in a body, never taken from it
_SYSTEM = frozenset({"Id", "SyncToken", "MetaData", "domain", "status", "sparse"})
_DERIVED = {
    "Customer": frozenset({"FullyQualifiedName", "Level", "Balance", "BalanceWithJobs"}),
    "Item": frozenset({"FullyQualifiedName"}),
    "Invoice": frozenset({"TotalAmt", "HomeTotalAmt", "Balance", "HomeBalance", "LinkedTxn"}),
    "Estimate": frozenset({"TotalAmt", "HomeTotalAmt"}),
    "Payment": frozenset({"UnappliedAmt"}),
}
_ITEM_TYPES = frozenset({"Service", "NonInventory", "Inventory", "Group", "Category"})
_NEED_INCOME_ACCOUNT = frozenset({"Service", "NonInventory", "Inventory"})
_EMAIL_STATUSES = frozenset({"NotSet", "NeedToSend", "EmailSent"})
_ESTIMATE_STATUSES = frozenset({"Pending", "Accepted", "Closed", "Rejected"})
#: US sales-tax pseudo codes a line may carry instead of a TaxCode id
_PSEUDO_TAX_CODES = frozenset({"TAX", "NON"})
CENT = Decimal("0.01")


def stamp(moment: datetime) -> str:
    """An instant as QuickBooks writes it: whole seconds in the company's offset."""
    return moment.astimezone(TZ).isoformat(timespec="seconds")


def money(value: Any) -> Decimal:
    """Two decimals, rounded half up, as QuickBooks rounds amounts."""
    return number(value).quantize(CENT, ROUND_HALF_UP)


def number(value: Any, element: str = "amount") -> Decimal:
    if isinstance(value, bool) or value is None:
        raise faults.invalid_value(element, f"{element} must be a number, not {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise faults.invalid_value(element, f"{element} must be a number, not {value!r}") from None


def _date(value: Any, element: str) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise faults.invalid_value(
            element, f"{element} must be a date as YYYY-MM-DD, not {value!r}"
        ) from None


def _ref(value: Any) -> str | None:
    """The id of a ``{"value": ...}`` reference (or of a bare string), or None."""
    if isinstance(value, Mapping):
        value = value.get("value")
    return None if value in (None, "") else str(value)


def _int_id(id: Any) -> int | None:
    try:
        return int(str(id))
    except ValueError:
        return None


class Books:
    """The objects of one emulated company, with QuickBooks' write rules.

    Thread-safe: one lock serialises writes, so checks and the write they guard are atomic
    (two requests can never both take the same DisplayName).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.tables: dict[str, Table] = {name: store.table(name) for name in ENTITIES}
        self._lock = threading.RLock()
        self._rules: dict[str, Callable[[dict[str, Any], Mapping[str, Any] | None], None]] = {
            "Customer": self._customer,
            "Item": self._item,
            "PaymentMethod": self._payment_method,
            "CompanyCurrency": self._company_currency,
            "Invoice": lambda data, current: self._sales_transaction("Invoice", data, current),
            "Estimate": lambda data, current: self._sales_transaction("Estimate", data, current),
            "Payment": self._payment,
        }

    # -- reading ---------------------------------------------------------------------------

    def entity(self, name: str) -> str:
        """The object named ``name`` (an endpoint's lower-case name or the object's own)."""
        for entity in ENTITIES:
            if entity.lower() == name.lower():
                return entity
        raise Fault(404, "610", "Object Not Found", f"Unknown entity {name!r}")

    def row(self, entity: str, id: Any) -> Mapping[str, Any] | None:
        key = _int_id(id)
        return None if key is None else self.tables[entity].get(key)

    def read(self, entity: str, id: Any) -> dict[str, Any]:
        """One object as the API returns it, or 610 Object Not Found."""
        with self._lock:
            row = self.row(entity, id)
            if row is None:
                raise faults.not_found(entity, str(id))
            return self.render(entity, row)

    def render(
        self, entity: str, row: Mapping[str, Any], context: _Context | None = None
    ) -> dict[str, Any]:
        """The stored row as the API shows it: ``Id``, ``MetaData`` and derived fields added."""
        out: dict[str, Any] = {"Id": str(row["id"])}
        out.update({k: v for k, v in row.items() if k not in ("id", CREATED, UPDATED)})
        out["domain"] = "QBO"
        out["sparse"] = False
        out["MetaData"] = {
            "CreateTime": stamp(row[CREATED]),
            "LastUpdatedTime": stamp(row[UPDATED]),
        }
        if entity == "Customer":
            context = context or self._context()
            out["FullyQualifiedName"] = context.full_name(row)
            out["Level"] = context.level(row)
            balance = context.balances.get(str(row["id"]), Decimal(0))
            out["Balance"] = out["BalanceWithJobs"] = balance
        elif entity == "Item":
            out["FullyQualifiedName"] = row.get("Name")
        return out

    def rendered(self, entity: str) -> list[dict[str, Any]]:
        with self._lock:
            context = self._context() if entity == "Customer" else None
            return [self.render(entity, row, context) for row in self.tables[entity].list()]

    def query(self, text: str) -> dict[str, Any]:
        """Run a query statement; the ``QueryResponse`` envelope."""
        try:
            statement = parse(text)
        except QueryError as error:
            raise faults.query_error(error.detail) from None
        if statement.entity not in ENTITIES:
            raise faults.query_error(
                f"QueryValidationError: Invalid context declaration : {statement.entity}"
            )
        entity = statement.entity
        rows = self.rendered(entity)
        if entity in NAME_LISTS and "active" not in statement.filtered:
            rows = [row for row in rows if row.get("Active", True)]
        selected = statement.select(rows)
        if statement.count:
            return {"totalCount": len(selected)}
        # MAXRESULTS defaults to 100 and is capped at 1000
        size = min(statement.max_results or 100, 1000)
        window = selected[statement.start - 1 : statement.start - 1 + size]
        response: dict[str, Any] = {"startPosition": statement.start, "maxResults": len(window)}
        if window:
            response[entity] = window
        return response

    def changes(self, entity: str, since: datetime) -> list[dict[str, Any]]:
        """What changed at or after ``since``: live objects, and deleted ones as stubs."""
        with self._lock:
            table = self.tables[entity]
            context = self._context() if entity == "Customer" else None
            live = [
                self.render(entity, row, context)
                for row in table.list(lambda row: row[UPDATED] >= since)
            ]
            gone = [
                {
                    "Id": str(tomb.id),
                    "status": "Deleted",
                    "domain": "QBO",
                    "MetaData": {"LastUpdatedTime": stamp(tomb.deleted_at)},
                }
                for tomb in table.deleted_since(since - timedelta(microseconds=1))
            ]
        return sorted(
            [*live, *gone], key=lambda r: datetime.fromisoformat(r["MetaData"]["LastUpdatedTime"])
        )

    # -- writing ---------------------------------------------------------------------------

    def create(self, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /{entity}`` without ``Id``: validate, compute, store; the rendered object."""
        with self._lock:
            self._writable(entity)
            data = self._clean(entity, body)
            self._rules[entity](data, None)
            data["SyncToken"] = "0"
            row = self.tables[entity].insert(data)
            self._after_write(entity, row, None)
            return self.render(entity, row)

    def update(self, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /{entity}`` with ``Id`` and ``SyncToken``: full, or sparse with ``sparse``."""
        with self._lock:
            self._writable(entity)
            current = self._current(entity, body)
            data = self._clean(entity, body)
            if body.get("sparse") in (True, "true"):
                kept = {
                    k: v
                    for k, v in current.items()
                    if k not in ("id", CREATED, UPDATED, "SyncToken")
                }
                data = {**kept, **data}
            self._rules[entity](data, current)
            data["SyncToken"] = str(int(current["SyncToken"]) + 1)
            row = self.tables[entity].replace(current["id"], data)
            assert row is not None
            self._after_write(entity, row, current)
            return self.render(entity, row)

    def write(self, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A create or an update, as the presence of ``Id`` says."""
        if body.get("Id") not in (None, ""):
            return self.update(entity, body)
        return self.create(entity, body)

    def delete(self, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``?operation=delete``: transactions only; name lists are made inactive instead."""
        with self._lock:
            if entity not in TRANSACTIONS:
                raise faults.unsupported(
                    f"Operation Delete is not supported for {entity}: make it inactive "
                    "(Active=false) instead"
                )
            current = self._current(entity, body)
            if entity == "Invoice" and self._applied(str(current["id"])):
                raise faults.business(
                    "This invoice has payments applied to it. Delete or unapply the payments first."
                )
            self.tables[entity].delete(current["id"])
            self._after_write(entity, None, current)
            return {"Id": str(current["id"]), "status": "Deleted", "domain": "QBO"}

    def void(self, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``?operation=void`` of an invoice: amounts to zero, the record kept."""
        with self._lock:
            if entity != "Invoice":
                raise faults.unsupported(f"Operation Void is not supported for {entity}")
            current = self._current(entity, body)
            if self._applied(str(current["id"])):
                raise faults.business("This invoice has payments applied to it.")
            lines = [{**line, "Amount": Decimal(0)} for line in current.get("Line", [])]
            note = current.get("PrivateNote") or ""
            changes = {
                "Line": lines,
                "TotalAmt": Decimal(0),
                "HomeTotalAmt": Decimal(0),
                "Balance": Decimal(0),
                "TxnTaxDetail": {"TotalTax": Decimal(0), "TaxLine": []},
                "PrivateNote": ("Voided " + note).strip(),
                "SyncToken": str(int(current["SyncToken"]) + 1),
            }
            row = self.tables[entity].update(current["id"], changes)
            assert row is not None
            return self.render(entity, row)

    def send(self, entity: str, id: str, to: str | None) -> dict[str, Any]:
        """``POST /invoice/{id}/send``: e-mail it; ``EmailStatus`` becomes ``EmailSent``."""
        with self._lock:
            if entity not in ("Invoice", "Estimate"):
                raise faults.unsupported(f"Operation Send is not supported for {entity}")
            current = self.row(entity, id)
            if current is None:
                raise faults.not_found(entity, id)
            address = to or _ref_address(current.get("BillEmail"))
            if not address:
                raise faults.business(
                    "Need to specify an email address to send the transaction to (BillEmail "
                    "or sendTo)."
                )
            changes: dict[str, Any] = {
                "EmailStatus": "EmailSent",
                "BillEmail": {"Address": address},
                "DeliveryInfo": {
                    "DeliveryType": "Email",
                    "DeliveryTime": stamp(datetime.now(UTC)),
                },
                "SyncToken": str(int(current["SyncToken"]) + 1),
            }
            row = self.tables[entity].update(current["id"], changes)
            assert row is not None
            return self.render(entity, row)

    def insert_fixed(self, entity: str, data: Mapping[str, Any], id: int) -> None:
        """Seed reference data with a well-known id, bypassing the write rules."""
        self.tables[entity].insert({**data, "SyncToken": "0"}, id=id)

    # -- shared checks ---------------------------------------------------------------------

    def _writable(self, entity: str) -> None:
        if entity not in WRITABLE:
            raise faults.unsupported(
                f"Operation Create/Update is not supported for {entity} through this endpoint"
            )

    def _current(self, entity: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        id = body.get("Id")
        if id in (None, ""):
            raise faults.required("Id")
        token = body.get("SyncToken")
        if token in (None, ""):
            raise faults.required("SyncToken")
        current = self.row(entity, id)
        if current is None:
            raise faults.not_found(entity, str(id))
        if str(token) != current["SyncToken"]:
            raise faults.stale(entity, str(token))
        return current

    def _clean(self, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """The writable properties of ``body``; an unknown property is refused (2010)."""
        allowed = PROPERTIES[entity]
        for key in body:
            if key not in allowed:
                raise faults.invalid_property(key)
        skipped = _SYSTEM | _DERIVED.get(entity, frozenset())
        return {k: v for k, v in body.items() if k not in skipped and v is not None}

    def _exists(self, entity: str, element: str, value: Any, *, active: bool = False) -> str:
        id = _ref(value)
        row = self.row(entity, id) if id is not None else None
        if row is None or (active and row.get("Active") is False):
            raise faults.invalid_reference(element, id)
        return str(row["id"])

    def _unique(
        self, entity: str, field: str, value: str, current: Mapping[str, Any] | None
    ) -> None:
        folded = value.casefold()
        own = None if current is None else current["id"]
        for row in self.tables[entity].list():
            if row["id"] != own and str(row.get(field) or "").casefold() == folded:
                raise faults.duplicate_name(value)

    def _currency(self, value: Any, element: str = "CurrencyRef") -> dict[str, str]:
        code = (_ref(value) or HOME_CURRENCY).upper()
        known = {HOME_CURRENCY} | {
            str(row["Code"]) for row in self.tables["CompanyCurrency"].list() if row.get("Active")
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
        parent = _ref(data.get("ParentRef"))
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
        if current is not None and _ref(current.get("CurrencyRef")) != currency["value"]:
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
            row = self.row("Customer", node)
            node = _ref(row.get("ParentRef")) if row is not None else None
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
            code = _ref(data["SalesTaxCodeRef"])
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
        customer = self.row("Customer", customer_id)
        assert customer is not None
        self._transaction_currency(data, customer)
        data["TxnDate"] = _date(data.get("TxnDate") or datetime.now(TZ).date(), "TxnDate")
        if kind == "Invoice":
            due = (
                data.get("DueDate")
                or (date.fromisoformat(data["TxnDate"]) + timedelta(days=30)).isoformat()
            )
            data["DueDate"] = _date(due, "DueDate")
        else:
            data.pop("DueDate", None)
            if data.get("ExpirationDate"):
                data["ExpirationDate"] = _date(data["ExpirationDate"], "ExpirationDate")
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
            applied = self._applied(str(current["id"])) if current is not None else {}
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
        theirs = _ref(customer.get("CurrencyRef")) or HOME_CURRENCY
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
        table = self.tables[kind]
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
            detail["ItemRef"] = {"value": self._exists("Item", "ItemRef", detail["ItemRef"])}
        code = _ref(detail.get("TaxCodeRef"))
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
            row = self.row("TaxCode", code)
            if row is None:
                continue  # a US pseudo code: the emulated company charges no sales tax on it
            for detail in (row.get("SalesTaxRateList") or {}).get("TaxRateDetail", []):
                rate_id = _ref(detail.get("TaxRateRef"))
                rate = self.row("TaxRate", rate_id)
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
        customer = self.row("Customer", customer_id)
        assert customer is not None
        self._transaction_currency(data, customer)
        data["TxnDate"] = _date(data.get("TxnDate") or datetime.now(TZ).date(), "TxnDate")
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
                invoice = self.row("Invoice", link.get("TxnId"))
                if invoice is None:
                    raise faults.invalid_reference("LinkedTxn", link.get("TxnId"))
                if _ref(invoice.get("CustomerRef")) != customer_id:
                    raise faults.business(
                        f"Invoice {invoice['id']} belongs to another customer than the payment."
                    )
                other = sum(
                    (v for k, v in self._applied(str(invoice["id"])).items() if k != own),
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

    # -- consequences of writes --------------------------------------------------------------

    def _applied(self, invoice_id: str) -> dict[str, Decimal]:
        """Payment id -> amount applied to the invoice."""
        applied: dict[str, Decimal] = {}
        for payment in self.tables["Payment"].list():
            for line in payment.get("Line") or []:
                for link in line.get("LinkedTxn") or []:
                    if link.get("TxnType") == "Invoice" and str(link.get("TxnId")) == invoice_id:
                        key = str(payment["id"])
                        applied[key] = applied.get(key, Decimal(0)) + number(line["Amount"])
        return applied

    def _after_write(
        self, entity: str, row: Mapping[str, Any] | None, previous: Mapping[str, Any] | None
    ) -> None:
        """Applying, changing or deleting a payment updates the invoices it touches."""
        if entity != "Payment":
            return
        touched = {
            str(link.get("TxnId"))
            for record in (row, previous)
            if record is not None
            for line in record.get("Line") or []
            for link in line.get("LinkedTxn") or []
        }
        for invoice_id in sorted(touched):
            self._settle(invoice_id)

    def _settle(self, invoice_id: str) -> None:
        invoice = self.row("Invoice", invoice_id)
        if invoice is None:
            return
        applied = self._applied(invoice_id)
        balance = invoice["TotalAmt"] - sum(applied.values(), Decimal(0))
        links = [{"TxnId": pid, "TxnType": "Payment"} for pid in applied]
        if balance == invoice.get("Balance") and links == invoice.get("LinkedTxn"):
            return
        self.tables["Invoice"].update(
            invoice["id"],
            {
                "Balance": balance,
                "HomeBalance": money(balance * invoice.get("ExchangeRate", Decimal(1))),
                "LinkedTxn": links,
                "SyncToken": str(int(invoice["SyncToken"]) + 1),
            },
        )

    def _context(self) -> _Context:
        return _Context(self)


def _ref_address(value: Any) -> str | None:
    if isinstance(value, Mapping):
        address = value.get("Address")
        return str(address) if address else None
    return None


class _Context:
    """What rendering many customers needs once: the customer tree and open balances."""

    def __init__(self, books: Books) -> None:
        self.customers = {str(row["id"]): row for row in books.tables["Customer"].list()}
        self.balances: dict[str, Decimal] = {}
        for invoice in books.tables["Invoice"].list():
            customer = _ref(invoice.get("CustomerRef"))
            if customer is not None:
                balance = number(invoice.get("Balance", 0))
                self.balances[customer] = self.balances.get(customer, Decimal(0)) + balance

    def _chain(self, row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        chain = [row]
        seen = {str(row["id"])}
        parent = _ref(row.get("ParentRef"))
        while parent is not None and parent in self.customers and parent not in seen:
            seen.add(parent)
            chain.append(self.customers[parent])
            parent = _ref(self.customers[parent].get("ParentRef"))
        return chain

    def full_name(self, row: Mapping[str, Any]) -> str:
        return ":".join(str(r.get("DisplayName")) for r in reversed(self._chain(row)))

    def level(self, row: Mapping[str, Any]) -> int:
        return len(self._chain(row)) - 1
