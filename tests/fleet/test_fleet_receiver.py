"""The webhook receiver, in process, on Intuit's notifications: genuine ones nudge and queue
the tenant's entity at once; duplicates, replays, forgeries, unknown tenants and connections
that take no webhooks start nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from syncbridge.emulator.config import toml_value
from syncbridge.emulator.server import running
from syncbridge.fleet import runtime as fleet_runtime
from syncbridge.fleet.config import load_fleet
from syncbridge.fleet.receiver import Receiver, redis_seen
from syncbridge.fleet.schedule import Dispatch
from syncbridge.fleet.scheduler import Scheduler
from syncbridge.webhooks import hmac_sha256_base64
from syncbridge_quickbooks.emulator import create_app as qbo_app
from tests.fleet.farm import REDIS, Fleet, options

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

TOKEN = "intuit-verifier-token-9f2c"


def notification(realm: str, customer: str, when: datetime) -> bytes:
    return json.dumps({"eventNotifications": [{"realmId": realm, "dataChangeEvent": {
        "entities": [{"name": "Customer", "id": customer, "operation": "Update",
                      "lastUpdated": when.strftime("%Y-%m-%dT%H:%M:%S.000Z")}]}}]}).encode()


def test_the_receiver_acts_on_genuine_notifications_once(fleet: Fleet, tmp_path: Any) -> None:
    fleet.write(extra="\n[webhooks]\nreplay_window_seconds = 600\n")
    qbo = qbo_app(options()).settings_for("http://127.0.0.1:9/qbo")
    realm = qbo["realm_id"]
    settings = {**qbo, "webhook_verifier_token": TOKEN}
    lines = ["[connections.erp]", 'connector = "sql"', "[connections.erp.settings]",
             f'url = "sqlite:///{tmp_path}/erp.db"', "[connections.qbo]",
             'connector = "quickbooks"', "[connections.qbo.settings]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    lines += ["[syncs.main]", 'left = "erp"', 'right = "qbo"',
              "[syncs.main.entities.company]", 'direction = "both"', 'every = "1h"']
    tenant = fleet.tenant_id(0)
    fleet.add_tenant(tenant, "\n".join(lines) + "\n", {})
    fleet_runtime.configure(load_fleet(fleet.config))
    runtime = fleet_runtime.runtime()
    sent: list[Dispatch] = []
    try:
        planner = Scheduler(runtime.tenants, runtime.engine, lambda _group: None)
        planner.reload()
        planner.tick()  # the first turn, due at once, is queued: a nudge comes during it
        receiver = Receiver(runtime.tenants, runtime.engine, sent.append,
                            redis_seen(REDIS, 600))
        served = running(receiver.app)
        client = httpx.Client(base_url=served.__enter__())
        path = f"/hooks/{tenant}/qbo"
        now = datetime.now(UTC)

        def post(body: bytes, signature: str | None = None, where: str = path) -> Any:
            headers = {"intuit-signature": signature or hmac_sha256_base64(TOKEN, body)}
            return client.post(where, content=body, headers=headers)

        body = notification(realm, "7", now)
        genuine = post(body)
        assert (genuine.status_code, genuine.json()) == (
            200, {"status": "accepted", "runs": ["main/company"]})
        assert sent == []  # a run is queued already: it runs once more after, not twice
        # the same again: a retry or a replay within the window
        again = post(body)
        assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
        # signed with another token, or altered after signing
        forged = post(body, hmac_sha256_base64("not-the-token", body))
        assert forged.status_code == 401
        assert forged.json()["error"].startswith("intuit-signature does not match the body")
        assert TOKEN not in forged.text
        altered = post(body.replace(b'"7"', b'"8"'), hmac_sha256_base64(TOKEN, body))
        assert altered.status_code == 401
        # captured long ago and sent now
        old = notification(realm, "9", now - timedelta(hours=1))
        stale = post(old)
        assert stale.status_code == 400
        assert "longer ago than the replay window (600 s): refused" in stale.json()["error"]
        # nobody's tenant, and a connection that takes no webhooks
        unknown = post(body, where="/hooks/nobody/qbo")
        assert (unknown.status_code, unknown.json()) == (
            404, {"error": "unknown tenant 'nobody'"})
        erp = post(body, where=f"/hooks/{tenant}/erp")
        assert (erp.status_code, erp.json()) == (
            404, {"error": "connection 'erp' (sql) takes no webhooks"})
        # the run under way finishes: the nudge during it makes the entity due at once
        from syncbridge.fleet import schedule

        with runtime.engine.connect() as db:
            token = db.execute(schedule.SCHEDULE.select()).one().token
        key = (tenant, "main", "company")
        assert schedule.claim(runtime.engine, key, token, "test")
        fresh = post(notification(realm, "7", datetime.now(UTC) + timedelta(seconds=1)))
        assert fresh.json() == {"status": "accepted", "runs": ["main/company"]}
        schedule.finish(runtime.engine, key, token, result="ok", run_id=1, error=None)
        planner.send = sent.append
        planner.tick()
        assert [(group.tenant, group.sync, [entity for entity, _ in group.items],
                 group.priority) for group in sent] == [(tenant, "main", ["company"], "poll")]
        client.close()
        served.__exit__(None, None, None)
    finally:
        runtime.close()
        fleet_runtime.configure(load_fleet(fleet.config))  # no closed runtime left behind
