"""The CRM in Cloud Web API as the connector uses it: paths, JSON, errors and paging.

Everything here is plain requests on the connection's client; the hooks in
:mod:`syncbridge_crmincloud.connector` decide what to ask. Two rules hold throughout:

* JSON numbers are decoded as :class:`~decimal.Decimal` and encoded from it without a float
  in between, because prices and quantities are money;
* an error answer becomes an :class:`ApiError` carrying the API's own message, except a 401
  that survives the re-login, which is an :class:`~syncbridge.errors.AuthError` (the run
  must stop: every other request would fail the same way).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from syncbridge.errors import AuthError, ConnectorError
from syncbridge.http import Client
from syncbridge.records import NativeRecord
from syncbridge_crmincloud.auth import error_message

#: the modification timestamp every searchable entity carries (incremental reads page on it)
MODIFIED = "lastModifiedDate"


@dataclass(frozen=True)
class Endpoints:
    """Where one CRM entity lives. Paths are relative to ``base_url``; ``{id}`` is filled in.

    Company and Contact paths are the ones public integrations use; Catalog's ``Get`` and
    ``Delete`` have no action segment (as the WooCommerce plugin calls them); Quote follows
    the Company pattern by assumption (README, assumption A9).
    """

    entity: str
    get: str
    delete: str

    @property
    def search(self) -> str:
        return f"/{self.entity}/SearchByODataCriteria"

    @property
    def save(self) -> str:
        return f"/{self.entity}/CreateOrUpdate"


ENDPOINTS: dict[str, Endpoints] = {
    "company": Endpoints("Company", "/Company/Get/{id}", "/Company/Delete/{id}"),
    "contact": Endpoints("Contact", "/Contact/Get/{id}", "/Contact/Delete/{id}"),
    "product": Endpoints("Catalog", "/Catalog/{id}", "/Catalog/{id}"),
    "quote": Endpoints("Quote", "/Quote/Get/{id}", "/Quote/Delete/{id}"),
}


def endpoints_for(entity: str) -> Endpoints:
    """The endpoints of a canonical entity; ConnectorError for one without them."""
    try:
        return ENDPOINTS[entity]
    except KeyError:
        raise ConnectorError(f"crmincloud cannot search or write {entity!r}") from None


class ApiError(ConnectorError):
    """The API refused one request; ``message`` is its own words, ``status`` the HTTP code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def loads(content: bytes | str) -> Any:
    """JSON with every number that has a fraction as Decimal (never float)."""
    return json.loads(content, parse_float=Decimal)


def decode(response: httpx.Response) -> Any:
    """The response body as JSON (see :func:`loads`)."""
    try:
        return loads(response.content)
    except ValueError:
        raise ConnectorError(
            f"{response.request.method} {response.request.url.path}: the answer is not JSON "
            f"(HTTP {response.status_code})"
        ) from None


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


def checked(response: httpx.Response) -> httpx.Response:
    """``response`` if it succeeded; else AuthError (401/403) or ApiError with the message."""
    if response.status_code < 400:
        return response
    message = error_message(response)
    if response.status_code in (401, 403):
        raise AuthError(
            f"CRM in Cloud refused the credentials (HTTP {response.status_code}: {message}); "
            "check the connection's username/password or api_key"
        )
    raise ApiError(response.status_code, message)


def get_json(client: Client, path: str, params: dict[str, Any] | None = None) -> Any:
    return decode(checked(client.get(path, params=params)))


def get_record(client: Client, path: str) -> NativeRecord | None:
    """The record at ``path``, or None when the API answers 404 (no such record)."""
    response = client.get(path)
    if response.status_code == 404:
        return None
    record = decode(checked(response))
    if not isinstance(record, dict):
        raise ConnectorError(f"GET {path}: expected a JSON object, got {type(record).__name__}")
    return record


def post_json(client: Client, path: str, body: Any) -> Any:
    response = client.post(path, content=encode(body), headers={"Content-Type": "application/json"})
    return decode(checked(response))


def save(client: Client, endpoints: Endpoints, body: NativeRecord) -> int:
    """``POST /{Entity}/CreateOrUpdate``; the API answers with the bare id of the record."""
    answer = post_json(client, endpoints.save, body)
    if isinstance(answer, bool) or not isinstance(answer, int | str | Decimal):
        raise ConnectorError(f"{endpoints.save}: expected the record's id, got {answer!r}")
    try:
        return int(answer)
    except ValueError:
        raise ConnectorError(
            f"{endpoints.save}: expected the record's id, got {answer!r}"
        ) from None


def odata_string(value: str) -> str:
    """An OData string literal: single quotes, inner quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def search(
    client: Client, endpoints: Endpoints, filter_: str | None, top: int, skip: int = 0
) -> list[NativeRecord]:
    """One page of ``SearchByODataCriteria``, ordered by modification time then id."""
    params: dict[str, Any] = {"$orderBy": f"{MODIFIED},id", "$top": top}
    if filter_:
        params["$filter"] = filter_
    if skip:
        params["$skip"] = skip
    records = get_json(client, endpoints.search, params)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ConnectorError(f"{endpoints.search}: expected a JSON array of records")
    return records


def _cursor(anchor: str, ids: set[Any]) -> str:
    return f"{anchor}|{','.join(str(rid) for rid in sorted(ids, key=str))}"


def _parse_cursor(cursor: str | None) -> tuple[str | None, set[Any]]:
    """``(lastModifiedDate, ids read at exactly that instant)``; a bare timestamp is accepted."""
    if not cursor:
        return None, set()
    anchor, bar, ids = cursor.rpartition("|")
    if not bar:
        return cursor, set()
    return anchor, {int(rid) if rid.isdigit() else rid for rid in ids.split(",") if rid}


def pages_since(
    client: Client, endpoints: Endpoints, since: str | None, page_size: int
) -> Iterator[tuple[list[NativeRecord], str | None]]:
    """Every record modified at or after ``since`` (all when None): ``(records, cursor)`` pages.

    Pages are anchored on time rather than on an offset: each request asks for
    ``lastModifiedDate ge <newest time read>`` and drops the records already read at exactly
    that instant. A plain ``$skip`` over a changing result shifts whenever a record is
    modified during the read (it moves to the end) and silently passes over the record that
    slid into its place; anchoring keeps every record that was there from the start, and a
    record modified meanwhile is simply read again later. ``$skip`` is used only to step
    over a full page of records sharing one instant (a bulk import), which anchoring alone
    cannot get past.

    The cursor is ``<lastModifiedDate>|<ids read at that instant>``: the timestamp in the
    API's own notation (sent back as is), and the ids so that the next run skips them too
    and reads exactly the records changed since.
    """
    anchor, seen = _parse_cursor(since)
    skip = 0
    while True:
        filter_ = f"{MODIFIED} ge {anchor}" if anchor else None
        records = search(client, endpoints, filter_, page_size, skip)
        fresh = [
            record
            for record in records
            if not (record.get(MODIFIED) == anchor and record.get("id") in seen)
        ]
        for record in fresh:
            stamp = record.get(MODIFIED)
            if not isinstance(stamp, str) or not stamp:
                raise ConnectorError(
                    f"{endpoints.entity} {record.get('id')}: no {MODIFIED} in the record"
                )
            if stamp != anchor:
                anchor, seen = stamp, set()
            seen.add(record.get("id"))
        if fresh:
            assert anchor is not None
            yield fresh, _cursor(anchor, seen)
        if len(records) < page_size:
            return
        if fresh:
            skip = 0
        elif skip == 0:
            skip = len(seen)  # a full page of one instant, all read already: step over it
        else:
            raise ConnectorError(
                f"{endpoints.search}: a full page held only records already read; the API "
                "seems to ignore $skip, so paging cannot go on without losing records"
            )
