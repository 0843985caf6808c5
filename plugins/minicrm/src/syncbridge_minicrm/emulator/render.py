"""How the emulated MiniCRM writes things: local times, plain-text errors, envelopes, Urls.

MiniCRM stamps records in Hungarian local time to the second (``2026-03-05 14:03:27``),
answers errors as plain text ``<Entity> (<METHOD>): <message>`` in the system's language,
lists as ``{"Count": N, "Results": {"<id>": {...}}}`` (``[]`` when there are none: PHP's
``json_encode`` of an empty array) and links records by absolute API URLs on its own host.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from syncbridge.emulator import BadRequest, json_response

BUDAPEST = ZoneInfo("Europe/Budapest")
#: how MiniCRM writes an instant: local wall time, whole seconds
STAMP = "%Y-%m-%d %H:%M:%S"
#: records a listing page holds; pages count from 0
PAGE_SIZE = 100


class ApiError(BadRequest):
    """A refusal in MiniCRM's words; the router adds ``<Entity> (<METHOD>): ``."""


def stamp(moment: datetime) -> str:
    """``moment`` (aware) as MiniCRM shows it."""
    return moment.astimezone(BUDAPEST).strftime(STAMP)


def parse_since(raw: str) -> datetime:
    """An ``UpdatedSince`` value (``2024-02-12 10:00`` or ``... 10:00:00``, local time) as an
    aware instant; ApiError naming the parameter otherwise."""
    text = raw.strip().replace("T", " ")
    for pattern in (STAMP, "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=BUDAPEST)
        except ValueError:
            continue
    raise ApiError('Nem megfelelő paraméter: "UpdatedSince"')


def plain_error(status: int, text: str) -> Response:
    """MiniCRM's error answer: the message as plain UTF-8 text."""
    return PlainTextResponse(text, status_code=status, media_type="text/plain; charset=utf-8")


def api_root(request: Request) -> str:
    """The emulator's own base URL (scheme, host, port), for absolute ``Url`` fields."""
    return str(request.base_url).rstrip("/")


def envelope(rows: Iterable[Mapping[str, Any]], page: int) -> Response:
    """One page (0-based, :data:`PAGE_SIZE` rows) of ``rows`` in the list envelope."""
    every = list(rows)
    window = every[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    results: Any = {str(row["Id"]): dict(row) for row in window} if window else []
    return json_response({"Count": len(every), "Results": results})


def page_of(request: Request) -> int:
    """The ``Page`` parameter (0 when absent); ApiError for anything but a whole number >= 0."""
    raw = request.query_params.get("Page", "0")
    if not raw.isdigit():
        raise ApiError('Nem megfelelő paraméter: "Page"')
    return int(raw)
