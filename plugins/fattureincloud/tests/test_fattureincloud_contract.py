"""The core's connector contract suite, run against the emulator.

Reference data (VAT rates, currencies, payment methods, units) is left out: those lists are
small, unpaginated and read-only, so the suite's multi-page read and write checks do not
apply; ``test_fattureincloud_reads.py`` covers them. The suite updates records it picks by
position, and a sent e-invoice rightly refuses any update, so its emulator holds no locked
invoice (``test_fattureincloud_writes.py`` covers locking).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from syncbridge.emulator import Emulator, EmulatorOptions
from syncbridge.testing import ConnectorContract, default_sample
from syncbridge_fattureincloud.emulator import MAIN_COMPANY, FicEmulator

TABLES = {"company": "clients", "product": "products"}


def unlocked_emulator(options: EmulatorOptions) -> FicEmulator:
    """The seeded emulator with its sent e-invoices turned back into unsent ones."""
    emulator = FicEmulator(options)
    documents = emulator.table(MAIN_COMPANY, "documents")
    for row in documents.list(lambda row: bool(row.get("locked"))):
        documents.update(int(row["id"]), {"locked": False, "ei_status": "not_sent"})
    return emulator


class TestFattureInCloudContract(ConnectorContract):
    connector = "syncbridge_fattureincloud.connector"
    emulator = unlocked_emulator
    entities = ("company", "product", "quote", "order", "invoice")

    def sample(self, entity: str, index: int) -> Mapping[str, Any]:
        """Documents get numbers Fatture in Cloud can hold (digits, then a numeration) and
        lines with their VAT type (the API gives every line one)."""
        sample = default_sample(entity, index)
        if entity in ("quote", "order", "invoice"):
            sample["number"] = f"{index + 1}/CT"
            sample["lines"] = [
                {**line, "vat_rate_id": "0", "vat_percent": Decimal(22)} for line in sample["lines"]
            ]
        return sample

    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """A manual token the API does not know (the settings take one credential only)."""
        return {**settings, "access_token": "a/wrong-token"}

    def expected_count(self, emulator: Emulator | None, entity: str) -> int | None:
        assert isinstance(emulator, FicEmulator)
        if entity in TABLES:
            return len(emulator.table(MAIN_COMPANY, TABLES[entity]))
        documents = emulator.table(MAIN_COMPANY, "documents")
        return len(documents.list(lambda row: row.get("type") == entity))
