"""The core's connector contract suite, run against the Simply CRM emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from syncbridge.emulator import Emulator
from syncbridge.testing import ConnectorContract, default_sample
from syncbridge_simplycrm.mapping import MODULES

#: seeded records with fixed ids (emulator/seed.py)
FIRST_ACCOUNT, FIRST_PRODUCT = "11x2", "14x4"
KEY_FIELDS = {"company": "cf_857", "contact": "cf_858", "product": "cf_859", "invoice": "cf_862"}


class TestSimplyCrmContract(ConnectorContract):
    connector = "syncbridge_simplycrm.connector"
    emulator = "syncbridge_simplycrm.emulator:create_app"
    entities = ["company", "contact", "product", "invoice"]
    # vtiger refuses a wrong access key with 200 {"success": false, ...}, never 401
    refused_status = None

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        # each module's "Sync-nøgle" custom field holds the key of a create: lookup works
        return {"key_fields": KEY_FIELDS}

    def expected_count(self, emulator: Emulator | None, entity: str) -> int | None:
        assert emulator is not None
        return len(emulator.store.table(MODULES[entity]))

    def sample(self, entity: str, index: int) -> dict[str, Any]:
        sample = dict(default_sample(entity, index))
        if entity == "contact":  # the CRM checks references: point at a seeded organisation
            sample["company_id"] = FIRST_ACCOUNT
        if entity == "invoice":
            sample["company_id"] = FIRST_ACCOUNT
            sample["lines"] = [{**line, "product_id": FIRST_PRODUCT} for line in sample["lines"]]
        return sample


class TestSimplyCrmContractWithoutKeyFields(TestSimplyCrmContract):
    """A connection without key fields (the default): no lookup is declared, and none works."""

    entities = ["company"]

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {}
