"""Fixtures of the toolkit tests: the Changes API served on 127.0.0.1, and clients of it
built the way the engine builds them (retries, request log, redaction)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

HERE = Path(__file__).parent
# the test API is a plain module beside the tests (pytest runs with --import-mode=importlib)
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from changes_api import ChangesApi, Connect  # noqa: E402

from syncbridge.describe import ConnectorInfo  # noqa: E402
from syncbridge.emulator import running  # noqa: E402
from syncbridge.http import Client, LoggedRequest, build_client  # noqa: E402
from syncbridge.http.retry import BACKOFF_ENV  # noqa: E402
from syncbridge.settings import HttpSettings  # noqa: E402


class ChangesSettings(HttpSettings):
    """Settings of a connection to the Changes API."""

    api_key: SecretStr = SecretStr("changes-secret-key")
    page_size: int = 100


@pytest.fixture(scope="session")
def served() -> Iterator[tuple[ChangesApi, str]]:
    """One Changes API for the whole session, and its base URL."""
    api = ChangesApi()
    with running(api.app) as base_url:
        yield api, base_url


@pytest.fixture
def api(served: tuple[ChangesApi, str]) -> ChangesApi:
    """The Changes API, emptied, its clock back at its start."""
    served[0].reset()
    served[0].scripts.clear()
    served[0].handled.clear()
    return served[0]


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff waits of milliseconds (``Retry-After`` still rules)."""
    monkeypatch.setenv(BACKOFF_ENV, "0.001")


@pytest.fixture
def connect(served: tuple[ChangesApi, str]) -> Iterator[Connect]:
    """``connect(**settings)``: a client of connection ``shop`` to the API and its request log."""
    clients: list[Client] = []

    def make(**settings: Any) -> tuple[Client, list[LoggedRequest]]:
        settings.setdefault("base_url", served[1])
        settings.setdefault("max_retries", 2)
        info = ConnectorInfo(name="changes", title="Changes API", settings=ChangesSettings)
        log: list[LoggedRequest] = []
        client = build_client(
            name="shop",
            settings=ChangesSettings.model_validate(settings),
            info=info,
            request_log=log.append,
        )
        clients.append(client)
        return client, log

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(connect: Connect) -> Client:
    return connect()[0]
