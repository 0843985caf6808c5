"""The ``client`` a connection hands its hooks: an HTTP client for a connector that speaks
HTTP, a resource holder (settings and per-connection resources, no httpx at all) for one that
does not (``ConnectorInfo.uses_http=False``, the sql connector)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

import syncbridge.connection
from syncbridge.connection import Connection
from syncbridge.describe import ConnectorInfo
from syncbridge.errors import AuthError
from syncbridge.hookspecs import hookimpl
from syncbridge.http import Client
from syncbridge.plugins import load_connector
from syncbridge.records import CheckResult
from syncbridge.resources import ResourceHolder
from syncbridge.settings import ConnectorSettings, HttpSettings


class Books:
    """A connector without HTTP whose ``check`` says what client it was given."""

    @hookimpl
    def describe(self) -> ConnectorInfo:
        return ConnectorInfo(name="books", title="Books", uses_http=False)

    @hookimpl
    def auth(self, connection: str) -> Any:
        raise AuthError(f"{connection}: a connector without HTTP is never asked for auth")

    @hookimpl
    def check(self, client: Any) -> CheckResult:
        ledger = client.resource("books.ledger", lambda: {"opened_for": client.connection})
        return CheckResult(ok=True, account=type(client).__name__, details=ledger)


class Tiny:
    """A connector that speaks HTTP and implements nothing but ``describe``."""

    @hookimpl
    def describe(self) -> ConnectorInfo:
        return ConnectorInfo(name="tiny", title="Tiny", settings=HttpSettings)


class Disposable:
    """A resource closed with ``dispose()`` (a SQLAlchemy engine)."""

    def __init__(self) -> None:
        self.closed = 0

    def dispose(self) -> None:
        self.closed += 1


class Closable:
    """A resource closed with ``close()``."""

    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_a_connector_without_http_gets_a_resource_holder_and_no_http_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_http(**_kwargs: Any) -> Any:
        raise AssertionError("an HTTP client was built for a connector without HTTP")

    monkeypatch.setattr(syncbridge.connection, "build_client", no_http)
    with Connection("ledger", Books(), {}) as books:
        result = books.check()
        client = books.client
        assert isinstance(client, ResourceHolder) and not isinstance(client, httpx.Client)
        assert (result.ok, result.account, result.details) == (
            True, "ResourceHolder", {"opened_for": "ledger"}
        )
        assert client.connection == "ledger" and client.settings is books.settings
        assert books.client is client  # one per connection


def test_the_sql_connector_keeps_its_database_in_the_holder_and_it_closes_with_it(
    tmp_path: Path,
) -> None:
    erp = Connection("erp", load_connector("sql"), {"url": f"sqlite:///{tmp_path}/x.db"})
    assert erp.check().ok
    client = erp.client
    assert isinstance(client, ResourceHolder)
    database = client.resource("sql.database", lambda: None)
    assert database is not None and database.settings is erp.settings
    disposed: list[bool] = []
    real = database.dispose
    database.dispose = lambda: disposed.append(True) or real()  # type: ignore[method-assign]

    erp.close()

    assert disposed == [True]


def test_a_connector_speaking_http_gets_the_http_client() -> None:
    with Connection("api", Tiny(), {"base_url": "http://127.0.0.1:9"}) as api:
        client = api.client
        assert isinstance(client, Client)
        assert client.settings is api.settings and client.connection == "api"
        assert str(client.base_url) == "http://127.0.0.1:9"


def test_a_holder_closes_each_resource_once_and_makes_it_anew_after() -> None:
    holder = ResourceHolder(connection="c", settings=ConnectorSettings())
    disposed, closed = Disposable(), Closable()
    assert holder.resource("a", lambda: disposed) is disposed
    assert holder.resource("b", lambda: closed) is closed
    assert holder.resource("c", lambda: "plain") == "plain"  # nothing to close
    assert holder.resource("a", Disposable) is disposed  # made once

    holder.close()
    holder.close()

    assert (disposed.closed, closed.closed) == (1, 1)
    assert holder.resource("a", Disposable) is not disposed
