"""Fixtures: a seeded CRM in Cloud emulator over real HTTP, faults in front of it, and
connections to it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import unquote_plus

import pytest
from starlette.responses import Response

import syncbridge_crmincloud.connector
from syncbridge.connection import Connection
from syncbridge.emulator import EmulatorOptions, running
from syncbridge.emulator.faults import DropConnection
from syncbridge.http import LoggedRequest
from syncbridge.models import CanonicalRecord
from syncbridge_crmincloud.emulator import CrmInCloudEmulator

M = TypeVar("M", bound=CanonicalRecord)


def typed(model: type[M], record: CanonicalRecord) -> M:
    """``record`` as the model it must be (``map_in`` is typed for any entity)."""
    assert isinstance(record, model), f"expected a {model.__name__}, got {type(record).__name__}"
    return record


@dataclass
class Crm:
    """A running emulator, and the connections a test opened to it (closed afterwards)."""

    emulator: CrmInCloudEmulator
    url: str
    switch: _Switch | None = None
    log: list[LoggedRequest] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)

    def settings(self, **overrides: Any) -> dict[str, Any]:
        settings = self.emulator.settings_for(self.url)
        settings.update(overrides)
        return {key: value for key, value in settings.items() if value is not None}

    def connect(self, **overrides: Any) -> Connection:
        connection = Connection(
            "crm",
            syncbridge_crmincloud.connector,
            self.settings(**overrides),
            request_log=self.log.append,
        )
        self.connections.append(connection)
        return connection

    def table(self, name: str) -> Any:
        return self.emulator.store.table(name)

    def fault(
        self,
        kind: FaultKind,
        method: str,
        path: str,
        *,
        after: int = 0,
        times: int | None = 1,
        query: str = "",
    ) -> Fault:
        """Arm a fault for requests to the API (see :class:`Fault`)."""
        assert self.switch is not None
        armed = Fault(kind, method, path, after, times, query)
        self.switch.faults.append(armed)
        return armed



FaultKind = Literal["drop", "drop_unhandled", "html_502", "truncated"]

#: what a reverse proxy in front of the API answers when the API behind it failed
HTML_502 = (
    b"<!DOCTYPE html>\n<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n"
    b"<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n"
)


@dataclass
class Fault:
    """Requests whose method is ``method``, whose path contains ``path`` (any case) and whose
    query string contains ``query``: ``after`` of them pass, then ``times`` get the fault
    (``None``: all that follow).

    ``drop``: the API handles the request, then the connection closes without an answer;
    ``drop_unhandled``: the connection closes before the API handles it; ``html_502``: a
    proxy's HTML page, the API never asked; ``truncated``: the API's answer cut in half
    (status and headers as the API gave them)."""

    kind: FaultKind
    method: str
    path: str
    after: int = 0
    times: int | None = 1
    query: str = ""
    served: int = 0

    def takes(self, method: str, path: str, query: str) -> bool:
        """Whether this request gets the fault (counting it either way, if it matches)."""
        if method != self.method or self.path.lower() not in path.lower():
            return False
        if self.query not in query:
            return False
        if self.after > 0:
            self.after -= 1
            return False
        if self.times is not None and self.served >= self.times:
            return False
        self.served += 1
        return True


async def _discard(message: Any) -> None:
    """A ``send`` that loses the response (the API believes it answered)."""


class _Switch:
    """An ASGI app that hands each request to the current test's emulator, with the faults
    a test arms (:meth:`Crm.fault`) in front of it.

    One server for the whole session instead of one per test: starting and stopping uvicorn
    costs more than most of these tests.
    """

    def __init__(self) -> None:
        self.target: CrmInCloudEmulator | None = None
        self.faults: list[Fault] = []
        self._lock = threading.Lock()

    def _fault(self, scope: Any) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                query = unquote_plus(scope["query_string"].decode("latin-1"))
                if fault.takes(scope["method"], scope["path"], query):
                    return fault
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.target is not None, "no emulator is active"
        fault = self._fault(scope) if scope["type"] == "http" else None
        if fault is None:
            await self.target(scope, receive, send)
        elif fault.kind in ("drop", "drop_unhandled"):
            if fault.kind == "drop":
                await self.target(scope, receive, _discard)
            raise DropConnection(f"{scope['method']} {scope['path']}")
        elif fault.kind == "html_502":
            await Response(HTML_502, 502, media_type="text/html")(scope, receive, send)
        else:
            answer: list[Any] = []

            async def keep(message: Any) -> None:
                answer.append(message)

            await self.target(scope, receive, keep)
            start = answer[0]
            body = b"".join(m.get("body", b"") for m in answer[1:])
            kind = dict(start["headers"]).get(b"content-type", b"application/json").decode()
            cut = Response(body[: len(body) // 2], start["status"], media_type=kind)
            await cut(scope, receive, send)


@pytest.fixture(scope="session")
def _server() -> Iterator[tuple[_Switch, str]]:
    switch = _Switch()
    with running(switch) as url:
        yield switch, url


@pytest.fixture
def make_crm(_server: tuple[_Switch, str]) -> Iterator[Callable[..., Crm]]:
    """Put a fresh emulator with these options (``records``, ``token_lifetime``...) behind
    the session's server; the last one made answers."""
    switch, url = _server
    made: list[Crm] = []

    def make(records: int = 25, rate_limits: bool = False, **kwargs: Any) -> Crm:
        emulator = CrmInCloudEmulator(
            EmulatorOptions(records=records, rate_limits=rate_limits), **kwargs
        )
        switch.target = emulator
        switch.faults.clear()
        crm = Crm(emulator, url, switch)
        made.append(crm)
        return crm

    yield make
    for crm in made:
        for connection in crm.connections:
            connection.close()
    switch.target = None
    switch.faults.clear()


@pytest.fixture
def crm(make_crm: Callable[..., Crm]) -> Crm:
    """An emulator with 25 records per entity, limits off."""
    return make_crm()


@pytest.fixture
def conn(crm: Crm) -> Connection:
    """A login connection to :func:`crm` reading 10 records a page."""
    return crm.connect(page_size=10)
