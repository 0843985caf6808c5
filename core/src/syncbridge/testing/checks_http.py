"""Contract checks of HTTP behaviour, against the emulator over real HTTP.

Skipped for connectors that declare ``uses_http=False`` and for test classes without an
emulator. Faults are the emulator's own (its 429 and 500 bodies, a really aborted socket),
armed for exactly one request by :class:`~syncbridge.testing.faults.OneShotFaults`.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import ClassVar

import pytest

from syncbridge.describe import Capability
from syncbridge.emulator import Emulator
from syncbridge.errors import AuthError
from syncbridge.http.requestlog import secrets_of
from syncbridge.testing.checks_read import require
from syncbridge.testing.checks_write import REFUSALS
from syncbridge.testing.harness import Harness, dropped
from syncbridge.testing.hooks import ContractHooks

__all__ = ["RETRY_AFTER_SLACK", "HttpChecks"]

#: how much sooner than ``Retry-After: 1`` a retry may come (clock granularity)
RETRY_AFTER_SLACK = timedelta(milliseconds=100)


def _emulator(harness: Harness) -> Emulator:
    if not harness.info.uses_http:
        pytest.skip(f"{harness.info.name} does not speak HTTP")
    if harness.emulator is None:
        pytest.skip("the test class names no emulator")
    return harness.emulator


class HttpChecks(ContractHooks):
    """401, 429, 500, dropped connections, and secrets in the request log."""

    __test__: ClassVar[bool] = False

    def _complete_read(self, harness: Harness, entity: str, what: str) -> None:
        """The read under a fault returned what a clean read returns."""
        faulty = harness.fetch(entity)
        clean = harness.fetch(entity)
        assert set(faulty.ids) == set(clean.ids), f"a read that met {what} lost records"

    def test_http_401_is_an_auth_error(self, harness: Harness, entity: str) -> None:
        """A read with wrong credentials raises ``AuthError`` with a message, not a crash."""
        emulator = _emulator(harness)
        require(harness, entity, Capability.READ)
        bad = self.bad_settings(dict(harness.settings))
        if bad == harness.settings:
            pytest.skip("bad_settings() changes nothing: the settings hold no credentials")
        connection = harness.connect(bad, name="contract-wrong")
        status = self.refused_status
        refused = emulator.requests.count(status=status) if status is not None else 0
        try:
            list(connection.fetch(entity))
        except AuthError as error:
            assert str(error).strip(), "AuthError without a message"
        except Exception as error:
            pytest.fail(
                f"wrong credentials surfaced as {type(error).__name__}: {error}; raise "
                "AuthError with what to fix"
            )
        else:
            pytest.fail("a read with wrong credentials succeeded")
        if status is not None:
            assert emulator.requests.count(status=status) > refused, (
                f"the emulator never answered {status}"
            )

    def test_http_429_is_retried_after_retry_after(self, harness: Harness, entity: str) -> None:
        """A 429 with ``Retry-After: 1`` is retried, no sooner than it says, and succeeds."""
        emulator = _emulator(harness)
        require(harness, entity, Capability.READ)
        limited = emulator.requests.count(status=429)
        harness.requests.clear()
        emulator.faults.burst_429 = 1
        self._complete_read(harness, entity, "a 429")
        assert emulator.requests.count(status=429) == limited + 1, "no 429 was served"
        log = harness.requests
        first = next((n for n, entry in enumerate(log) if entry.status == 429), None)
        assert first is not None and first + 1 < len(log), "the 429 was not retried"
        waited = log[first + 1].at - log[first].at
        assert waited >= timedelta(seconds=1) - RETRY_AFTER_SLACK, (
            f"the retry came {waited.total_seconds():.3f} s after a 429 with Retry-After: 1"
        )

    def test_http_500_is_retried_on_reads(self, harness: Harness, entity: str) -> None:
        """One 500 on a read is retried and the read completes."""
        emulator = _emulator(harness)
        require(harness, entity, Capability.READ)
        failed = emulator.requests.count(status=500)
        harness.arm(error_rate=1.0)
        self._complete_read(harness, entity, "a 500")
        assert emulator.requests.count(status=500) == failed + 1, "no 500 was served"

    def test_http_dropped_connection_is_retried_on_reads(
        self, harness: Harness, entity: str
    ) -> None:
        """A connection dropped without a response during a read is retried."""
        emulator = _emulator(harness)
        require(harness, entity, Capability.READ)
        before = dropped(emulator)
        harness.arm(drop_rate=1.0, drop_mode="after")
        self._complete_read(harness, entity, "a dropped connection")
        assert dropped(emulator) == before + 1, "no connection was dropped"

    def test_request_log_keeps_no_secret(self, harness: Harness) -> None:
        """No entry of the request log shows a secret of the settings, failures included."""
        _emulator(harness)
        secrets = secrets_of(harness.connection.settings)
        if not secrets:
            pytest.skip("the settings hold no secret")
        harness.connection.check()
        for entity in self.contract_entities():
            info = harness.entity(entity)
            if info.can(Capability.READ):
                harness.arm(error_rate=1.0)  # a failure (and its retry) in the log too
                with contextlib.suppress(*REFUSALS):  # retrying is another check's concern
                    harness.fetch(entity)
            if info.can(Capability.CREATE):
                harness.create(entity)
        assert harness.requests, "the connection's request log received nothing"
        leaks = [repr(e) for e in harness.requests if any(s in repr(e) for s in secrets)]
        assert not leaks, "the request log shows secrets:\n" + "\n".join(leaks[:5])
