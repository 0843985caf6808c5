"""The core's connector contract suite, run against the QuickBooks emulator.

The connection starts from the tokens ``settings_for()`` carries (the suite's harness passes no
stored credentials), as a headless set-up starts from Intuit's OAuth Playground tokens.
Payments, payment methods, VAT rates and currencies are left out: the seeded company holds too
few of them for the suite's three pages, and payments need open invoices of the right customer;
they are tested in ``test_quickbooks_reads.py`` and ``test_quickbooks_writes.py``. Contacts are
topped up through ``upsert`` (the emulator seeds half as many people as companies).
"""

from __future__ import annotations

from typing import Any

from syncbridge.connection import Connection
from syncbridge.emulator import Emulator
from syncbridge.testing import ConnectorContract, default_sample
from syncbridge_quickbooks.parties import customer_kind


class TestQuickBooksContract(ConnectorContract):
    connector = "syncbridge_quickbooks.connector"
    emulator = "syncbridge_quickbooks.emulator:create_app"
    entities = ["company", "contact", "product", "invoice"]

    def expected_count(self, emulator: Emulator | None, entity: str) -> int | None:
        assert emulator is not None
        if entity in ("company", "contact"):
            customers = emulator.store.table("Customer").list()
            return sum(1 for c in customers if customer_kind(c) == entity)
        return len(emulator.store.table({"product": "Item", "invoice": "Invoice"}[entity]))

    def seed(self, connection: Connection, entity: str, count: int) -> list[str] | None:
        if entity != "contact":
            return None  # the emulator's own data fills the others
        return super().seed(connection, entity, count)

    def sample(self, entity: str, index: int) -> dict[str, Any]:
        sample = dict(default_sample(entity, index))
        if entity == "company":
            # QuickBooks fixes a customer's currency when it is created: updating seeded
            # customers of both currencies would be refused (tested in test_quickbooks_writes)
            del sample["currency"]
        if entity == "invoice":
            # customer 1 is a seeded US company: QuickBooks wants the customer's currency;
            # and an update must not bring a total below the payments already applied
            sample["currency"] = "USD"
            sample["lines"] = [
                {**line, "unit_price": line["unit_price"] + 100_000} for line in sample["lines"]
            ]
        return sample
