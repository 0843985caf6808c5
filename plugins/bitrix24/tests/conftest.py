"""Fixtures of the Bitrix24 tests: an emulated portal over real HTTP and connections to it.

``portal(records=.., rate_limits=..)`` starts an emulator on a free port and returns a
:class:`Portal` handle whose ``connect(**settings)`` opens a connection through the real
connector, with every request recorded in ``handle.log``. Emulator limits and the client-side
limiter are off unless a test turns them on, so that only the rate-limit tests wait.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest

import syncbridge_bitrix24.connector
from syncbridge.connection import Connection
from syncbridge.credentials import Credentials
from syncbridge.emulator import EmulatorOptions, running
from syncbridge.http import LoggedRequest
from syncbridge_bitrix24.emulator import Bitrix24Emulator, create_app


@dataclass
class Portal:
    emulator: Bitrix24Emulator
    url: str
    stack: ExitStack
    log: list[LoggedRequest] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.emulator.webhook_code

    def settings(self, **overrides: Any) -> dict[str, Any]:
        return {**self.emulator.settings_for(self.url), "rate_limit": False, **overrides}

    def connect(
        self, *, credentials: Credentials | None = None, oauth: bool = False, **overrides: Any
    ) -> Connection:
        settings = (
            {**self.emulator.oauth_settings_for(self.url), "rate_limit": False, **overrides}
            if oauth
            else self.settings(**overrides)
        )
        connection = Connection(
            "b24",
            syncbridge_bitrix24.connector,
            settings,
            credentials=credentials,
            request_log=self.log.append,
        )
        self.stack.callback(connection.close)
        return connection

    def call(self, method: str, **params: Any) -> Any:
        """A method run directly on the emulated portal (arranging data, checking results)."""
        return self.emulator.portal.call(method, {k.lower(): v for k, v in params.items()}).result



@pytest.fixture
def portal() -> Iterator[Callable[..., Portal]]:
    with ExitStack() as stack:

        def start(records: int = 0, **options: Any) -> Portal:
            options.setdefault("rate_limits", False)
            emulator = create_app(EmulatorOptions(records=records, **options))
            url = stack.enter_context(running(emulator.app))
            return Portal(emulator, url, stack)

        yield start
