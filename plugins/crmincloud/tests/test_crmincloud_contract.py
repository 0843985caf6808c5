"""The core's connector contract suite, run against the CRM in Cloud emulator.

VAT rates are left out: a tenant holds a handful of tax codes, never the three pages of them
the suite's read checks need, and the connector cannot create them; their reads are tested in
``test_crmincloud_reads.py``.
"""

from __future__ import annotations

from typing import Any

from syncbridge.emulator import Emulator
from syncbridge.testing import ConnectorContract, default_sample
from syncbridge_crmincloud.api import ENDPOINTS

TABLES = {entity: endpoints.entity.lower() for entity, endpoints in ENDPOINTS.items()}


class TestCrmInCloudContract(ConnectorContract):
    connector = "syncbridge_crmincloud.connector"
    emulator = "syncbridge_crmincloud.emulator:create_app"
    entities = ["company", "contact", "product", "quote"]

    def expected_count(self, emulator: Emulator | None, entity: str) -> int | None:
        assert emulator is not None
        return len(emulator.store.table(TABLES[entity]))

    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        # one kind of credentials at a time: a wrong password, not a wrong everything
        return {**settings, "password": "wrong"}

    def sample(self, entity: str, index: int) -> dict[str, Any]:
        sample = dict(default_sample(entity, index))
        if entity == "contact":  # the CRM checks references: point at a seeded company
            sample["company_id"] = "2"
        return sample
