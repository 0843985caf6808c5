"""The core's connector contract suite, run against the Bitrix24 emulator.

Run for one entity of each kind the connector serves differently: contacts (old-style CRM
methods with multi-fields, lookup by ORIGIN_ID), products (old-style catalog, no lookup,
``TIMESTAMP_X``) and invoices (universal item methods with product rows and stages).
Companies go through exactly the code of contacts and are covered by the plugin's own tests
(``test_bitrix24_writes.py``, ``test_bitrix24_engine.py``), which keeps the suite quick. VAT
rates, currencies and units are left out: a portal holds a handful of each, never the three
pages of 50 the read checks need; ``test_bitrix24_reads.py`` pages through them instead.
"""

from __future__ import annotations

from typing import Any

from syncbridge.emulator import Emulator
from syncbridge.testing import ConnectorContract

TABLES = {
    "contact": "contacts",
    "company": "companies",
    "product": "products",
    "invoice": "invoices",
}


class TestBitrix24Contract(ConnectorContract):
    connector = "syncbridge_bitrix24.connector"
    emulator = "syncbridge_bitrix24.emulator:create_app"
    entities = ["contact", "product", "invoice"]

    def expected_count(self, emulator: Emulator | None, entity: str) -> int | None:
        assert emulator is not None
        return len(emulator.store.table(TABLES[entity]))

    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        # a wrong code in a well-formed webhook URL (a malformed one fails validation)
        prefix, _, _code = settings["webhook_url"].rstrip("/").rpartition("/")
        return {**settings, "webhook_url": f"{prefix}/wrongcode/"}
