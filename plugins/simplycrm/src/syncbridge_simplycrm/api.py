"""Simply CRM's ``webservice.php`` as the connector uses it: operations, answers, resources.

Declarations for :mod:`syncbridge.rest`, and only what is special about this API beside them:

* :data:`ERRORS` decides what every answer means: HTTP statuses and unreadable bodies as the
  toolkit decides them, plus the envelope (``200 {"success": false, "error": {code,
  message}}``), the API's refusal (``ErrorMap(refused=...)``): :class:`Refusal` carries its
  code;
* :func:`changes` declares a module's change feed, ``operation=sync``: paged by
  ``lastModifiedTime`` while ``more``, read since the toolkit's cursor. ``sync`` returns
  *every* record stamped with the newest instant it covers (more than 100 when stamps tie),
  so the cursor may move past that instant once it is read (``past_newest``); within it, the
  cursor's id keyset keeps a resumed read from repeating records;
* :func:`by_ids` declares the read of given ids: ``query`` with ``id IN (...)``, 100 ids a
  request (VTQL answers at most 100 rows);
* :func:`retrieve` reads one record whole (an invoice's ``LineItems`` come only with it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx

from syncbridge import ConnectorError, NativeRecord
from syncbridge.rest import CursorToken, ErrorMap, Incremental, Resource
from syncbridge.rest.cursor import natural_id
from syncbridge_simplycrm.auth import REFUSED
from syncbridge_simplycrm.envelope import refused, vtiger_envelope

SYSTEM = "Simply CRM"
ENDPOINT = "webservice.php"
#: the most rows a VTQL query answers, and the most distinct instants one ``sync`` covers
MAX_ROWS = 100
#: the modification time every module carries
MODIFIED = "modifiedtime"


def loads(content: bytes | str) -> Any:
    """JSON with fractions as Decimal (vtiger sends numbers as strings; this is for the rest)."""
    return json.loads(content, parse_float=Decimal)


def _operation(request: httpx.Request) -> str:
    """The operation a request calls, to name it in reasons (every path is the same)."""
    operation = request.url.params.get("operation")
    if operation is None and request.method == "POST":
        try:
            form = parse_qs(request.content.decode("utf-8", "replace"))
        except (httpx.RequestNotRead, UnicodeError):
            form = {}
        operation = next(iter(form.get("operation") or []), None)
    return f"operation {operation or '?'}"


class Refusal(ConnectorError):
    """A request the CRM refused: ``code`` is the envelope's (``ACCESS_DENIED``, ...), empty
    for an HTTP error status; ``said`` the refusal alone, as a record's failure shows it."""

    def __init__(self, reason: str, code: str, said: str) -> None:
        super().__init__(reason)
        self.code, self.said = code, said


def _refusal(reason: str, response: httpx.Response) -> ConnectorError:
    found = None
    if response.is_success:  # an error status is the server's, whatever its body says
        try:
            found = vtiger_envelope(loads(response.content))
        except ValueError:
            found = None
    if found is None:
        return Refusal(reason, "", ERRORS.describe(response))
    code, message = found
    return Refusal(reason, code, f"{code}: {message}" if code else message)


def _auth_refused(body: Any) -> bool:
    found = vtiger_envelope(body)
    return found is not None and found[0] in REFUSED


ERRORS = ErrorMap(
    system=SYSTEM,
    message="error.message",
    refused=refused,
    auth_refused=_auth_refused,
    refusal=_refusal,
    auth_hint="check username and access_key (My Preferences > Access Key) in "
    "connections.{connection}.settings",
    decode=loads,
    doing=_operation,
)


# -- ids -----------------------------------------------------------------------------------------
def crmid(native_id: Any) -> int | None:
    """The number after the ``x`` of a composite id (``11x5`` -> 5), or None."""
    prefix, sep, number = str(native_id).partition("x")
    return int(number) if sep and prefix.isdigit() and number.isdigit() else None


def id_order(native_id: Any) -> Any:
    """Ids within one instant, by their crmid (``11x9`` before ``11x10``)."""
    number = crmid(native_id)
    return natural_id(number if number is not None else native_id)


def vtql_string(value: str) -> str:
    """A VTQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# -- the change feed -------------------------------------------------------------------------------
def _unix(moment: datetime) -> str:
    """``modifiedTime`` is unix seconds; sync takes records strictly after it."""
    return str(int(moment.astimezone(UTC).timestamp() // 1))


#: how ``sync`` is read since a cursor: ``modifiedtime`` (UTC, whole seconds), strictly after
CHANGES = Incremental(
    field=MODIFIED,
    since=lambda since: {"modifiedTime": since.text},
    inclusive=False,
    format=_unix,
    resolution=timedelta(seconds=1),
    id_key=id_order,
    past_newest=True,
)


def changes(module: str, sync_type: str) -> Resource:
    """``operation=sync`` for one module: every change after the cursor, 100 instants a page."""
    return Resource(
        ENDPOINT,
        records="result.updated",
        deleted="result.deleted",
        paginator=CursorToken(
            param="modifiedTime",
            token="result.lastModifiedTime",
            has_more="result.more",
            size_param=None,
        ),
        incremental=CHANGES,
        params={
            "operation": "sync",
            "elementType": module,
            "syncType": sync_type,
            "modifiedTime": 0,
        },
        page_size=MAX_ROWS,
    )


def by_ids(module: str) -> Resource:
    """``operation=query`` by ids: ``SELECT * FROM M WHERE id IN ('11x1', ...);``."""

    def select(ids: list[str]) -> dict[str, str]:
        listed = ", ".join(vtql_string(native_id) for native_id in ids)
        return {"operation": "query", "query": f"SELECT * FROM {module} WHERE id IN ({listed});"}

    return Resource(
        ENDPOINT,
        records="result",
        ids_param=select,
        ids_per_request=MAX_ROWS,
        page_size=MAX_ROWS,
    )


def query(client: httpx.Client, text: str) -> list[NativeRecord]:
    """The rows of one VTQL query (at most 100)."""
    body = ERRORS.get(client, ENDPOINT, params={"operation": "query", "query": text})
    return ERRORS.records(body, "result", "operation query")


def rows_by_ids(client: httpx.Client, module: str, ids: Iterable[str]) -> dict[str, NativeRecord]:
    """The stored rows of ``ids`` (without line items), by id; an id gone is left out."""
    wanted = [native_id for native_id in dict.fromkeys(ids) if crmid(native_id) is not None]
    found: dict[str, NativeRecord] = {}
    for page in by_ids(module).fetch(client, ERRORS, None, {"ids": wanted}):
        for record in page.records:
            found[str(record.get("id"))] = record
    return found


def retrieve(client: httpx.Client, native_id: str) -> NativeRecord | None:
    """One record whole (an invoice with its ``LineItems``); None when it is deleted or
    unknown, which vtiger answers with ``ACCESS_DENIED``."""
    if crmid(native_id) is None:
        return None
    try:
        body = ERRORS.get(client, ENDPOINT, params={"operation": "retrieve", "id": native_id})
    except Refusal as refusal:
        if refusal.code == "ACCESS_DENIED":
            return None
        raise
    result = body.get("result") if isinstance(body, dict) else None
    return result if isinstance(result, dict) else None

