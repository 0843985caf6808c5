"""A loopback receiver for a connector's webhook tests: what the system sent, and how the
connector read it.

``syncbridge webhooks`` (the fleet's receiver) needs a state store and a broker; a plugin's own
tests only need to know that its emulator's notifications reach a URL and that its ``webhook``
hook reads them. :class:`Catcher` is that URL: it answers each request with what the
connection's hook says (a verification challenge's reply, 401 for a refused one) and keeps
the requests and the notices::

    with Catcher(connection) as catcher:
        connection.subscribe(catcher.url, ["company"])
        ...  # change a record on the emulator
        notice = catcher.wait_notice()
        assert notice.changes == (Change("company", "7"),)
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncbridge.connection import Connection
from syncbridge.emulator.server import running
from syncbridge.webhooks import Notice, WebhookRefused, WebhookRequest, from_starlette

__all__ = ["Catcher"]


class Catcher:
    """Receives notifications at ``url`` (any path below it) and reads them with
    ``connection``'s ``webhook`` hook."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.requests: list[WebhookRequest] = []
        self.notices: list[Notice] = []
        self.refused: list[str] = []
        self._arrived = threading.Condition()
        self._server = running(
            Starlette(
                routes=[
                    Route("/{path:path}", self._receive, methods=["GET", "POST", "PUT"]),
                ]
            )
        )
        self.url = ""

    async def _receive(self, request: Request) -> Response:
        received = await from_starlette(request)
        with self._arrived:
            self.requests.append(received)
        try:
            notice = self.connection.webhook(received)
        except WebhookRefused as refused:
            with self._arrived:
                self.refused.append(str(refused))
                self._arrived.notify_all()
            return JSONResponse({"error": str(refused)}, status_code=refused.status)
        with self._arrived:
            if notice is not None:
                self.notices.append(notice)
            self._arrived.notify_all()
        if notice is None or notice.reply is None:
            return Response(status_code=200)
        return JSONResponse(notice.reply)

    def wait_notice(self, count: int = 1, timeout: float = 10.0) -> Notice:
        """The ``count``-th notice read (waiting for it); AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.notices) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self.notices)} notice(s) after {timeout} s, waited for {count}; "
                        f"requests {len(self.requests)}, refused {self.refused}"
                    )
                self._arrived.wait(left)
            return self.notices[count - 1]

    def __enter__(self) -> Catcher:
        self.url = self._server.__enter__() + "/hooks"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.__exit__(exc_type, exc, tb)
