"""The core's connector contract suite, run against the emulator.

Payments are read-only and come from booked invoices, which the suite cannot seed through
``upsert``: ``test_dinero_reads.py`` covers them. The suite updates records it picks by
position, and Dinero refuses to change a booked invoice, so its emulator books none
(``test_dinero_writes.py`` covers booking and locking). Everything the emulator answers
during the suite is validated against the official spec (``on_the_spec``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from dinero_testkit import recorded

from syncbridge.emulator import Emulator
from syncbridge.testing import ConnectorContract, default_sample
from syncbridge_dinero.emulator import DineroEmulator, seeded_guid


@pytest.mark.usefixtures("on_the_spec")
class TestDineroContract(ConnectorContract):
    connector = "syncbridge_dinero.connector"
    emulator = staticmethod(recorded(booked_every=0))
    entities = ("company", "contact", "product", "invoice")

    def sample(self, entity: str, index: int) -> Mapping[str, Any]:
        """Values Dinero holds: units from its list, a Danish customer for invoices, lines
        at 25% VAT, no invoice number (Dinero numbers invoices when they are booked)."""
        sample = default_sample(entity, index)
        if entity == "product":
            sample["unit"] = "parts"
            sample.pop("currency")
        if entity == "invoice":
            sample.pop("number")
            sample["company_id"] = seeded_guid("contact", 1)
            sample["currency"] = "DKK"
            sample["lines"] = [
                {**line, "vat_percent": Decimal(25), "unit": "hours"} for line in sample["lines"]
            ]
        return sample

    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """A client secret the token endpoint refuses: a 401 (RFC 6749 5.2, client
        authenticated by HTTP Basic). A wrong API key is a 400 ``invalid_grant`` instead,
        which ``test_dinero_auth.py`` covers."""
        return {**settings, "client_secret": "not-the-secret"}

    def expected_count(self, emulator: Emulator | None, entity: str) -> int | None:
        assert isinstance(emulator, DineroEmulator)
        if entity in ("company", "contact"):
            person = entity == "contact"
            return len(emulator.contacts.list(lambda row: row["IsPerson"] is person))
        return len(emulator.store.table(f"{entity}s"))
