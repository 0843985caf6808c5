"""Emulators: offline, over-real-HTTP copies of the APIs syncbridge plugins talk to.

Every plugin ships one (``syncbridge_<system>/emulator.py``) and tests, the demo and benchmarks
run against it. This package is what they all share, so that an emulator is only its routes and
its data. A complete one::

    from typing import Any

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from syncbridge.describe import RateLimit
    from syncbridge.emulator import (
        ApiKeyAuth, Emulator, EmulatorOptions, json_response, paginate_pages, query_int,
    )

    class AcmeEmulator(Emulator):
        system = "acme"
        title = "Acme CRM API"
        rate_limits = (RateLimit(requests=60, seconds=60),)

        def populate(self) -> None:
            contacts = self.store.table("contacts")
            for _ in range(self.options.records):
                person = self.fake.person()
                contacts.insert({"name": person.full_name, "email": person.email})

        def routes(self) -> list[Route]:
            auth = ApiKeyAuth({"test-key"}, header="X-Api-Key",
                              on_failure=lambda request, why: self.error(401, "bad key"))
            return [Route("/contacts", auth(self.list_contacts), methods=["GET"])]

        async def list_contacts(self, request: Request) -> Response:
            page = paginate_pages(self.store.table("contacts").list(),
                                  query_int(request, "page", 1), query_int(request, "per_page", 50),
                                  max_per_page=100)
            return json_response({"data": page.items, "total": page.total})

        def settings_for(self, base_url: str) -> dict[str, Any]:
            return {"base_url": base_url, "api_key": "test-key"}

    def create_app(options: EmulatorOptions) -> Emulator:
        return AcmeEmulator(options)

published in the plugin's ``pyproject.toml``::

    [project.entry-points."syncbridge.emulators"]
    acme = "syncbridge_acme.emulator:create_app"

and then served by ``syncbridge emulate acme --records 500``, or in a test by::

    emulator = create_app(EmulatorOptions(records=5, rate_limits=False))
    with running(emulator.app) as base_url:
        ...
    emulator.faults.burst_429 = 2          # faults can change while it runs
    assert emulator.requests.count("POST", "/contacts") == 1

Modules, one job each: ``options`` (how it starts), ``store`` and ``clock`` (the data),
``fake`` and ``pools`` (seeded realistic data), ``auth``, ``params``, ``pagination``,
``responses`` (request/response helpers), ``faults``, ``ratelimit``, ``counter`` (middleware),
``webhooks`` (notifications sent to subscribers), ``base`` (the :class:`Emulator`),
``server`` (uvicorn on 127.0.0.1), ``loading`` (factories by name), ``config`` (the TOML
block of a connection).
"""

from __future__ import annotations

from syncbridge.emulator.auth import ApiKeyAuth, AuthFailure, BasicAuth, BearerAuth, CredentialAuth
from syncbridge.emulator.base import Emulator, EmulatorFactory
from syncbridge.emulator.clock import Clock
from syncbridge.emulator.counter import RequestCounter
from syncbridge.emulator.fake import Address, Company, FakeData, Person, Product
from syncbridge.emulator.faults import DropConnection, InjectedFaults
from syncbridge.emulator.oauth import OAuthProvider
from syncbridge.emulator.options import EmulatorOptions, FaultOptions
from syncbridge.emulator.pagination import (
    CursorSlice,
    OffsetSlice,
    PageSlice,
    paginate_cursor,
    paginate_offset,
    paginate_pages,
)
from syncbridge.emulator.params import BadRequest, query_int, read_json, read_object
from syncbridge.emulator.ratelimit import RateLimiter
from syncbridge.emulator.responses import JSONResponse, json_response
from syncbridge.emulator.server import running
from syncbridge.emulator.store import Record, Store, Table, Tombstone
from syncbridge.emulator.webhooks import Delivery, WebhookSender

__all__ = [
    "Address",
    "ApiKeyAuth",
    "AuthFailure",
    "BadRequest",
    "BasicAuth",
    "BearerAuth",
    "Clock",
    "Company",
    "CredentialAuth",
    "CursorSlice",
    "Delivery",
    "DropConnection",
    "Emulator",
    "EmulatorFactory",
    "EmulatorOptions",
    "FakeData",
    "FaultOptions",
    "InjectedFaults",
    "JSONResponse",
    "OAuthProvider",
    "OffsetSlice",
    "PageSlice",
    "Person",
    "Product",
    "RateLimiter",
    "Record",
    "RequestCounter",
    "Store",
    "Table",
    "Tombstone",
    "WebhookSender",
    "json_response",
    "paginate_cursor",
    "paginate_offset",
    "paginate_pages",
    "query_int",
    "read_json",
    "read_object",
    "running",
]
