"""A small emulator built on syncbridge.emulator, used by these tests and by the CLI test.

"Notes API": one ``contacts`` resource behind an API key (header ``X-Api-Key`` or query
``api_key``), paged by ``page``/``per_page`` (at most 25), filterable by ``updated_since``,
with a 422 validation error when a contact has no name, and a published limit of 30 requests
per 10 seconds. Its error body is its own: ``{"message": ..., "status": ...}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncbridge.describe import RateLimit
from syncbridge.emulator import (
    ApiKeyAuth,
    AuthFailure,
    BadRequest,
    Emulator,
    EmulatorOptions,
    Record,
    json_response,
    paginate_pages,
    query_int,
    read_object,
)

API_KEY = "notes-test-key"
MAX_PER_PAGE = 25


class NotesEmulator(Emulator):
    system = "notes"
    title = "Notes API (test emulator)"
    rate_limits = (RateLimit(requests=30, seconds=10),)
    countries = ("IT", "HU", "DK")

    def populate(self) -> None:
        contacts = self.store.table("contacts")
        for _ in range(self.options.records):
            company = self.fake.company()
            person = self.fake.person(company.country, domain=company.email.partition("@")[2])
            contacts.insert({
                "name": person.full_name,
                "email": person.email,
                "company": company.name,
                "vat_number": company.vat_number,
                "city": company.address.city,
                "country": company.country,
            })

    def routes(self) -> list[Route]:
        auth = ApiKeyAuth({API_KEY}, header="X-Api-Key", query="api_key", on_failure=self.refuse)
        return [
            Route("/contacts", auth(self.list_contacts), methods=["GET"]),
            Route("/contacts", auth(self.create_contact), methods=["POST"]),
            Route("/contacts/{id:int}", auth(self.get_contact), methods=["GET"]),
            Route("/contacts/{id:int}", auth(self.update_contact), methods=["PUT"]),
        ]

    def settings_for(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "api_key": API_KEY}

    def error(self, status: int, message: str, **details: Any) -> Response:
        return json_response({"message": message, "status": status, **details}, status)

    def refuse(self, request: Request, why: AuthFailure) -> Response:
        return self.error(401, "API key missing" if why == "missing" else "API key not valid")

    # -- endpoints ------------------------------------------------------------------------

    async def list_contacts(self, request: Request) -> Response:
        since = request.query_params.get("updated_since")
        contacts = self.store.table("contacts")
        rows = contacts.list() if since is None else contacts.changed_since(_instant(since))
        page = paginate_pages(
            rows,
            query_int(request, "page", 1, minimum=1),
            query_int(request, "per_page", 10, minimum=1, maximum=MAX_PER_PAGE, clamp=True),
        )
        return json_response({
            "data": [self.render(row) for row in page.items],
            "current_page": page.page,
            "last_page": page.last_page,
            "per_page": page.per_page,
            "total": page.total,
        })

    async def get_contact(self, request: Request) -> Response:
        row = self.store.table("contacts").get(request.path_params["id"])
        if row is None:
            return self.error(404, "contact not found")
        return json_response({"data": self.render(row)})

    async def create_contact(self, request: Request) -> Response:
        fields = _validated(await read_object(request), creating=True)
        row = self.store.table("contacts").insert(fields)
        return json_response({"data": self.render(row)}, 201)

    async def update_contact(self, request: Request) -> Response:
        fields = _validated(await read_object(request), creating=False)
        row = self.store.table("contacts").update(request.path_params["id"], fields)
        if row is None:
            return self.error(404, "contact not found")
        return json_response({"data": self.render(row)})

    @staticmethod
    def render(row: Record) -> dict[str, Any]:
        return dict(row)


FIELDS = ("name", "email", "company", "vat_number", "city", "country")


def _validated(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    data = body.get("data")
    if not isinstance(data, dict):
        raise BadRequest("the body must be {\"data\": {...}}", 422)
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)}", 422, fields=unknown)
    if (creating or "name" in data) and not str(data.get("name") or "").strip():
        raise BadRequest("name is required", 422, fields=["name"])
    return {key: data[key] for key in FIELDS if key in data}


def _instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"updated_since is not an ISO 8601 instant: {text!r}") from None
    if instant.tzinfo is None:
        raise BadRequest("updated_since needs a time zone")
    return instant


def create_app(options: EmulatorOptions) -> Emulator:
    return NotesEmulator(options)


#: what the tests' ``serve`` fixture returns: the emulator and a client authenticated to it
Served = tuple[NotesEmulator, httpx.Client]
