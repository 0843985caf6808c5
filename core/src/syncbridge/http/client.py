"""The per-connection HTTP client.

A server that is down must be said to be down quickly, by name. So, on top of the transport
stack's retries (:mod:`syncbridge.http.retry`):

* a connection is given :data:`CONNECT_TIMEOUT` seconds to be made, whatever the settings'
  (read) timeout;
* a request keeps retrying a server it cannot connect to for :data:`CONNECT_DEADLINE`
  seconds at most, backoff included, instead of the whole retry budget that answers a
  server's 5xx or 429;
* once a request has given up, the next requests of the same client make one attempt each,
  without retries, until one gets through: a run's later requests do not wait the
  deadline out again;
* the transport error that escapes names the connection and the server's origin (never the
  path, which may hold a secret, as a Bitrix24 webhook's does) and says what to check.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

import httpx
import orjson
from httpx_retries import Retry

from syncbridge.describe import ConnectorInfo
from syncbridge.http.ratelimit import Budget, Priority
from syncbridge.http.requestlog import RequestLogSink
from syncbridge.http.retry import RetryPolicy
from syncbridge.http.transports import build_transport
from syncbridge.resources import ResourceHolder
from syncbridge.settings import ConnectorSettings

T = TypeVar("T")

#: seconds to wait for a TCP (and TLS) connection to be made
CONNECT_TIMEOUT = 5.0
#: seconds a request goes on retrying a server it cannot connect to
CONNECT_DEADLINE = 3.0
#: failures that mean the server was not reached at all
UNREACHABLE = (httpx.ConnectError, httpx.ConnectTimeout)


class _ConnectDeadline(Retry):
    """httpx-retries' rules for one request, with connect failures bounded in time.

    Mixed into the class of whatever rules the transport stack's policy gives (see
    :func:`bounded`), so that its own behaviour (pacing by ``Retry-After``, say) is kept.
    ``connect_deadline`` is a :func:`time.monotonic` instant shared by every copy the retry
    loop makes (one per attempt), so backoff sleeps and connect timeouts both count; ``0``
    allows no retry of a connect failure at all (the server was just found unreachable).
    """

    connect_deadline: float = 0.0

    def copy_with(self, **changes: Any) -> Retry:  # type: ignore[override]
        copy = super().copy_with(**changes)
        if isinstance(copy, _ConnectDeadline):
            copy.connect_deadline = self.connect_deadline
        return copy

    def is_retryable_exception(self, exception: Exception) -> bool:
        if isinstance(exception, UNREACHABLE) and time.monotonic() >= self.connect_deadline:
            return False
        return super().is_retryable_exception(exception)

    def sleep(self, response: httpx.Response | Exception) -> None:
        if isinstance(response, UNREACHABLE):
            left = max(0.0, self.connect_deadline - time.monotonic())
            wait = min(self.backoff_strategy(), left)
            time.sleep(wait)
            self.elapsed_sleep += wait
            return
        super().sleep(response)


_BOUNDED: dict[type[Retry], type[_ConnectDeadline]] = {}


def _bounded_class(base: type[Retry]) -> type[_ConnectDeadline]:
    """``base`` with :class:`_ConnectDeadline` mixed in, made once per class."""
    if issubclass(base, _ConnectDeadline):
        return base
    found = _BOUNDED.get(base)
    if found is None:
        found = _BOUNDED[base] = type(
            f"ConnectBounded{base.__name__}", (_ConnectDeadline, base), {}
        )
    return found


def bounded(rules: Retry, connect_deadline: float) -> Retry:
    """A copy of ``rules`` that retries connect failures until ``connect_deadline`` only."""
    copy_ = copy.copy(rules)
    copy_.__class__ = _bounded_class(type(rules))
    assert isinstance(copy_, _ConnectDeadline)
    copy_.connect_deadline = connect_deadline
    return copy_


def origin(url: httpx.URL) -> str:
    """``scheme://host[:port]``: where a request went, without the path or query (a
    webhook's path is its secret) or the userinfo."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def _reason(error: httpx.TransportError) -> str:
    """The operating system's words for a failed attempt (``Connection refused``)."""
    text = str(error).strip()
    if text.startswith("[Errno") and "] " in text:
        text = text.split("] ", 1)[1]
    return text or type(error).__name__


class _Cookies(httpx.Cookies):
    """Cookies that look at a response only when it sets one.

    httpx hands every response to the standard library's cookie jar, which first builds a
    ``urllib`` request for it: about 50 us of the 400-450 us a page of a hundred records
    costs the client, on APIs that set no cookie at all (token-authenticated ones).
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


@cache
def user_agent(connector: str, connector_version: str) -> str:
    """``syncbridge/1.2.0 fattureincloud/1.0.0``: who is calling, in the API's own logs, so
    that its support can tell an integration's requests from a browser's or a script's."""
    try:
        core = version("syncbridge")
    except PackageNotFoundError:  # a source tree that was never installed
        core = "0"
    return f"syncbridge/{core} {connector}/{connector_version}"


class ConnectGuard(httpx.BaseTransport):
    """The outermost layer of a connection's transport stack: bounds and names connect
    failures (see the module docstring).

    A layer rather than a :class:`Client` method, so that requests an auth flow sends
    itself (a login, a token refresh) are bounded and named like any other; a request that
    carries retry rules of its own keeps them, with connect failures bounded the same way.
    """

    def __init__(self, inner: httpx.BaseTransport, connection: str) -> None:
        self.inner = inner
        self.connection = connection
        policy = getattr(inner, "policy", None)
        #: the retry rules of the stack, bounded per request by the deadline
        self.policy = policy if isinstance(policy, RetryPolicy) else None
        #: the last request found the server unreachable: retry no connect failure now
        self.unreachable = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # the request's own rules (a connector may set them, as for a login) or the stack's
        rules = request.extensions.get("retry")
        if not isinstance(rules, Retry) and self.policy is not None:
            rules = self.policy.for_method(request.method)
        retried = False
        if isinstance(rules, Retry):
            retried = not self.unreachable and rules.total > rules.attempts_made
            deadline = time.monotonic() + CONNECT_DEADLINE if retried else 0.0
            request.extensions["retry"] = bounded(rules, deadline)
        try:
            response = self.inner.handle_request(request)
        except UNREACHABLE as error:
            self.unreachable = True
            message = self._unreachable(request, error, retried)
            raise type(error)(message, request=request) from error
        except (httpx.ReadTimeout, httpx.WriteTimeout) as error:
            raise type(error)(
                f'connection "{self.connection}": {origin(request.url)} did not answer in '
                f"time ({type(error).__name__}); the server is slow or overloaded: try again "
                "later, or raise the connection's timeout setting",
                request=request,
            ) from error
        self.unreachable = False
        return response

    def _unreachable(
        self, request: httpx.Request, error: httpx.TransportError, retried: bool
    ) -> str:
        tried = f", still after {CONNECT_DEADLINE:g} s of retries" if retried else ""
        return (
            f'connection "{self.connection}" cannot connect to {origin(request.url)} '
            f"({_reason(error)}{tried}); check that the server is running and that the "
            f"connection's URL is right, then `syncbridge check {self.connection}`"
        )

    def close(self) -> None:
        self.inner.close()




class Client(ResourceHolder, httpx.Client):
    """An :class:`httpx.Client` bound to one connection.

    Hooks receive it as ``client``: HTTP connectors call ``client.get("/path")`` as with any
    httpx client (base URL, auth, retries, rate limit and request log are already set up);
    every connector reads its validated settings from ``client.settings`` and may keep
    per-connection resources (a database engine, a discovered company id) with
    :meth:`resource`, which are closed with the client.
    """

    def __init__(self, *, connection: str, settings: ConnectorSettings, **kwargs: Any) -> None:
        httpx.Client.__init__(self, **kwargs)
        # settings and the per-connection resources (thread-safe, made once), as a
        # non-HTTP connector's client keeps them
        ResourceHolder.__init__(self, connection=connection, settings=settings)
        self._cookies = _Cookies(self._cookies)

    def close(self) -> None:
        ResourceHolder.close(self)
        httpx.Client.close(self)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: httpx._types.CookieTypes) -> None:
        self._cookies = _Cookies(cookies)


def json_of(response: httpx.Response) -> Any:
    """The decoded JSON body of ``response``.

    orjson rather than ``response.json()``: a page of a hundred records decodes in about a
    quarter of the time, and a full read decodes every page it fetches.
    """
    return orjson.loads(response.content)


def build_client(
    *,
    name: str,
    settings: ConnectorSettings,
    info: ConnectorInfo,
    auth: httpx.Auth | None = None,
    request_log: RequestLogSink | None = None,
    rate_budget: Budget = None,
    priority: Callable[[], Priority] = lambda: "poll",
) -> Client:
    """Assemble the client of connection ``name``.

    Base URL and timeout come from the settings when it has them (``HttpSettings``); the
    transport stack (retries, rate limiter, request log, connection pool sized to
    ``info.max_concurrency``) is :func:`syncbridge.http.transports.build_transport`'s.
    ``request_log`` receives every attempt, secrets redacted; ``rate_budget`` is where
    the rate limiter counts requests with other processes (None: in this one alone) and
    ``priority`` the kind of run the connection serves (see :mod:`syncbridge.http.ratelimit`).

    An ``auth`` that makes requests of its own (an OAuth token refresh) and offers
    ``bind_transport`` gets a stack of its own: the same retries and request log, without
    the API's rate limits, and a separate pool, so a refresh never waits for a connection
    held by the very request whose 401 it answers.
    """
    base_url = str(getattr(settings, "base_url", "") or "")
    timeout = float(getattr(settings, "timeout", 30.0))
    client = Client(
        connection=name,
        settings=settings,
        base_url=base_url,
        auth=auth,
        timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
        headers={"User-Agent": user_agent(info.name, info.version)},
        transport=ConnectGuard(
            build_transport(
                name=name, settings=settings, info=info, request_log=request_log,
                rate_budget=rate_budget, priority=priority,
            ),
            name,
        ),
    )
    bind = getattr(auth, "bind_transport", None)
    if callable(bind):
        own = info.model_copy(update={"rate_limits": (), "max_concurrency": 1})
        bind(client.resource("auth-transport", lambda: ConnectGuard(build_transport(
            name=f"{name}-auth", settings=settings, info=own, request_log=request_log), name)))
    return client
