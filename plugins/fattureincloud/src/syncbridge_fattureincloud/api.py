"""Talking to the Fatture in Cloud API: company paths, errors a person can act on, and reading
lists page by page without losing records that change while they are read.

Why not plain ``page=1, 2, 3 ...``: with ``sort=updated_at``, a record modified during a read
moves to the end of the listing and every record after it shifts one place back, so the record
that slides onto an already-read page would be missed, and with a cursor at the newest
``updated_at`` seen it would be missed for good. :func:`read_list` therefore pages by *keyset*:
each request asks for ``q=updated_at >= '<newest seen so far>'`` from page 1 again, and only
pages on within one timestamp when a whole page shares it. Records seen twice (same id, same
``updated_at``) are dropped, so every record comes back once, and a record changed mid-read
comes back again with its new version.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from syncbridge.errors import AuthError, ConnectorError
from syncbridge.http import Client, json_of
from syncbridge.records import NativeRecord, Page
from syncbridge_fattureincloud.mapping import ROME
from syncbridge_fattureincloud.settings import FicSettings

#: sorting by id within a timestamp makes page boundaries deterministic
SORT = "updated_at,id"
TIMESTAMP = "%Y-%m-%d %H:%M:%S"


def settings_of(client: Client) -> FicSettings:
    settings = client.settings
    if not isinstance(settings, FicSettings):
        raise ConnectorError(
            f"the fattureincloud connector needs FicSettings, got {type(settings).__name__}"
        )
    return settings


def company_path(client: Client, path: str) -> str:
    """``/c/{company_id}`` + ``path``: almost every resource belongs to one company."""
    return f"/c/{settings_of(client).company_id}{path}"


def error_message(response: httpx.Response) -> str:
    """The API's own message, with field errors (``validation_result``) and totals if any."""
    try:
        body = json_of(response)
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:300]
    error = body.get("error")
    if isinstance(error, str):  # the OAuth error format
        return f"{error}: {body.get('error_description', '')}".strip(": ")
    if not isinstance(error, dict):
        return str(body)[:300]
    message = str(error.get("message") or response.reason_phrase)
    fields = error.get("validation_result")
    if isinstance(fields, dict) and fields:
        details = "; ".join(
            f"{name}: {' '.join(map(str, problems)) if isinstance(problems, list) else problems}"
            for name, problems in fields.items()
        )
        message = f"{message} ({details})"
    extra = body.get("extra")
    if isinstance(extra, dict) and isinstance(extra.get("totals"), dict):
        message = f"{message} totals: {extra['totals']}"
    return message


def failure(response: httpx.Response, what: str) -> ConnectorError:
    """The error for a refused request, saying what to do about it."""
    status = response.status_code
    message = error_message(response)
    if status == 401:
        return AuthError(
            f"Fatture in Cloud refused the token (401: {message}); generate a new manual "
            "token, or run `syncbridge auth <connection>` for an OAuth app"
        )
    retry_after = response.headers.get("Retry-After")
    if status == 403 and retry_after:
        return ConnectorError(
            f"{what}: the hourly/monthly request quota of this company and app is used up "
            f"(403: {message}); it resets in {retry_after} s"
        )
    if status == 403:
        return ConnectorError(
            f"{what}: not permitted (403: {message}); check the token's scopes and that it "
            "reaches this company"
        )
    if status == 404:
        return ConnectorError(f"{what}: not found (404: {message})")
    return ConnectorError(f"{what}: HTTP {status}: {message}")


def get_json(client: Client, path: str, params: Mapping[str, Any] | None = None) -> Any:
    """GET ``path`` and its decoded JSON body, or a :class:`ConnectorError`."""
    response = client.get(path, params=dict(params or {}))
    if response.status_code != 200:
        raise failure(response, f"GET {path}")
    return json_of(response)


def lower_bound(cursor: str) -> str:
    """Where an incremental read starts: the cursor, or, when the cursor falls in the hour
    that repeats as daylight saving time ends, the start of that hour.

    Timestamps are Italian local time without a zone, so in that hour they go back: an edit
    at 02:10 (second pass) sorts before a cursor of 02:45 (first pass) and would be missed.
    """
    try:
        naive = datetime.strptime(cursor, TIMESTAMP)
    except ValueError:
        return cursor
    first, second = naive.replace(tzinfo=ROME, fold=0), naive.replace(tzinfo=ROME, fold=1)
    if first.utcoffset() == second.utcoffset():
        return cursor
    return naive.replace(minute=0, second=0).strftime(TIMESTAMP)


def read_list(
    client: Client,
    path: str,
    params: Mapping[str, Any],
    since: str | None,
    page_size: int,
) -> Iterator[Page]:
    """Every record of a paginated list changed at or after ``since`` (all when None).

    Pages carry the cursor: the newest ``updated_at`` seen (the API's own string, compared
    as such by the API's ``q``). See the module docstring for why it pages by keyset.
    """
    bound = lower_bound(since) if since else None
    page = 1
    cursor = since
    #: (id, updated_at) of the records at the current bound already yielded: only those can
    #: come back, as the next request asks again for everything from that timestamp on
    seen: set[tuple[Any, Any]] = set()
    first = True
    while True:
        query = {**params, "sort": SORT, "per_page": page_size, "page": page}
        if bound:
            query["q"] = f"updated_at >= '{bound}'"
        body = get_json(client, path, query)
        data: list[NativeRecord] = list(body.get("data") or [])
        fresh = []
        for record in data:
            stamp = record.get("updated_at")
            if stamp == bound:
                key = (record.get("id"), stamp)
                if key in seen:
                    continue
                seen.add(key)
            fresh.append(record)
            if isinstance(stamp, str) and (cursor is None or stamp > cursor):
                cursor = stamp
        # the first request's total (Pagination.total) is the size of the whole read
        total = body.get("total") if first else None
        first = False
        yield Page(fresh, cursor=cursor, total=total if isinstance(total, int) else None)
        last_page = int(body.get("last_page") or 1)
        if len(data) < page_size or int(body.get("current_page") or page) >= last_page:
            return
        tail = data[-1].get("updated_at")
        if isinstance(tail, str) and tail != bound:
            bound, page = tail, 1
            seen = {(r.get("id"), tail) for r in data if r.get("updated_at") == tail}
        else:
            page += 1  # a whole page shares one timestamp: page on within it


def read_ids(client: Client, path: str, ids: list[str]) -> Iterator[Page]:
    """Just these records (``GET path/{id}``); ids the API does not know are left out."""
    records: list[NativeRecord] = []
    for native_id in ids:
        if not native_id.isdigit():
            continue
        response = client.get(f"{path}/{native_id}")
        if response.status_code == 404:
            continue
        if response.status_code != 200:
            raise failure(response, f"GET {path}/{native_id}")
        records.append(json_of(response)["data"])
    yield Page(records)
