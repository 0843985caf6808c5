"""The "Changes API": a small in-process API the toolkit's tests read over real HTTP.

One resource, ``/items``, whose records carry an id, a version and a modification time from
a clock the test drives (``api.now``), in whole seconds (``coarse``) or microseconds. The
listing offers every way real APIs page and filter, chosen by the query:

- order: ``sort=time`` (by time, then id) or ``sort=id``;
- "changed since": ``since=<instant>`` with ``op=ge`` (at or after) or ``op=gt`` (strictly
  after), and ``after_id`` for a keyset filter ``time > since OR (time = since AND id > after_id)``;
- paging: ``page``/``per_page`` (with ``meta.last_page``), ``offset``/``limit``, or a
  ``cursor`` token (``meta.next``) with ``limit``; ``links=1`` adds a ``Link: rel="next"``
  header to numbered pages;
- ``ids=1,2,3``: only these records.

``/items/{id}`` answers one record, ``POST /items`` creates one. Scripted answers for the
error-map tests live under ``/scripted/<name>`` (see :meth:`ChangesApi.script`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from syncbridge.emulator import DropConnection
from syncbridge.emulator.pagination import decode_cursor, encode_cursor
from syncbridge.http import Client, LoggedRequest

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

#: the ``connect`` fixture: ``connect(**settings)`` -> a client of connection ``shop`` to the
#: API, and the list its request log fills
Connect = Callable[..., tuple[Client, list[LoggedRequest]]]


@dataclass
class Scripted:
    """One scripted answer: a status, a body, headers; or a dropped connection."""

    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    #: drop the connection after handling the request (the client gets no answer)
    drop: bool = False


class ChangesApi:
    """The API's state and its Starlette app. Thread-safe: tests write while it serves."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()
        self.scripts: dict[str, deque[Scripted]] = {}
        self.handled: list[tuple[str, str]] = []
        self.routes = Starlette(
            routes=[
                Route("/items", self.list_items, methods=["GET"]),
                Route("/items", self.create_item, methods=["POST"]),
                Route("/items/{id:int}", self.get_item, methods=["GET"]),
                Route("/scripted/{name}", self.scripted, methods=["GET", "POST", "PUT"]),
            ]
        )
        #: the ASGI app to serve
        self.app = _Front(self)

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request. A scripted drop is raised here, outside Starlette, whose error
        handling would answer 500: the emulator server then aborts the connection."""
        if scope["type"] == "http" and scope["path"].startswith("/scripted/"):
            name = scope["path"].removeprefix("/scripted/")
            answers = self.scripts.get(name)
            if answers and answers[0].drop:
                if len(answers) > 1:
                    answers.popleft()
                more = True  # the request is read whole first: the server has handled it
                while more:
                    more = bool((await receive()).get("more_body"))
                with self.lock:
                    self.handled.append((scope["method"], name))
                raise DropConnection(f"{scope['method']} {scope['path']}")
        await self.routes(scope, receive, send)

    # -- state ---------------------------------------------------------------------------
    def reset(self, *, coarse: bool = True) -> None:
        with self.lock:
            self.now = START
            self.coarse = coarse
            self.rows: dict[int, dict[str, Any]] = {}
            self.next_id = 1
            self.requests = 0

    def stamp(self) -> datetime:
        return self.now.replace(microsecond=0) if self.coarse else self.now

    def tick(self, seconds: float) -> None:
        with self.lock:
            self.now += timedelta(seconds=seconds)

    def create(self, count: int = 1) -> list[int]:
        with self.lock:
            ids = []
            for _ in range(count):
                row_id = self.next_id
                self.next_id += 1
                self.rows[row_id] = {"id": row_id, "version": 1, "updated_at": self.stamp()}
                ids.append(row_id)
            return ids

    def modify(self, ids: list[int]) -> None:
        with self.lock:
            for row_id in ids:
                row = self.rows[row_id]
                self.rows[row_id] = {
                    **row, "version": row["version"] + 1, "updated_at": self.stamp()
                }

    def snapshot(self) -> dict[int, dict[str, Any]]:
        with self.lock:
            return {row_id: dict(row) for row_id, row in self.rows.items()}

    def render(self, row: dict[str, Any]) -> dict[str, Any]:
        stamp: datetime = row["updated_at"]
        text = stamp.strftime("%Y-%m-%d %H:%M:%S") if self.coarse else stamp.isoformat()
        return {**row, "updated_at": text}

    def script(self, name: str, *answers: Scripted) -> str:
        """Answer ``/scripted/<name>`` with ``answers`` in turn, the last one for ever after."""
        self.scripts[name] = deque(answers)
        return f"/scripted/{name}"

    # -- endpoints -----------------------------------------------------------------------
    async def list_items(self, request: Request) -> Response:
        query = request.query_params
        with self.lock:
            self.requests += 1
            rows = list(self.rows.values())
        if query.get("ids"):
            wanted = {int(i) for i in query["ids"].split(",")}
            rows = [r for r in rows if r["id"] in wanted]
        since_text = query.get("since")
        if since_text:
            since = _instant(since_text)
            after = query.get("after_id")
            if after is not None:
                rows = [
                    r for r in rows
                    if r["updated_at"] > since
                    or (r["updated_at"] == since and r["id"] > int(after))
                ]
            elif query.get("op", "ge") == "gt":
                rows = [r for r in rows if r["updated_at"] > since]
            else:
                rows = [r for r in rows if r["updated_at"] >= since]
        by_time = query.get("sort", "time") == "time"
        rows.sort(key=(lambda r: (r["updated_at"], r["id"])) if by_time else (lambda r: r["id"]))
        meta: dict[str, Any] = {"total": len(rows)}
        headers: dict[str, str] = {}
        if "offset" in query:
            offset, limit = int(query["offset"]), int(query.get("limit", 10))
            window = rows[offset : offset + limit]
        elif "page" in query:
            page, size = int(query["page"]), int(query.get("per_page", 10))
            window = rows[(page - 1) * size : page * size]
            meta["last_page"] = max(1, -(-len(rows) // size))
            if query.get("links") and page < meta["last_page"]:
                following = {**dict(query), "page": str(page + 1)}
                headers["Link"] = f'<{request.url.path}?{urlencode(following)}>; rel="next"'
        else:
            limit = int(query.get("limit", 10))
            keys = [_key(r, by_time) for r in rows]
            start = 0
            if query.get("cursor"):
                after_key = decode_cursor(query["cursor"])
                start = next((n for n, key in enumerate(keys) if key > after_key), len(keys))
            window = rows[start : start + limit]
            more = start + limit < len(rows)
            meta["next"] = encode_cursor(_key(window[-1], by_time)) if more and window else None
        return JSONResponse(
            {"data": [self.render(r) for r in window], "meta": meta}, headers=headers
        )

    async def get_item(self, request: Request) -> Response:
        with self.lock:
            row = self.rows.get(request.path_params["id"])
        if row is None:
            return JSONResponse({"error": {"message": "no such item"}}, 404)
        return JSONResponse({"data": self.render(row)})

    async def create_item(self, request: Request) -> Response:
        (row_id,) = self.create()
        with self.lock:
            row = self.rows[row_id]
        return JSONResponse({"data": self.render(row)}, 201)

    async def scripted(self, request: Request) -> Response:
        name = request.path_params["name"]
        answers = self.scripts[name]
        answer = answers.popleft() if len(answers) > 1 else answers[0]
        with self.lock:
            self.handled.append((request.method, name))
        return Response(
            answer.body, answer.status, headers=answer.headers, media_type=answer.content_type
        )


class _Front:
    """The ASGI app of a :class:`ChangesApi` (uvicorn takes a bound method for ASGI 2)."""

    def __init__(self, api: ChangesApi) -> None:
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.api.serve(scope, receive, send)


def _key(row: dict[str, Any], by_time: bool) -> str:
    if by_time:
        return f"{row['updated_at'].isoformat(timespec='microseconds')}#{row['id']:012d}"
    return f"{row['id']:012d}"


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
