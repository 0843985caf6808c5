"""The emulated company's books: QuickBooks' objects, read, written and rendered.

Kept apart from HTTP so that a single request, a batch item and the seeding all go through the
same checks and arithmetic. A write is checked here for what every object shares (the
properties of its XSD type, ``Id`` and the current ``SyncToken`` of an update, sparse merges)
and by :mod:`~syncbridge_quickbooks.emulator.rules` for its own rules and totals; its
consequences follow (applying a payment updates the invoice: new ``SyncToken``, new
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
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from syncbridge.emulator import Store, Table
from syncbridge.emulator.store import CREATED, UPDATED
from syncbridge_quickbooks.emulator import faults
from syncbridge_quickbooks.emulator.faults import Fault
from syncbridge_quickbooks.emulator.query import QueryError, parse
from syncbridge_quickbooks.emulator.rules import Rules
from syncbridge_quickbooks.emulator.schema import PROPERTIES
from syncbridge_quickbooks.emulator.values import int_id, money, number, ref, stamp

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


class Books:
    """The objects of one emulated company, with QuickBooks' write rules.

    Thread-safe: one lock serialises writes, so checks and the write they guard are atomic
    (two requests can never both take the same DisplayName).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.tables: dict[str, Table] = {name: store.table(name) for name in ENTITIES}
        self._lock = threading.RLock()
        self.rules = Rules(self)

    # -- reading ---------------------------------------------------------------------------

    def entity(self, name: str) -> str:
        """The object named ``name`` (an endpoint's lower-case name or the object's own)."""
        for entity in ENTITIES:
            if entity.lower() == name.lower():
                return entity
        raise Fault(404, "610", "Object Not Found", f"Unknown entity {name!r}")

    def row(self, entity: str, id: Any) -> Mapping[str, Any] | None:
        key = int_id(id)
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
            self.rules.apply(entity, data, None)
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
            self.rules.apply(entity, data, current)
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
            if entity == "Invoice" and self.applied(str(current["id"])):
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
            if self.applied(str(current["id"])):
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

    # -- consequences of writes --------------------------------------------------------------

    def applied(self, invoice_id: str) -> dict[str, Decimal]:
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
        applied = self.applied(invoice_id)
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
            customer = ref(invoice.get("CustomerRef"))
            if customer is not None:
                balance = number(invoice.get("Balance", 0))
                self.balances[customer] = self.balances.get(customer, Decimal(0)) + balance

    def _chain(self, row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        chain = [row]
        seen = {str(row["id"])}
        parent = ref(row.get("ParentRef"))
        while parent is not None and parent in self.customers and parent not in seen:
            seen.add(parent)
            chain.append(self.customers[parent])
            parent = ref(self.customers[parent].get("ParentRef"))
        return chain

    def full_name(self, row: Mapping[str, Any]) -> str:
        return ":".join(str(r.get("DisplayName")) for r in reversed(self._chain(row)))

    def level(self, row: Mapping[str, Any]) -> int:
        return len(self._chain(row)) - 1
