"""The CRM in Cloud Web API as the connector uses it: paths, answers, searches, JSON.

Declarations for :mod:`syncbridge.rest`, and only what is special about this API beside them:

* :data:`ERRORS` decides what every answer and transport failure means (error bodies are
  ``{"error", "message"}``, README A8); a 401 that survives the re-login of
  :class:`~syncbridge_crmincloud.auth.CrmInCloudAuth` is an AuthError naming the settings;
* :data:`API` holds one ``SearchByODataCriteria`` resource per searchable entity: ordered by
  ``lastModifiedDate`` then id, paged with ``$skip``/``$top`` and re-anchored on the newest
  instant read (the toolkit's ordered read), read since the toolkit's cursor with
  ``$filter=lastModifiedDate ge <instant>`` (A6), and by ids with ``id eq 1 or id eq 2 ...``,
  :data:`IDS_PER_SEARCH` a request;
* writes (``CreateOrUpdate`` answers the bare id, A7) and deletes go through
  :meth:`~syncbridge.rest.ErrorMap.write`, so every failure is that record's;
* JSON numbers are decoded as :class:`~decimal.Decimal` and encoded from it without a float
  in between, because prices and quantities are money.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import orjson

from syncbridge import ConnectorError, NativeRecord, UpsertItem, UpsertResult
from syncbridge.rest import Api, ErrorMap, Incremental, Offset, Resource
from syncbridge.rest.listing import plain_pages
from syncbridge_crmincloud.settings import MAX_PAGE_SIZE

SYSTEM = "CRM in Cloud"
#: the modification timestamp every searchable entity carries (incremental reads page on it)
MODIFIED = "lastModifiedDate"
#: ids (or keys) named in one search: ``id eq 1 or id eq 2 ...`` stays a short URL (< 1 KB)
IDS_PER_SEARCH = 40

_INTEGER = re.compile(r"\d+")


# -- JSON -----------------------------------------------------------------------------------------
def loads(content: bytes | str) -> Any:
    """JSON with every number that has a fraction as Decimal (never float).

    A body that is not JSON raises orjson's error, whose position tells a body cut short
    from one that is something else (the error map says which); the standard library's
    points at where the last string began.
    """
    try:
        return json.loads(content, parse_float=Decimal)
    except ValueError:
        orjson.loads(content)  # raises, with the position the error map reads
        raise


def _number(value: object) -> int | float:
    """A Decimal as a JSON number: int when whole, else a float that prints the same digits."""
    if not isinstance(value, Decimal):
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value.normalize():
        raise ValueError(f"{value} has more digits than a JSON number carries exactly")
    return number


def encode(body: Any) -> bytes:
    """``body`` as JSON bytes, Decimals written as exact numbers."""
    return json.dumps(body, default=_number, ensure_ascii=False).encode()


# -- what answers mean ----------------------------------------------------------------------------
def _message(body: Any) -> Any:
    """The API's own words in an error body: ``message`` and/or ``error`` (what public
    integrations check), an OAuth-style ``error_description`` (a login answering like a token
    endpoint), or a bare JSON string."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        for key in ("error_description", "message", "Message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value
    return None


ERRORS = ErrorMap(
    system=SYSTEM,
    message=_message,
    auth_hint="check username, password and web_api_key (or api_key) in "
    "connections.{connection}.settings",
    decode=loads,
)


# -- searches -------------------------------------------------------------------------------------
def spell(moment: datetime) -> str:
    """An instant as the API writes them, ISO 8601 UTC with milliseconds
    (``2024-03-05T14:03:27.512Z``, A6): the filter only relies on the API parsing what it
    renders. A finer instant is cut down to its millisecond, which an "at or after" filter
    may do (it reads a little more, never less)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def any_of(field: str, literals: Iterable[str]) -> str:
    """An OData filter selecting the records whose ``field`` is one of ``literals``."""
    return " or ".join(f"{field} eq {literal}" for literal in literals)


def odata_string(value: str) -> str:
    """An OData string literal: single quotes, inner quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def _ids_filter(ids: list[str]) -> dict[str, str]:
    # an id that is not a number names no record; "id eq 0" selects none (ids start at 1)
    numbers = [rid for rid in ids if _INTEGER.fullmatch(rid)]
    return {"$filter": any_of("id", numbers) if numbers else "id eq 0"}


#: how every search is read since a cursor: ``lastModifiedDate ge <instant>``, the listing
#: ordered by (time, id), so each page carries the cursor of its last record
CHANGES = Incremental(
    field=MODIFIED,
    since=lambda since: {"$filter": f"{MODIFIED} ge {since.text}"},
    ordered=True,
    format=spell,
    resolution=timedelta(milliseconds=1),
)


@dataclass(frozen=True)
class Endpoints:
    """Where one CRM entity is written. Paths are relative to ``base_url``; ``{id}`` is filled in.

    Company and Contact paths are the ones public integrations use; Catalog's ``Delete`` has
    no action segment (as the WooCommerce plugin calls it); Quote follows the Company pattern
    by assumption (README, assumption A9).
    """

    entity: str
    delete: str

    @property
    def search(self) -> str:
        return f"/{self.entity}/SearchByODataCriteria"

    @property
    def save(self) -> str:
        return f"/{self.entity}/CreateOrUpdate"


ENDPOINTS: dict[str, Endpoints] = {
    "company": Endpoints("Company", "/Company/Delete/{id}"),
    "contact": Endpoints("Contact", "/Contact/Delete/{id}"),
    "product": Endpoints("Catalog", "/Catalog/{id}"),
    "quote": Endpoints("Quote", "/Quote/Delete/{id}"),
}


def _search(endpoints: Endpoints) -> Resource:
    return Resource(
        endpoints.search,
        paginator=Offset(param="$skip", size_param="$top"),
        incremental=CHANGES,
        params={"$orderBy": f"{MODIFIED},id"},
        ids_param=_ids_filter,
        ids_per_request=IDS_PER_SEARCH,
        page_size=MAX_PAGE_SIZE,
    )


#: canonical entity -> its search (VAT rates have none: see :mod:`syncbridge_crmincloud.reads`)
API = Api(ERRORS, {entity: _search(endpoints) for entity, endpoints in ENDPOINTS.items()})


def endpoints_for(entity: str) -> Endpoints:
    """The endpoints of a canonical entity; ConnectorError for one without them."""
    try:
        return ENDPOINTS[entity]
    except KeyError:
        raise ConnectorError(f"crmincloud cannot search or write {entity!r}") from None


def search(client: httpx.Client, entity: str, filter_: str) -> Iterator[NativeRecord]:
    """Every record ``filter_`` selects, in pages of the largest size (so a filter naming
    :data:`IDS_PER_SEARCH` keys is answered by one request)."""
    resource = API.resource(entity)
    extra = {"$filter": filter_}
    for page in plain_pages(resource, client, ERRORS, resource.page_size, None, extra):
        yield from page.records


def stored_records(
    client: httpx.Client, entity: str, ids: Iterable[int]
) -> dict[int, NativeRecord]:
    """The records of ``ids`` as the CRM stores them, by id; an id it lacks is left out.
    One search per :data:`IDS_PER_SEARCH` ids."""
    wanted = [str(record_id) for record_id in dict.fromkeys(ids)]
    found: dict[int, NativeRecord] = {}
    if wanted:
        for page in API.fetch(client, entity, None, {"ids": wanted}):
            for record in page.records:
                found[int(record["id"])] = record
    return found


# -- writes ---------------------------------------------------------------------------------------
def bare_id(body: Any) -> dict[str, int] | None:
    """The bare id ``CreateOrUpdate`` (A7) and ``POST /CatalogCategories`` answer, as a
    record holding it (what :meth:`~syncbridge.rest.ErrorMap.write` reads the id from); None
    for anything else."""
    if isinstance(body, bool) or not isinstance(body, int | str | Decimal):
        return None
    if isinstance(body, Decimal) and body != body.to_integral_value():
        return None
    try:
        return {"id": int(body)}
    except ValueError:
        return None


def save(client: httpx.Client, entity: str, item: UpsertItem, body: NativeRecord) -> UpsertResult:
    """``POST /{Entity}/CreateOrUpdate`` with ``body``: the outcome, with the record's id and
    without the record (the API answers only the id; the caller reads it back)."""
    result = ERRORS.write(
        client,
        item,
        "POST",
        endpoints_for(entity).save,
        content=encode(body),
        headers={"Content-Type": "application/json"},
        record=bare_id,
    )
    return replace(result, record=None)


def delete(client: httpx.Client, entity: str, record_id: str) -> UpsertResult:
    """``DELETE`` one record; one already gone counts as deleted."""
    if not _INTEGER.fullmatch(record_id):
        return UpsertResult.failed(record_id, f"{record_id!r} is not a CRM in Cloud id", record_id)
    path = endpoints_for(entity).delete.format(id=int(record_id))
    item = UpsertItem(key=record_id, record={}, id=record_id)
    return ERRORS.write(client, item, "DELETE", path, missing_ok=True)
