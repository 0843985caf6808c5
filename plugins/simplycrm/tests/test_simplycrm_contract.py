"""The core's connector contract suite, run against the Simply CRM emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from syncbridge.emulator import Emulator
from syncbridge.errors import AuthError
from syncbridge.testing import ConnectorContract, default_sample
from syncbridge.testing.harness import Harness
from syncbridge_simplycrm.mapping import MODULES

#: seeded records with fixed ids (emulator/seed.py)
FIRST_ACCOUNT, FIRST_PRODUCT = "11x2", "14x4"
KEY_FIELDS = {"company": "cf_857", "contact": "cf_858", "product": "cf_859", "invoice": "cf_862"}


class TestSimplyCrmContract(ConnectorContract):
    connector = "syncbridge_simplycrm.connector"
    emulator = "syncbridge_simplycrm.emulator:create_app"
    entities = ["company", "contact", "product", "invoice"]

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

    def test_http_401_is_an_auth_error(self, harness: Harness, entity: str) -> None:
        """Replaces the kit's check: vtiger never answers 401. A wrong access key is refused
        with ``200 {"success": false, "error": {"code": "INVALID_USER_CREDENTIALS"}}``, and
        a read with it must raise AuthError naming the settings to fix."""
        assert harness.emulator is not None
        bad = self.bad_settings(dict(harness.settings))
        connection = harness.connect(bad, name="contract-wrong")
        with pytest.raises(AuthError) as raised:
            list(connection.fetch(entity))
        assert "INVALID_USER_CREDENTIALS: Invalid username or password" in str(raised.value)
        assert "access_key" in str(raised.value)
        assert harness.emulator.requests.count(status=401) == 0


class TestSimplyCrmContractWithoutKeyFields(TestSimplyCrmContract):
    """A connection without key fields (the default): no lookup is declared, and none works."""

    entities = ["company"]

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {}
