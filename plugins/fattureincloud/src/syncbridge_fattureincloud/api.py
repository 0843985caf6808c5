"""The Fatture in Cloud API as the connector toolkit sees it, and what is special about it.

Declared (:mod:`syncbridge.rest`): clients, products and issued documents are listings of
``{"data": [...]}`` in Laravel pages (``last_page``, ``total``) of at most 100, filtered
with ``q`` and sorted by ``sort``; every answer means what :func:`errors_for` says.

What is special:

- **Paths belong to a company** (``/c/{company_id}/...``), so each connection gets its own
  resources, error map and lookups: :func:`fic` keeps them on the connection's client.
- **Keyset reads.** Lists are sorted by ``updated_at,id``; a read after the cursor
  ``<instant>#<id>`` asks ``q=updated_at > 'T' or (updated_at = 'T' and id > N)`` (the
  ``q`` grammar has ``or`` and parentheses), each page anew after the last record read: no
  record read twice, none skipped when records change during the read, and a run after
  one that wrote N records reads exactly those N (:func:`keyset`).
- **Local time.** ``updated_at`` is Italian wall time to the second without a zone. The
  cursor is a UTC instant; in the hour that repeats when daylight saving time ends, wall
  times go back, so a read from a cursor in that hour starts from the earliest wall time
  that may follow it (:func:`start`).
- **Cursors of older versions** (the API's own ``2024-05-01 10:00:11``) are read as that
  Rome time, "at or after", as those versions asked; the read stores one of this format.
- **The hourly quota** is answered 403 with ``Retry-After``: it ends the entity, with when
  it resets (waiting up to an hour would hold the entity's lease); any other 403 (a scope
  missing, a company the token does not reach) fails the read, or the record written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx

from syncbridge import Client, ConnectorError, NativeRecord, Page
from syncbridge.rest import (
    Api,
    Cursor,
    ErrorMap,
    Incremental,
    PageNumber,
    Resource,
    Since,
    instants,
    parse_instant,
    select,
)
from syncbridge_fattureincloud import documents
from syncbridge_fattureincloud.lookups import Lookups
from syncbridge_fattureincloud.mapping import ROME
from syncbridge_fattureincloud.settings import FicSettings

SYSTEM = "Fatture in Cloud"
#: how the API writes ``updated_at``: Italian wall time
TIMESTAMP = "%Y-%m-%d %H:%M:%S"
MANUAL_HINT = (
    "generate a new token in Fatture in Cloud and set it as access_token in "
    "connections.{connection}.settings"
)
OAUTH_HINT = "run `syncbridge auth {connection}`"

log = logging.getLogger(__name__)


# -- what an answer means ---------------------------------------------------------------------
def message(body: Any) -> str | None:
    """The API's message, with its field errors (``validation_result``) and the totals it
    computed (``extra.totals``, when payments do not add up); the OAuth endpoints' format
    (``error``, ``error_description``) too."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, str):
        return f"{error}: {body.get('error_description') or ''}".strip(": ")
    if not isinstance(error, dict) or not error.get("message"):
        return None
    text = str(error["message"])
    fields = error.get("validation_result")
    if isinstance(fields, dict) and fields:
        text += " (" + "; ".join(
            f"{name}: {' '.join(map(str, why)) if isinstance(why, list) else why}"
            for name, why in fields.items()
        ) + ")"
    totals = select(body, "extra.totals")
    if isinstance(totals, dict) and totals:
        text += " totals: " + ", ".join(f"{name} {value}" for name, value in totals.items())
    return text


def quota(response: httpx.Response) -> str | None:
    """The reason a 403 with ``Retry-After`` ends the entity: the quota is used up."""
    wait = response.headers.get("Retry-After", "").strip()
    if response.status_code != 403 or not wait:
        return None
    return (
        f"the hourly or monthly request quota of this company and app is used up; it resets "
        f"in {wait} s"
    )


def errors_for(settings: FicSettings) -> ErrorMap:
    """The error map of a connection: a 401 asks for the credentials its settings use."""
    return ErrorMap(
        system=SYSTEM,
        message=message,
        auth_statuses=frozenset({401}),
        auth_hint=OAUTH_HINT if settings.uses_oauth else MANUAL_HINT,
        stop=quota,
    )


# -- reading by keyset --------------------------------------------------------------------------
def keyset(since: Since) -> dict[str, str]:
    """The ``q`` of what follows ``since``: after (time, id), or at or after a time."""
    if since.id is None or not since.id.isdigit():
        return {"q": f"updated_at >= '{since.text}'"}
    at = since.exact
    return {"q": f"updated_at > '{at}' or (updated_at = '{at}' and id > {since.id})"}


@lru_cache(maxsize=1024)
def _offsets(hour: str) -> tuple[timedelta, timedelta]:
    """Rome's larger and smaller UTC offset for wall times of the hour ``YYYY-MM-DD HH``:
    equal, but for the hour the clocks go back (both readings) or skip (neither is real)."""
    earliest, latest = instants(f"{hour}:00:00", ROME)
    wall = datetime.fromisoformat(f"{hour}:00:00").replace(tzinfo=UTC)
    return wall - earliest, wall - latest


def stamp(value: Any) -> tuple[datetime, datetime]:
    """The earliest and latest instant an ``updated_at`` may mean.

    :func:`~syncbridge.rest.instants` with Rome's zone, made cheap for the API's own
    ``YYYY-MM-DD HH:MM:SS``: Rome changes its offset on the hour only, so the offsets are
    looked up once per hour (a read takes each record's time twice, and a zone's offsets
    cost more than the rest of reading a record).
    """
    if isinstance(value, str) and len(value) == 19 and value[10] == " ":
        try:
            wall = datetime.fromisoformat(value)
        except ValueError:
            return instants(value, ROME)  # it says what is wrong with the value
        larger, smaller = _offsets(value[:13])
        wall = wall.replace(tzinfo=UTC)
        return wall - larger, wall - smaller
    return instants(value, ROME)


INCREMENTAL = Incremental(
    field="updated_at",
    since=keyset,
    ordered=True,
    keyset=True,
    zone=ROME,
    format=TIMESTAMP,
    parse=stamp,
)


def start(since: str | None) -> str | None:
    """The cursor a read starts from (see the module docstring): ``since``, or for a cursor
    in the hour that repeats when daylight saving time ends, the earliest wall time that may
    follow it, without an id (the records read again are harmless, one skipped is not)."""
    if not since:
        return None
    cursor = Cursor.parse(since, ROME)
    if "#" not in since and datetime.fromisoformat(since.strip()).tzinfo is None:
        log.info(
            "fattureincloud: the stored cursor %r is an older version's (the API's own Rome "
            "time); reading what changed at or after it, %s, and storing this version's",
            since,
            cursor,
        )
    bound = INCREMENTAL.since_of(cursor)
    if cursor.id is not None and bound.text != bound.exact:
        return str(Cursor(parse_instant(bound.text, ROME)))
    return since


def listing(path: str, **params: str) -> Resource:
    """A company listing (``path`` already under ``/c/{company_id}``)."""
    return Resource(
        path,
        records="data",
        paginator=PageNumber(last_page="last_page"),
        incremental=INCREMENTAL,
        by_id=path + "/{id}",
        record="data",
        params={"fieldset": "detailed", "sort": "updated_at,id", **params},
        page_size=100,
        total="total",
    )


# -- the connection's view of the API ----------------------------------------------------------
@dataclass(frozen=True)
class Fic:
    """One connection's company, error map, resources and lookups."""

    settings: FicSettings
    errors: ErrorMap
    api: Api
    lookups: Lookups

    @classmethod
    def of(cls, settings: FicSettings) -> Fic:
        company = f"/c/{settings.company_id}"
        errors = errors_for(settings)
        resources = {
            "company": listing(f"{company}/entities/clients"),
            "product": listing(f"{company}/products"),
            **{
                kind: listing(f"{company}/issued_documents", type=kind)
                for kind in documents.FIELDS
            },
        }
        return cls(settings, errors, Api(errors, resources), Lookups(errors, company))

    def path(self, relative: str) -> str:
        """``/c/{company_id}`` + ``relative``."""
        return f"/c/{self.settings.company_id}{relative}"


def fic(client: Client) -> Fic:
    """The connection's :class:`Fic`, made on first use and kept with its client."""
    settings = FicSettings.of(client)
    return client.resource("fattureincloud", lambda: Fic.of(settings))


# -- fetch ------------------------------------------------------------------------------------
def read(client: Client, entity: str, since: str | None, ids: list[str] | None) -> Iterator[Page]:
    """A listed entity: everything, what changed since the cursor, or only ``ids``."""
    context = fic(client)
    resource = context.api.resource(entity)
    query = {} if ids is None else {"ids": [native_id for native_id in ids if native_id.isdigit()]}
    begin = None if ids is not None else start(since)
    for page in resource.fetch(client, context.errors, begin, query):
        if ids is not None and entity in documents.FIELDS:  # by id: any type of document
            page.records = [record for record in page.records if record.get("type") == entity]
        if entity == "company":
            context.lookups.learn(page.records)
        yield page


def reference(client: Client, entity: str) -> list[NativeRecord]:
    """A small, unpaginated reference list (no ``updated_at``: read whole), as records."""
    context = fic(client)
    if entity == "currency":
        return context.errors.records(
            context.errors.get(client, "/info/currencies"), "data", "GET /info/currencies"
        )
    if entity == "unit":  # units are plain strings: the name is the id
        measures = select(context.errors.get(client, "/info/measures"), "data")
        names = measures if isinstance(measures, list) else []
        return [{"id": str(name), "name": str(name)} for name in names if name]
    lookups = context.lookups
    if entity == "vat_rate":
        return list(lookups.listing(client, "vat_types", fresh=True))
    if entity == "payment_method":
        methods = lookups.listing(client, "payment_methods", fresh=True)
        accounts = lookups.listing(client, "payment_accounts", fresh=True)
        by_id = {account.get("id"): account for account in accounts}
        joined = []
        for method in methods:
            account = method.get("default_payment_account")
            if isinstance(account, dict) and account.get("id") in by_id:
                method = {**method, "default_payment_account": by_id[account["id"]]}
            joined.append(method)
        return joined
    raise ConnectorError(f"fattureincloud has no entity {entity!r}")
