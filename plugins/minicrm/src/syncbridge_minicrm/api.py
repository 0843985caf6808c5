"""The MiniCRM API as the connector uses it: paths, listings, what answers mean.

Declarations for :mod:`syncbridge.rest`, and only what is special about this API beside them:

* :data:`ERRORS`: error bodies are plain text, ``<Entity> (<METHOD>): <message>`` in the
  system's language, which the toolkit quotes as they are; a 401 (wrong system id or key)
  is an AuthError naming the settings; a 403 (an address the system's IP allow-list refuses,
  a write to a demo system) ends the entity, saying both fixes;
* listings (:func:`listing`) are ``{"Count": N, "Results": {"<id>": {...}}}`` (``[]`` when
  empty), paged by ``Page`` from 0, 100 rows a page; their rows are short (no ``UpdatedAt``),
  so every record is read by id and the incremental cursor follows the details
  (:data:`CHANGES`, ``UpdatedSince`` in Hungarian local time);
* writes answer ``{"Id": N}`` (R3) or the whole document (``/Api/Invoice``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from syncbridge import NativeRecord
from syncbridge.rest import ErrorMap, Incremental, PageNumber, Resource

SYSTEM = "MiniCRM"
BUDAPEST = ZoneInfo("Europe/Budapest")
#: how MiniCRM writes instants: Hungarian wall time, whole seconds
STAMP = "%Y-%m-%d %H:%M:%S"
PAGE_SIZE = 100

CONTACTS = "/Api/R3/Contact"
CONTACT = "/Api/R3/Contact/{id}"
ADDRESSES = "/Api/R3/AddressList/{id}"
ADDRESS = "/Api/R3/Address"
PROJECTS = "/Api/R3/Project"
INVOICES = "/Api/Invoice/List"
INVOICE = "/Api/Invoice/{id}"
NEW_INVOICE = "/Api/Invoice"


#: the address MiniCRM names when its IP allow-list refuses a request (README A1)
_OFF_THE_LIST = re.compile(r"nem engedélyezett erről az IP címről: (\S+)")
#: MiniCRM's refusal of a write to a demo system (README A2)
_DEMO = "Demo rendszerben"


def _refused(response: httpx.Response) -> str | None:
    """A 403 ends the entity: the system refuses this access whatever is sent (a client
    address its IP allow-list does not hold, or a write to a demo system); the reason says
    which, and what to do."""
    if response.status_code != 403:
        return None
    text = response.text
    address = _OFF_THE_LIST.search(text)
    if address is not None:
        return (
            f"this machine's address ({address.group(1)}) is not on the system's list of API "
            "allowed IP addresses: add it there (MiniCRM: Settings -> System), or run from a "
            "listed address (allowed_ips in the connection's settings)"
        )
    if _DEMO in text:
        return (
            "a demo account can only be read: set demo_account = true and sync from MiniCRM "
            "only, or connect a subscribed system"
        )
    return (
        "the system refuses this access: a system that limits API access to listed IP "
        "addresses must list this machine's (MiniCRM: Settings -> System), and a demo account "
        "can only be read (set demo_account = true)"
    )


ERRORS = ErrorMap(
    system=SYSTEM,
    auth_statuses=frozenset({401}),
    auth_hint="check system_id and api_key (or api_url) in connections.{connection}.settings",
    message="Message",
    stop=_refused,
)


def results(body: Any) -> list[NativeRecord] | None:
    """The rows of a listing: ``Results`` is an object keyed by id, or ``[]`` when empty."""
    if not isinstance(body, dict):
        return None
    found = body.get("Results")
    if isinstance(found, dict):
        return list(found.values())
    if isinstance(found, list):
        return found
    return None


#: every listing: ``Page`` 0, 1, ... of 100 rows; ``Count`` is the total
PAGES = PageNumber(param="Page", size_param=None, start=0, total="Count")

#: how records are read since a cursor: the details' ``UpdatedAt`` (Budapest time, whole
#: seconds), asked for with ``UpdatedSince`` ("at or after", README A7). The listings are by
#: id and every read lists all changes since its start before saving the cursor (with the
#: last page), so the cursor moves past the newest second read (``past_newest``): else every
#: run would list again, and read in detail, every record of that second (after a run's
#: writes, all of them) only to drop them
CHANGES = Incremental(
    field="UpdatedAt",
    id="Id",
    since="UpdatedSince",
    inclusive=True,
    zone=BUDAPEST,
    format=STAMP,
    resolution=timedelta(seconds=1),
    past_newest=True,
)


def listing(path: str, by_id: str, **params: Any) -> Resource:
    """A listing with its detail path; rows are read by id (see the module docstring)."""
    return Resource(
        path,
        records=results,
        paginator=PAGES,
        by_id=by_id,
        params=params,
        page_size=PAGE_SIZE,
        total="Count",
    )


#: canonical entity -> its listing
LISTINGS: dict[str, Resource] = {
    "company": listing(CONTACTS, CONTACT, Type="Business"),
    "contact": listing(CONTACTS, CONTACT, Type="Person"),
    "invoice": listing(INVOICES, INVOICE),
    # proformas: the same listing, rows of Type Proforma (reads.py)
    "quote": listing(INVOICES, INVOICE),
}

#: contact ``Type`` per canonical entity, as written and listed
CONTACT_TYPES = {"company": "Business", "contact": "Person"}


def detail(client: httpx.Client, path: str) -> NativeRecord | None:
    """One record by its path; None when MiniCRM has no such record (404)."""
    _response, body = ERRORS.read(client, path, missing_ok=True)
    return body if isinstance(body, dict) else None
