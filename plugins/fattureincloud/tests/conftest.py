"""Fixtures of the Fatture in Cloud tests: the emulator over real HTTP, connections to it, the
OpenAPI check of every exchange, and faults scripted per request.

Every emulator a test starts through :func:`serve` is wrapped in a recorder that keeps each
request and response; when the test ends, each response is validated against the official
spec (``openapi-enriched.yaml``) with openapi-core, and so is each request the emulator
*accepted* (status < 300): an emulator that answers what the spec forbids is a bug. Any
violation fails the test that caused it. The spec's server is the production host, so
requests are validated as if they had been sent there.

Faults (:class:`Faults`, ``served.faults.add(...)``) sit in front of the recorder: what the
emulator answered is validated, what the network or a proxy made of it is not.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx
import pytest
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from werkzeug.datastructures import Headers, ImmutableMultiDict

import syncbridge_fattureincloud.connector as fic_connector
from syncbridge.connection import Connection
from syncbridge.credentials import MemoryCredentials
from syncbridge.emulator import DropConnection, EmulatorOptions, running
from syncbridge.http import LoggedRequest
from syncbridge.oauth import OAuthApp
from syncbridge.testing.exchanges import Exchange, Recorder, fail_off_spec
from syncbridge.testing.oauth import consent
from syncbridge_fattureincloud.emulator import FicEmulator

SPEC_ENV = "FIC_OPENAPI_SPEC"
DEFAULT_SPEC = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "apis"
    / "fattureincloud"
    / "openapi-enriched.yaml"
)
SERVER = "https://api-v2.fattureincloud.it"


# -- recording and validating exchanges ------------------------------------------------------


class SpecRequest:
    """An exchange's request in openapi-core's protocol, as sent to the production server."""

    def __init__(self, exchange: Exchange) -> None:
        headers = Headers(exchange.headers)
        self.host_url = SERVER
        self.path = exchange.path
        self.method = exchange.method.lower()
        self.body = exchange.body or None
        self.content_type = headers.get("content-type") or "application/octet-stream"
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(exchange.query, keep_blank_values=True)),
            header=headers,
        )


class SpecResponse:
    def __init__(self, exchange: Exchange) -> None:
        self.status_code = exchange.status
        self.headers = Headers(exchange.response_headers)
        self.data = exchange.response_body or None
        self.content_type = self.headers.get("content-type") or ""


def _describe(error: Exception) -> str:
    causes = getattr(error.__cause__, "schema_errors", None) or getattr(
        error, "schema_errors", None
    )
    if causes:
        return f"{type(error).__name__}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in causes[:5]
        )
    return str(error)[:500]


class SpecValidator:
    """Validates exchanges against the official spec with openapi-core."""

    def __init__(self, path: Path) -> None:
        with path.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        # the official spec itself fails openapi-spec-validator (a boolean default written as
        # the string 'false'), so it is used as it is, unchecked
        self.api = OpenAPI.from_dict(data, config=Config(spec_validator_cls=None))

    def violations(self, exchange: Exchange) -> list[str]:
        if exchange.status == 0 or exchange.path.startswith("/oauth/"):
            return []  # the OAuth endpoints are only named by the spec's security scheme
        where = f"{exchange.method} {exchange.path}?{exchange.query} -> {exchange.status}"
        found = []
        request = SpecRequest(exchange)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Unsupported scheme type" (oauth2)
            for error in self.api.iter_response_errors(request, SpecResponse(exchange)):
                found.append(f"{where}: response: {_describe(error)}")
            if exchange.status < 300:
                for error in self.api.iter_request_errors(request):
                    found.append(f"{where}: accepted request: {_describe(error)}")
        return found


@pytest.fixture(scope="session")
def maybe_spec() -> SpecValidator | None:
    """The validator, or None outside CI when the spec file is not there (a plugin installed
    on its own still runs its tests, without the spec check); under ``CI=true`` it must be."""
    path = Path(os.environ.get(SPEC_ENV) or DEFAULT_SPEC)
    if not path.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the official spec is not at {path} (set ${SPEC_ENV})")
        return None
    return SpecValidator(path)


@pytest.fixture
def spec_validator(maybe_spec: SpecValidator | None) -> SpecValidator:
    """The validator itself (tests of the check skip without the spec file)."""
    if maybe_spec is None:
        pytest.skip(f"the official spec file is not available (set ${SPEC_ENV})")
    return maybe_spec


@pytest.fixture
def exchange_class() -> type[Exchange]:
    """The recorded-exchange type, for tests that feed the validator by hand."""
    return Exchange


# -- faults, request by request ---------------------------------------------------------------
FaultKind = Literal["drop_after", "html_200", "truncated"]
MAINTENANCE = b"<!DOCTYPE html><html><body><h1>Manutenzione in corso</h1></body></html>"


@dataclass
class Fault:
    """What happens to the requests ``method path``: the first ``skip`` pass, the next
    ``times`` (None: all) meet ``kind``.

    ``drop_after``: the API handles the request, then the connection drops unanswered.
    ``html_200``: a maintenance page with status 200 answers instead of the API.
    ``truncated``: the API handles the request and its answer is cut in half.
    """

    method: str
    path: str
    kind: FaultKind
    skip: int = 0
    times: int | None = 1
    seen: int = 0

    def take(self) -> bool:
        self.seen += 1
        if self.seen <= self.skip:
            return False
        return self.times is None or self.seen <= self.skip + self.times


async def _lost(message: Message) -> None:
    """A ``send`` that loses the answer (the API believes it answered)."""


class Faults:
    """ASGI middleware applying the faults added with :meth:`add`, in front of ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self, method: str, path: str, kind: FaultKind, *, skip: int = 0, times: int | None = 1
    ) -> Fault:
        fault = Fault(method, path, kind, skip, times)
        with self._lock:
            self.rules.append(fault)
        return fault

    def _match(self, scope: Scope) -> Fault | None:
        with self._lock:
            for fault in self.rules:
                if (scope["method"], scope["path"]) == (fault.method, fault.path) and fault.take():
                    return fault
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fault = self._match(scope) if scope["type"] == "http" else None
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "drop_after":
            await self.app(scope, receive, _lost)
            raise DropConnection(f"{scope['method']} {scope['path']}")
        elif fault.kind == "html_200":
            await Response(MAINTENANCE, 200, media_type="text/html")(scope, receive, send)
        else:
            await self._truncated(scope, receive, send)

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {}
        body = b""

        async def keep(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body += message.get("body", b"")

        await self.app(scope, receive, keep)
        cut = body[: len(body) // 2]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": cut})


# -- serving emulators -----------------------------------------------------------------------


@dataclass
class Served:
    """An emulator on 127.0.0.1 and what the test needs to talk to it."""

    emulator: FicEmulator
    base_url: str
    recorder: Recorder
    faults: Faults
    log: list[LoggedRequest] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)

    @property
    def settings(self) -> dict[str, Any]:
        return self.emulator.settings_for(self.base_url)

    def connect(self, **overrides: Any) -> Connection:
        """A connection (manual token unless ``overrides`` say otherwise), logging requests."""
        return self.connect_with({**self.settings, **overrides})

    def connect_with(
        self, settings: dict[str, Any], credentials: MemoryCredentials | None = None
    ) -> Connection:
        connection = Connection(
            "fic",
            fic_connector,
            settings,
            credentials=credentials,
            request_log=self.log.append,
        )
        self.connections.append(connection)
        return connection

    def client(self, token: str | None = None) -> httpx.Client:
        """A plain HTTP client to the emulator (raw API checks)."""
        headers = {"Authorization": f"Bearer {token or self.settings['access_token']}"}
        return httpx.Client(base_url=self.base_url, headers=headers)


Serve = Callable[..., Served]


@pytest.fixture
def serve(maybe_spec: SpecValidator | None) -> Iterator[Serve]:
    """``serve(records=25, rate_limits=False, **emulator_kwargs)``: start an emulator.

    Every exchange with it is validated against the spec when the test ends.
    """
    started: list[tuple[Served, Any]] = []

    def start(records: int = 25, rate_limits: bool = False, **kwargs: Any) -> Served:
        emulator = FicEmulator(EmulatorOptions(records=records, rate_limits=rate_limits), **kwargs)
        recorder = Recorder(emulator.app)
        faults = Faults(recorder)
        context = running(faults)
        base_url = context.__enter__()
        served = Served(emulator, base_url, recorder, faults)
        started.append((served, context))
        return served

    yield start
    for served, context in started:
        for connection in served.connections:
            connection.close()
        context.__exit__(None, None, None)
    fail_off_spec(
        (exchange for served, _ in started for exchange in served.recorder.exchanges),
        maybe_spec.violations if maybe_spec is not None else None,
    )


@pytest.fixture
def fic(serve: Serve) -> Served:
    """An emulator with 25 records per resource, limits off."""
    return serve()



@pytest.fixture
def oauth_consent() -> Callable[[OAuthApp, MemoryCredentials], dict[str, Any]]:
    return consent
