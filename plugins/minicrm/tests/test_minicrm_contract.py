"""The core's connector contract suite, run against the MiniCRM emulator.

Invoices are written for a seeded Business (contact 1): MiniCRM checks that the customer
exists. Contact samples name no company: the suite's update would move a seeded person to
another company, which MiniCRM refuses (tested in test_minicrm_writes.py). The suite seeds
201 records per resource and reads each by id (MiniCRM's lists name records only), so a full
read here is a few hundred requests, with the limits off.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from syncbridge.emulator import Emulator
from syncbridge.testing import ConnectorContract, default_sample
from syncbridge.testing.harness import Harness


class TestMiniCrmContract(ConnectorContract):
    connector = "syncbridge_minicrm.connector"
    emulator = "syncbridge_minicrm.emulator:create_app"
    entities = ["company", "contact", "invoice"]

    def expected_count(self, emulator: Emulator | None, entity: str) -> int | None:
        assert emulator is not None
        if entity == "invoice":
            return len(emulator.store.table("invoice"))
        kind = "Business" if entity == "company" else "Person"
        return len(emulator.store.table("contact").list(lambda row: row["Type"] == kind))

    def touch(self, harness: Harness, entity: str, ids: list[str]) -> bool | None:
        """Invoices change in MiniCRM only by being paid or cancelled: mark them paid."""
        if entity != "invoice":
            return False
        assert harness.emulator is not None
        table = harness.emulator.store.table("invoice")
        for native_id in ids:
            table.update(int(native_id), {"Paid": "2024-06-30", "Status": "Kifizetve"})
        return True

    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {**settings, "api_key": "wrong"}

    def sample(self, entity: str, index: int) -> dict[str, Any]:
        sample = dict(default_sample(entity, index))
        if entity == "invoice":  # MiniCRM checks references: a seeded Business
            sample["company_id"] = "1"
        if entity == "invoice":  # MiniCRM fills an item's VAT (27%) and unit (db) if not given
            sample["lines"] = [
                {**line, "vat_percent": Decimal(27), "unit": "db"} for line in sample["lines"]
            ]
        return sample
