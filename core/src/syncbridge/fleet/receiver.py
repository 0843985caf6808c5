"""``syncbridge webhooks serve``: the ASGI app systems send their change notifications to.

``POST /hooks/<tenant>/<connection>`` (GET and PUT too: some systems verify a subscription
with a GET). The connection's connector verifies the request and names what changed
(the ``webhook`` hook); then the receiver

1. refuses a notification sent longer ago than the replay window (400);
2. ignores one whose id it has seen within the window (200, ``duplicate``): a system's
   retry, a duplicate delivery, or a captured request sent again;
3. nudges every (sync, entity) of the tenant the change flows from that connection in,
   and dispatches them at once: a run of the entity starts on a worker within moments,
   and reads the change as any run does (a notification is never taken as the data).

Unknown tenants and connections are 404, forged or foreign notifications 401 with the
connector's reason; nothing is nudged for either. If the schedule or the broker cannot be
reached the answer is 503 and the id is forgotten, so the system's retry is not taken for
a duplicate. Polling remains the fallback for anything a notification missed.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncbridge.config import Config, Side
from syncbridge.connection import Connection
from syncbridge.errors import ConfigError
from syncbridge.fleet import schedule
from syncbridge.fleet.schedule import Dispatch, Key
from syncbridge.fleet.tenants import Tenants, UnknownTenant
from syncbridge.plugins import load_connector, load_extensions
from syncbridge.webhooks import Notice, WebhookRefused, WebhookRequest, from_starlette

log = logging.getLogger("syncbridge.fleet.webhooks")

Send = Any  # Callable[[Dispatch], None]


class Seen:
    """Notification ids seen within the replay window, in Redis (shared by every receiver)."""

    def __init__(self, redis: Any, window: float) -> None:
        self.redis, self.window = redis, window

    def first_time(self, key: str) -> bool:
        expiry = int(self.window) * 2
        return bool(self.redis.set(f"syncbridge:hook:{key}", b"1", nx=True, ex=expiry))

    def forget(self, key: str) -> None:
        self.redis.delete(f"syncbridge:hook:{key}")


class Receiver:
    """The webhook receiver of a fleet; ``app`` is the ASGI app to serve."""

    def __init__(
        self, tenants: Tenants, engine: Engine, send: Send, seen: Seen
    ) -> None:
        self.tenants = tenants
        self.engine = engine
        self.send = send
        self.seen = seen
        self.window = timedelta(seconds=tenants.fleet.webhooks.replay_window_seconds)
        self._connections: dict[tuple[str, str], tuple[int, Config, Connection]] = {}
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route(
                    "/hooks/{tenant}/{connection}", self.receive, methods=["GET", "POST", "PUT"]
                ),
                Route("/health", self.health, methods=["GET"]),
            ]
        )

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def receive(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        name = request.path_params["connection"]
        received = await from_starlette(request)
        status, body = await run_in_threadpool(self.handle, tenant, name, received)
        return JSONResponse(body, status_code=status)

    def handle(self, tenant: str, name: str, request: WebhookRequest) -> tuple[int, Any]:
        """Status and JSON body of the answer to ``request`` for ``tenant``'s ``name``."""
        try:
            config, connection = self._connection(tenant, name)
        except UnknownTenant:
            return 404, {"error": f"unknown tenant {tenant!r}"}
        except ConfigError as error:
            log.error("%s", error)
            return 404, {"error": f"tenant {tenant!r} has no connection {name!r}"}
        try:
            notice = connection.webhook(request)
        except WebhookRefused as refused:
            log.warning("tenant %s connection %s: refused: %s", tenant, name, refused)
            return refused.status, {"error": str(refused)}
        if notice is None:
            return 404, {
                "error": f"connection {name!r} ({connection.info.name}) takes no webhooks"
            }
        if notice.sent_at is not None:
            sent = notice.sent_at if notice.sent_at.tzinfo else notice.sent_at.replace(tzinfo=UTC)
            if datetime.now(UTC) - sent > self.window:
                return 400, {
                    "error": f"notification {notice.event_id} was sent at "
                    f"{sent.isoformat(timespec='seconds')}, longer ago than the replay window "
                    f"({self.window.total_seconds():g} s): refused"
                }
        if not notice.changes:
            return 200, notice.reply if notice.reply is not None else {"status": "ok"}
        seen_key = f"{self.tenants.fleet.name}:{tenant}:{name}:{notice.event_id}"
        if not self.seen.first_time(seen_key):
            return 200, {"status": "duplicate"}
        keys = self._keys(tenant, config, name, notice)
        try:
            nudged = schedule.nudge(self.engine, keys)
            schedule.dispatch(
                self.engine,
                self.send,
                requeue_after=self.tenants.fleet.scheduler.requeue_after_seconds,
                schema_of=self.tenants.schema,
                only=nudged,
            )
        except Exception:
            self.seen.forget(seen_key)
            log.exception("tenant %s connection %s: cannot queue the runs", tenant, name)
            return 503, {"error": "the runs could not be queued; send it again later"}
        if notice.reply is not None:
            return 200, notice.reply
        runs = [f"{sync}/{entity}" for _tenant, sync, entity in nudged]
        return 200, {"status": "accepted", "runs": runs}

    def _keys(self, tenant: str, config: Config, name: str, notice: Notice) -> list[Key]:
        """The (tenant, sync, entity) rows whose records flow from connection ``name``."""
        keys: list[Key] = []
        for sync_name, sync in config.syncs.items():
            side: Side
            if sync.left == name:
                side = "left"
            elif sync.right == name:
                side = "right"
            else:
                continue
            for change in notice.changes:
                rule = sync.entities.get(change.entity)
                key = (tenant, sync_name, change.entity)
                if rule is not None and rule.allows(side) and key not in keys:
                    keys.append(key)
        return keys

    def _connection(self, tenant: str, name: str) -> tuple[Config, Connection]:
        """``tenant``'s config and connection ``name`` (settings only: verifying a
        notification needs no credentials and makes no request), cached until its file
        changes."""
        stamp = self.tenants.file(tenant).mtime_ns
        with self._lock:
            held = self._connections.get((tenant, name))
        if held is not None and held[0] == stamp:
            return held[1], held[2]
        config = self.tenants.config(tenant)
        spec = config.connections.get(name)
        if spec is None:
            raise ConfigError(f"tenant {tenant}: no connection {name!r}")
        connection = Connection(
            name,
            load_connector(spec.connector),
            spec.settings,
            extensions=load_extensions(spec.extensions),
        )
        with self._lock:
            self._connections[(tenant, name)] = (stamp, config, connection)
        return config, connection


def redis_seen(url: str, window: float) -> Seen:
    import redis

    return Seen(redis.Redis.from_url(url), window)


__all__ = ["Dispatch", "Receiver", "Seen", "redis_seen"]
