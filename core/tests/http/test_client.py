"""The HTTP client of a connection, against a real server on 127.0.0.1 scripted per test.

No httpx mocks: the point is the behaviour of the whole transport stack over a real socket
(retries and their waits, pacing seen as arrival times at the server, timeouts, refused
connections, and what ends up in the request log).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import formatdate
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from httpx_retries import Retry
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncbridge.describe import ConnectorInfo, RateLimit
from syncbridge.emulator.server import free_port, running
from syncbridge.http import Client, LoggedRequest, build_client
from syncbridge.http.client import CONNECT_DEADLINE, CONNECT_TIMEOUT
from syncbridge.http.ratelimit import RateLimitTransport, build_limiter
from syncbridge.http.retry import BACKOFF_ENV
from syncbridge.http.transports import build_transport, layers
from syncbridge.settings import ConnectorSettings, HttpSettings

#: how long ``/slow/...`` paths take to answer
SLOW_SECONDS = 0.5


class S(HttpSettings):
    """The tiny settings model of the test connector."""

    api_key: SecretStr | None = None
    webhook_code: SecretStr | None = None


@dataclass(frozen=True)
class Hit:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    at: float
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedServer:
    """Answers each path with its scripted replies in order, then 200; records every arrival.

    Paths under ``/slow/`` answer after :data:`SLOW_SECONDS`, to provoke read timeouts.
    """

    def __init__(self) -> None:
        self.base_url = ""
        self._lock = threading.Lock()
        self._hits: list[Hit] = []
        self._scripts: dict[str, deque[Reply]] = {}

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self._scripts.clear()

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts.setdefault(path, deque()).extend(replies)

    def hits(self, path: str | None = None) -> list[Hit]:
        with self._lock:
            return [hit for hit in self._hits if path is None or hit.path == path]

    async def endpoint(self, request: Request) -> Response:
        path = request.url.path
        with self._lock:
            self._hits.append(Hit(request.method, path, request.url.query, time.monotonic(),
                                  dict(request.headers)))
            script = self._scripts.get(path)
            reply = script.popleft() if script else None
        if path.startswith("/slow/"):
            await asyncio.sleep(SLOW_SECONDS)
        if reply is not None:
            return Response(status_code=reply.status, headers=reply.headers)
        return JSONResponse({"ok": True, "path": path})

    def app(self) -> Starlette:
        methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        return Starlette(routes=[Route("/{path:path}", self.endpoint, methods=methods)])


@pytest.fixture(scope="module")
def _server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    with running(scripted.app()) as base_url:
        scripted.base_url = base_url
        yield scripted


@pytest.fixture
def server(_server: ScriptedServer) -> ScriptedServer:
    """The module's server, with no hits and no scripts left from the previous test."""
    _server.reset()
    return _server


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff waits of milliseconds, so retry tests take no time (Retry-After still rules)."""
    monkeypatch.setenv(BACKOFF_ENV, "0.01")


class Bearer(httpx.Auth):
    """Signs requests with a bearer token, as a connector's ``auth`` hook would."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


#: ``connect(...)`` -> a client on the test server and the list its request log fills
Connect = Callable[..., tuple[Client, list[LoggedRequest]]]


@pytest.fixture
def connect(server: ScriptedServer) -> Iterator[Connect]:
    """Build clients the way the engine does; all are closed after the test."""
    clients: list[Client] = []

    def make(
        *,
        rate_limits: tuple[RateLimit, ...] = (),
        auth: httpx.Auth | None = None,
        rate_budget: Path | None = None,
        **settings: object,
    ) -> tuple[Client, list[LoggedRequest]]:
        settings.setdefault("base_url", server.base_url)
        settings.setdefault("max_retries", 3)
        info = ConnectorInfo(
            name="t", title="T", version="1.2", settings=S, rate_limits=rate_limits
        )
        log: list[LoggedRequest] = []
        client = build_client(
            name="t",
            settings=S.model_validate(settings),
            info=info,
            auth=auth,
            request_log=log.append,
            rate_budget=rate_budget,
        )
        clients.append(client)
        return client, log

    yield make
    for client in clients:
        client.close()


# --- identity and cookies ----------------------------------------------------------------


def test_requests_name_syncbridge_and_the_connector(
    server: ScriptedServer, connect: Connect
) -> None:
    client, _log = connect()

    client.get("/who")

    expected = f"syncbridge/{version('syncbridge')} t/1.2"
    assert server.hits("/who")[0].headers["user-agent"] == expected


def test_a_cookie_the_api_sets_goes_back_with_later_requests(
    server: ScriptedServer, connect: Connect
) -> None:
    """Cookies are parsed only from responses that set one; those still count."""
    server.script("/login", Reply(200, {"Set-Cookie": "session=abc123; Path=/"}))
    client, _log = connect()

    client.get("/before")
    client.get("/login")
    client.get("/after")
    client.cookies = {"extra": "1"}  # replacing the jar keeps working the same way
    server.script("/again", Reply(200, {"Set-Cookie": "session=def456; Path=/"}))
    client.get("/again")
    client.get("/last")

    assert "cookie" not in server.hits("/before")[0].headers
    assert server.hits("/after")[0].headers["cookie"] == "session=abc123"
    assert server.hits("/last")[0].headers["cookie"] in (
        "extra=1; session=def456", "session=def456; extra=1"
    )


# --- retries -------------------------------------------------------------------------------


def test_get_answered_503_twice_then_200_is_retried(
    server: ScriptedServer, connect: Connect
) -> None:
    server.script("/flaky", Reply(503), Reply(503))
    client, log = connect()

    response = client.get("/flaky")

    assert response.status_code == 200
    assert len(server.hits("/flaky")) == 3
    assert [entry.status for entry in log] == [503, 503, 200]
    assert all(entry.method == "GET" and entry.url.endswith("/flaky") for entry in log)
    assert all(entry.at.tzinfo is UTC and entry.duration_ms >= 0 for entry in log)


def test_retries_exhausted_return_the_last_response(
    server: ScriptedServer, connect: Connect
) -> None:
    server.script("/down", *[Reply(502)] * 5)
    client, log = connect(max_retries=2)

    response = client.get("/down")

    assert response.status_code == 502
    assert len(server.hits("/down")) == 3
    assert [entry.status for entry in log] == [502, 502, 502]


def test_retry_after_in_seconds_is_waited_for(server: ScriptedServer, connect: Connect) -> None:
    server.script("/busy", Reply(429, {"Retry-After": "1"}))
    client, _ = connect()

    started = time.monotonic()
    response = client.get("/busy")

    assert response.status_code == 200
    assert time.monotonic() - started >= 1.0
    first, second = server.hits("/busy")
    assert second.at - first.at >= 1.0


def test_retry_after_as_http_date_is_waited_for(server: ScriptedServer, connect: Connect) -> None:
    # an HTTP date has whole seconds: two seconds ahead is at least one second away
    server.script("/busy", Reply(503, {"Retry-After": formatdate(time.time() + 2, usegmt=True)}))
    client, _ = connect()

    started = time.monotonic()
    response = client.get("/busy")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.9


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_answered_5xx_is_not_retried(
    server: ScriptedServer, connect: Connect, status: int
) -> None:
    server.script("/invoices", Reply(status))
    client, log = connect()

    response = client.post("/invoices", json={"total": 1})

    assert response.status_code == status
    assert len(server.hits("/invoices")) == 1
    assert [entry.status for entry in log] == [status]


def test_patch_answered_500_is_not_retried(server: ScriptedServer, connect: Connect) -> None:
    server.script("/invoices/1", Reply(500))
    client, _ = connect()

    assert client.patch("/invoices/1", json={"total": 2}).status_code == 500
    assert len(server.hits("/invoices/1")) == 1


def test_post_answered_429_with_retry_after_is_retried(
    server: ScriptedServer, connect: Connect
) -> None:
    server.script("/invoices", Reply(429, {"Retry-After": "1"}))
    client, log = connect()

    started = time.monotonic()
    response = client.post("/invoices", json={"total": 1})

    assert response.status_code == 200
    assert time.monotonic() - started >= 1.0
    assert [hit.method for hit in server.hits("/invoices")] == ["POST", "POST"]
    assert [entry.status for entry in log] == [429, 200]


def test_post_answered_503_with_retry_after_is_retried(
    server: ScriptedServer, connect: Connect
) -> None:
    server.script("/invoices", Reply(503, {"Retry-After": "0"}))
    client, _ = connect()

    assert client.post("/invoices", json={"total": 1}).status_code == 200
    assert len(server.hits("/invoices")) == 2


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connect_error_is_retried_then_raised(connect: Connect, method: str) -> None:
    client, log = connect(base_url=f"http://127.0.0.1:{free_port()}", max_retries=2)

    with pytest.raises(httpx.ConnectError):
        client.request(method, "/anything")

    assert len(log) == 3
    assert all(entry.status is None for entry in log)
    assert all((entry.error or "").startswith("ConnectError") for entry in log)


def test_read_timeout_retries_get_but_not_post(server: ScriptedServer, connect: Connect) -> None:
    # the POST may have been processed: resending it could create a second invoice
    client, log = connect(timeout=0.2, max_retries=2)

    with pytest.raises(httpx.ReadTimeout):
        client.post("/slow/invoices", json={"total": 1})
    with pytest.raises(httpx.ReadTimeout):
        client.get("/slow/invoices")

    assert [hit.method for hit in server.hits("/slow/invoices")] == ["POST", "GET", "GET", "GET"]
    assert [entry.error.split(":")[0] for entry in log if entry.error] == ["ReadTimeout"] * 4


# --- rate limiter --------------------------------------------------------------------------


def test_limiter_keeps_threads_under_the_published_rate(
    server: ScriptedServer, connect: Connect
) -> None:
    client, log = connect(rate_limits=(RateLimit(requests=5, seconds=1),))

    with ThreadPoolExecutor(max_workers=3) as pool:
        statuses = list(pool.map(lambda i: client.get(f"/paced/{i}").status_code, range(15)))

    assert statuses == [200] * 15
    assert len(log) == 15
    assert len(server.hits()) == 15
    # measured where the limiter lets each request go (the request log's start time), not
    # at the server, whose arrival times also carry the machine's scheduling jitter
    arrivals = sorted(entry.at.timestamp() for entry in log)
    # any 6 requests span a second or more (0.05 s slack for clock reads): <= 5 per second
    assert min(arrivals[i + 5] - arrivals[i] for i in range(len(arrivals) - 5)) >= 0.95
    # and 11 arrivals span two seconds: never more than 10 in a 2-second window
    assert min(arrivals[i + 10] - arrivals[i] for i in range(len(arrivals) - 10)) >= 1.9


def test_retries_are_rate_limited_too(server: ScriptedServer, connect: Connect) -> None:
    server.script("/paced", Reply(503))
    client, _ = connect(rate_limits=(RateLimit(requests=1, seconds=0.5),))

    assert client.get("/paced").status_code == 200

    first, second = server.hits("/paced")
    assert second.at - first.at >= 0.45


def test_requests_outside_a_limits_paths_are_not_paced(
    server: ScriptedServer, connect: Connect
) -> None:
    """MiniCRM limits /Api/R3 only: its invoice endpoints must not wait for the R3 budget."""
    client, log = connect(
        rate_limits=(RateLimit(requests=1, seconds=3600, paths=("/Api/R3/",)),)
    )

    statuses = [client.get(f"/Api/Invoice/{i}").status_code for i in range(5)]
    statuses.append(client.get("/Api/R3/Contact/1").status_code)

    assert statuses == [200] * 6  # an hour's budget of one request: none of them waited
    assert len(log) == 6
    assert str(RateLimit(requests=60, seconds=60, paths=("/Api/R3/",))) == (
        "60 requests / 60 s on /Api/R3/"
    )


def test_a_rate_budget_file_is_spent_by_every_process_that_opens_it(tmp_path: Path) -> None:
    """The daemon and a run started by hand spend one budget: what one process used, the
    other no longer has. Each connection (key) has its own budget in the file."""
    budget = tmp_path / "state.db.rates"
    spend = (
        "import sys\n"
        "from pathlib import Path\n"
        "from syncbridge.describe import RateLimit\n"
        "from syncbridge.http.ratelimit import build_limiter\n"
        "limiter = build_limiter((RateLimit(requests=2, seconds=3600),),\n"
        "                        budget=Path(sys.argv[1]), key='fic')\n"
        "print([limiter.try_acquire('fic') for _ in range(2)])\n"
        "limiter.close()\n"
    )
    other = subprocess.run([sys.executable, "-c", spend, str(budget)],
                           capture_output=True, text=True, timeout=60)
    assert other.stdout.strip() == "[True, True]", other.stderr
    assert budget.stat().st_mode & 0o777 == 0o600  # private, like the state file

    limits = (RateLimit(requests=2, seconds=3600),)
    shared = build_limiter(limits, budget=budget, key="fic")
    crm = build_limiter(limits, budget=budget, key="crm")
    alone = build_limiter(limits)
    assert shared is not None and crm is not None and alone is not None
    try:
        # (each waits a second at most: the file lock takes no non-blocking attempt)
        assert shared.try_acquire("fic", timeout=1) is False  # the other process spent it
        assert crm.try_acquire("crm", timeout=1) is True  # another connection's budget
        assert alone.try_acquire("fic", timeout=1) is True  # in memory: this process only
    finally:
        for limiter in (shared, crm, alone):
            limiter.close()


def test_clients_on_one_rate_budget_are_paced_together(
    server: ScriptedServer, connect: Connect, tmp_path: Path
) -> None:
    """Two clients of one connection, as two processes build them, each used by several
    threads, keep to one limit together."""
    limits = (RateLimit(requests=2, seconds=1),)
    first, first_log = connect(rate_limits=limits, rate_budget=tmp_path / "state.db.rates")
    second, second_log = connect(rate_limits=limits, rate_budget=tmp_path / "state.db.rates")

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(
            lambda i: (first if i % 2 else second).get(f"/shared/{i}").status_code, range(6)))

    assert statuses == [200] * 6
    assert len(first_log) == len(second_log) == 3
    # where the limiter let each go, both clients together: <= 2 in any second
    arrivals = sorted(entry.at.timestamp() for entry in first_log + second_log)
    assert min(arrivals[i + 2] - arrivals[i] for i in range(len(arrivals) - 2)) >= 0.95


def test_rate_limit_false_disables_the_limiter(server: ScriptedServer, connect: Connect) -> None:
    limits = (RateLimit(requests=2, seconds=1),)
    client, _ = connect(rate_limits=limits, rate_limit=False)

    started = time.monotonic()
    for i in range(20):
        assert client.get(f"/free/{i}").status_code == 200
    assert time.monotonic() - started < 5  # paced, 20 requests would take 9 s

    def stack(settings: S) -> list[httpx.BaseTransport]:
        info = ConnectorInfo(name="t", title="T", settings=S, rate_limits=limits)
        transport = build_transport(name="t", settings=settings, info=info, request_log=None)
        found = list(layers(transport))
        transport.close()
        return found

    base_url = server.base_url
    limited = stack(S(base_url=base_url))
    unlimited = stack(S(base_url=base_url, rate_limit=False))
    assert any(isinstance(layer, RateLimitTransport) for layer in limited)
    assert not any(isinstance(layer, RateLimitTransport) for layer in unlimited)


def test_settings_without_http_fields_get_no_retries() -> None:
    # a plain ConnectorSettings has no max_retries and no rate_limit switch: declared limits
    # still apply (nothing turns them off), retries do not
    def stack(*limits: RateLimit) -> list[type[httpx.BaseTransport]]:
        info = ConnectorInfo(name="sql", title="SQL", uses_http=False, rate_limits=limits)
        transport = build_transport(
            name="sql", settings=ConnectorSettings(), info=info, request_log=None
        )
        found = [type(layer) for layer in layers(transport)]
        transport.close()
        return found

    assert stack() == [httpx.HTTPTransport]
    assert stack(RateLimit(requests=1, seconds=1)) == [RateLimitTransport, httpx.HTTPTransport]


# --- request log ---------------------------------------------------------------------------


def test_request_log_never_contains_a_secret(server: ScriptedServer, connect: Connect) -> None:
    api_key, webhook_code, token = "sk-query-3141", "hook-path-2718", "bearer-tok-1618"
    client, log = connect(api_key=api_key, webhook_code=webhook_code, auth=Bearer(token))
    server.script(f"/rest/1/{webhook_code}/crm.contact.list", Reply(503))

    client.get(f"/rest/1/{webhook_code}/crm.contact.list", params={"api_key": api_key})
    # secrets under innocent parameter names, and the token echoed back into a URL
    client.get("/search", params={"q": api_key, "next": token, "page": 2})

    assert len(log) == 3
    everything = repr(log)
    for secret in (api_key, webhook_code, token):
        assert secret not in everything
    assert "***" in everything
    assert log[0].url.endswith("/rest/1/***/crm.contact.list?api_key=***")
    assert log[2].url.endswith("/search?q=***&next=***&page=2")
    # the server did get the real values: redaction is the log's, not the request's
    assert server.hits()[0].path == f"/rest/1/{webhook_code}/crm.contact.list"


def test_request_log_of_a_failed_attempt_is_redacted(connect: Connect) -> None:
    secret = "sk-in-error-5772"
    client, log = connect(base_url=f"http://127.0.0.1:{free_port()}", api_key=secret, max_retries=0)

    with pytest.raises(httpx.ConnectError):
        client.get(f"/items/{secret}")

    (entry,) = log
    assert entry.status is None and entry.error is not None
    assert secret not in repr(entry)


# --- a server that is down -----------------------------------------------------------------


def test_a_server_that_is_down_is_given_up_at_the_deadline_and_named(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retrying a refused connection stops at CONNECT_DEADLINE (with the real backoff, the
    whole retry budget took 15 s); the error names the connection and the server's origin,
    never the path (a webhook's path is its secret)."""
    monkeypatch.setenv(BACKOFF_ENV, "0.5")
    port = free_port()
    secret = "wh-c0de-7731"
    client, log = connect(base_url=f"http://127.0.0.1:{port}", max_retries=5)

    started = time.monotonic()
    with pytest.raises(httpx.ConnectError) as caught:
        client.get(f"/rest/1/{secret}/crm.contact.list")
    took = time.monotonic() - started

    assert CONNECT_DEADLINE - 0.5 <= took <= CONNECT_DEADLINE + 1.5, took
    assert len(log) >= 2  # it did retry, within the deadline
    assert str(caught.value) == (
        f'connection "t" cannot connect to http://127.0.0.1:{port} (Connection refused, still '
        f"after {CONNECT_DEADLINE:g} s of retries); check that the server is running and that "
        "the connection's URL is right, then `syncbridge check t`"
    )
    assert secret not in str(caught.value)


def test_once_down_a_server_gets_one_attempt_per_request_until_it_answers(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's later requests do not wait the deadline out again; a server that is back
    resets that, and the next failure is retried again."""
    monkeypatch.setenv(BACKOFF_ENV, "0.2")
    port = free_port()
    client, log = connect(base_url=f"http://127.0.0.1:{port}", max_retries=5)
    with pytest.raises(httpx.ConnectError):
        client.get("/first")

    attempts = len(log)
    started = time.monotonic()
    with pytest.raises(httpx.ConnectError) as second:
        client.get("/second")
    assert time.monotonic() - started < 0.5
    assert len(log) == attempts + 1
    assert "(Connection refused); check that" in str(second.value)

    back = ScriptedServer()
    with running(back.app(), port=port):
        assert client.get("/again").status_code == 200
    attempts = len(log)
    with pytest.raises(httpx.ConnectError):
        client.get("/down-again")
    assert len(log) - attempts >= 2  # retried again: the circuit closed on the success


def test_a_connection_gets_a_few_seconds_to_be_made_whatever_the_read_timeout(
    connect: Connect,
) -> None:
    client, _log = connect(timeout=120.0)
    assert client.timeout.connect == CONNECT_TIMEOUT
    assert client.timeout.read == 120.0
    short, _log = connect(timeout=1.0)
    assert short.timeout.connect == 1.0


def test_a_request_with_retry_rules_of_its_own_is_bounded_too(connect: Connect) -> None:
    """A connector may send a request with its own rules (CRM in Cloud retries its login
    POST like a GET): they are kept, but a refused connection still ends at the deadline."""
    port = free_port()
    client, log = connect(base_url=f"http://127.0.0.1:{port}", max_retries=5)
    own = Retry(total=8, backoff_factor=0.5, allowed_methods=["POST"],
                retry_on_exceptions=[httpx.ConnectError])
    started = time.monotonic()
    with pytest.raises(httpx.ConnectError) as caught:
        client.post("/Auth/Login", json={}, extensions={"retry": own})
    assert time.monotonic() - started <= CONNECT_DEADLINE + 1.5
    assert len(log) >= 2
    assert f'connection "t" cannot connect to http://127.0.0.1:{port}' in str(caught.value)
    assert own.attempts_made == 0 and type(own) is Retry  # the connector's object untouched
