"""The core's connector contract suite, run against the Számla Agent emulator.

What does not apply, and why (each is skipped with its reason, or answered by a test here):

* ``test_incremental_*``: no incremental read is declared. The Agent has no list and no
  "changed since"; a document's payments and storno flag change without anything saying
  which, so every read walks the number sequences in full (README assumption 4).
* the update half of ``test_upsert_creates_then_updates``: issued documents are immutable;
  ``test_undeclared_capabilities_do_not_work`` proves an update is refused.
* ``test_http_401_is_an_auth_error``: the Agent never answers 401. Credentials travel in the
  XML and a refusal is HTTP 200 with ``szlahu_error_code: 3``; the replacement below proves
  that it raises AuthError with the fix.
* VAT keys (``vat_rate``) are a fixed list read without a request: their HTTP checks prove
  nothing about the Agent and are skipped.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from syncbridge.emulator import Emulator
from syncbridge.errors import AuthError
from syncbridge.testing import ConnectorContract, default_sample
from syncbridge.testing.harness import Harness
from syncbridge_szamlazz.emulator import SzamlazzEmulator
from syncbridge_szamlazz.emulator.ledger import today

KINDS = {"invoice": ("SZ", "SS"), "quote": ("D",)}


def contract_sample(entity: str, index: int) -> dict[str, Any]:
    """The default sample, issuable: lines with a Hungarian VAT rate, invoices issued."""
    sample = dict(default_sample(entity, index))
    if entity in KINDS:
        # the number is read, never written: the Agent numbers each document it issues
        sample.pop("number", None)
        sample["lines"] = [{**line, "vat_percent": Decimal(27)} for line in sample["lines"]]
    if entity == "invoice":
        sample["status"] = "issued"
    if entity == "payment":  # credit entries go on a seeded invoice, in its currency
        sample.update(invoice_id=f"SBT-{today().year}-1", currency="HUF")
    return sample


def _requested(entity: str) -> None:
    if entity == "vat_rate":
        pytest.skip("VAT keys are a fixed list read without a request: no HTTP to fault")


class TestSzamlazzContract(ConnectorContract):
    connector = "syncbridge_szamlazz.connector"
    emulator = "syncbridge_szamlazz.emulator:create_app"
    entities = ["invoice", "quote", "payment", "vat_rate"]
    # the Agent refuses wrong credentials with HTTP 200 and error code 3, never 401
    refused_status = None

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        # canonical documents carry no buyer name: the kit writes them without one
        return {"buyer_required": False}

    def sample(self, entity: str, index: int) -> dict[str, Any]:
        return contract_sample(entity, index)

    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        # one kind of credentials at a time: a wrong Agent key
        return {**settings, "agent_key": "wrong"}

    def expected_count(self, emulator: Emulator | None, entity: str) -> int | None:
        if entity == "vat_rate":
            return 25
        assert isinstance(emulator, SzamlazzEmulator)
        if entity == "payment":
            documents = emulator.ledger.documents.values()
            return sum(len(d.payments) for d in documents if d.kind == "SZ")
        kinds = KINDS[entity]
        return sum(1 for d in emulator.ledger.documents.values() if d.kind in kinds)

    def test_http_401_is_an_auth_error(self, harness: Harness, entity: str) -> None:
        _requested(entity)
        super().test_http_401_is_an_auth_error(harness, entity)

    def test_http_429_is_retried_after_retry_after(self, harness: Harness, entity: str) -> None:
        _requested(entity)
        super().test_http_429_is_retried_after_retry_after(harness, entity)

    def test_http_500_is_retried_on_reads(self, harness: Harness, entity: str) -> None:
        _requested(entity)
        super().test_http_500_is_retried_on_reads(harness, entity)

    def test_http_dropped_connection_is_retried_on_reads(
        self, harness: Harness, entity: str
    ) -> None:
        _requested(entity)
        super().test_http_dropped_connection_is_retried_on_reads(harness, entity)

    def test_refused_credentials_are_an_auth_error(self, harness: Harness) -> None:
        bad = self.bad_settings(dict(harness.settings))
        connection = harness.connect(bad, name="contract-wrong")
        with pytest.raises(AuthError) as raised:
            list(connection.fetch("invoice"))
        assert str(raised.value) == (
            "Számlázz.hu refused the credentials of connection 'contract-wrong' (error 3: "
            "Bejelentkezési hiba - a megadott login név és jelszó pároshoz nem létezik "
            "felhasználó); check agent_key (or username and password) in "
            "connections.contract-wrong.settings"
        )
