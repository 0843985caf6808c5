"""The base every plugin's emulator builds on: a plugin writes only its routes and its data.

An emulator is an :class:`Emulator` subclass (or instance) that owns:

- ``options`` — how it was started (:class:`EmulatorOptions`);
- ``store`` — its in-memory tables; ``rng`` and ``fake`` — seeded randomness and fake data;
- ``faults`` — live fault settings; ``injected`` — the faults it served, by kind;
- ``limiter`` — the system's rate limits; ``requests`` — a count of the requests it received;
- ``app`` — the ASGI app to serve: the routes behind request counting, fault injection and rate
  limiting, with every error (bad input, unknown path, wrong method) rendered by
  :meth:`Emulator.error` in the system's own format.

A plugin publishes a factory ``create_app(options) -> Emulator`` (the subclass itself is one)
under the entry-point group ``syncbridge.emulators``, named after its connector.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from syncbridge.describe import RateLimit
from syncbridge.emulator.counter import CountingMiddleware, RequestCounter
from syncbridge.emulator.fake import FakeData
from syncbridge.emulator.faults import FaultInjector, InjectedFaults
from syncbridge.emulator.options import EmulatorOptions
from syncbridge.emulator.params import BadRequest
from syncbridge.emulator.ratelimit import RateLimiter, RateLimitMiddleware
from syncbridge.emulator.responses import json_response
from syncbridge.emulator.store import Store

Endpoint = Callable[[Request], Awaitable[Response]]


class Emulator:
    """An emulated API. Subclass it, set the class attributes, override the hooks below.

    Hooks, all optional: :meth:`routes` (or add routes with :meth:`route`), :meth:`populate`
    (seed data), :meth:`settings_for` (the connection settings that reach this emulator),
    :meth:`error` (the system's error body), :meth:`rate_limit_key` and :meth:`rate_limited`.
    A subclass that needs attributes in these hooks sets them before ``super().__init__()``,
    which calls :meth:`populate` and :meth:`routes`.

    :param options: how it starts (defaults: 20 records, seed 1, no faults, real limits).
    :param system: overrides the class attribute ``system`` (an emulator built by
        instantiation rather than subclassing); ``title`` likewise.
    :param rate_limits: this instance's limits instead of the class's (an account on another
        plan, or a test's small budget); :param rate_clock: the clock they count by (a test's
        fast clock: a minute's window in a fraction of a second).
    """

    #: the connector name this emulates (the entry-point name)
    system: str = "emulator"
    #: a human title: "Fatture in Cloud API v2"
    title: str = "Emulated API"
    #: the system's published limits, enforced unless ``options.rate_limits`` is False
    rate_limits: ClassVar[tuple[RateLimit, ...]] = ()
    #: the countries seeded data comes from, the system's home market (None: all pooled)
    countries: ClassVar[tuple[str, ...] | None] = None
    #: the store clock's step: one second for a system whose timestamps show whole seconds
    clock_resolution: ClassVar[timedelta] = timedelta(microseconds=1)

    def __init__(
        self,
        options: EmulatorOptions | None = None,
        *,
        system: str | None = None,
        title: str | None = None,
        rate_limits: Sequence[RateLimit] | None = None,
        rate_clock: Callable[[], float] | None = None,
    ) -> None:
        if system is not None:
            self.system = system
        if title is not None:
            self.title = title
        self.options = options or EmulatorOptions()
        self.faults = self.options.fault_options()
        self.injected = InjectedFaults()
        self.rng = random.Random(self.options.seed)
        self.fake = FakeData(self.rng, self.countries)
        self.store = Store(resolution=self.clock_resolution)
        self.requests = RequestCounter()
        self.limiter = RateLimiter(  # ``rate_limits``: this instance's own (another plan)
            self.rate_limits if rate_limits is None else tuple(rate_limits),
            enabled=self.options.rate_limits,
            **({} if rate_clock is None else {"clock": rate_clock}),
        )
        with self.store.clock.scripted():
            self.populate()
        self.starlette = Starlette(
            routes=list(self.routes()),
            exception_handlers={
                BadRequest: self._bad_request,
                HTTPException: self._http_exception,
            },
        )
        self.app: ASGIApp = self._middleware(self.starlette)

    # -- hooks ----------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        """The API's routes (Starlette ``Route`` objects)."""
        return ()

    def populate(self) -> None:
        """Seed the store with ``options.records`` records per main resource.

        Runs on a scripted clock, so timestamps are the same on every run; draw everything
        from :attr:`rng` / :attr:`fake` so the data is too.
        """

    def settings_for(self, base_url: str) -> dict[str, Any]:
        """The ``[connections.X.settings]`` that make a connection talk to this emulator."""
        return {"base_url": base_url}

    def error(self, status: int, message: str, **details: Any) -> Response:
        """The system's error response; every error the base produces goes through here.

        ``details`` are what a handler put in :class:`BadRequest` (field errors and the like).
        """
        return json_response({"error": {"code": status, "message": message, **details}}, status)

    def rate_limit_key(self, request: Request) -> str | None:
        """The account a request counts against (default: its credential header); None for
        a request outside the system's limits (MiniCRM limits ``/Api/R3`` only)."""
        return request.headers.get("authorization", "")

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        """The system's answer to a request over its rate limit (``Retry-After`` is added)."""
        return self.error(429, "rate limit exceeded")

    # -- building -------------------------------------------------------------------------

    def route(
        self, path: str, methods: Sequence[str] = ("GET",), *, name: str | None = None
    ) -> Callable[[Endpoint], Endpoint]:
        """Decorator adding an endpoint, for emulators built without subclassing."""

        def add(endpoint: Endpoint) -> Endpoint:
            self.starlette.router.routes.append(
                Route(path, endpoint, methods=list(methods), name=name)
            )
            return endpoint

        return add

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The emulator is itself an ASGI app: ``running(emulator)`` works like ``.app``."""
        await self.app(scope, receive, send)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.system!r} seed={self.options.seed}>"

    def _middleware(self, app: ASGIApp) -> ASGIApp:
        limited = RateLimitMiddleware(
            app, self.limiter, key=self.rate_limit_key, on_limited=self.rate_limited
        )
        faulty = FaultInjector(
            limited, self.faults, seed=self.options.seed, error=self.error, injected=self.injected
        )
        return CountingMiddleware(faulty, self.requests)

    def _bad_request(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BadRequest)
        return self.error(exc.status, exc.message, **exc.details)

    def _http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        response = self.error(exc.status_code, exc.detail)
        for header, value in (exc.headers or {}).items():
            response.headers[header] = value
        return response


#: what the ``syncbridge.emulators`` entry points name: options in, emulator out
EmulatorFactory = Callable[[EmulatorOptions], Emulator]
