"""Webhooks over the fleet: a change in Fatture in Cloud reaches the tenant's CRM within
seconds, through the system's signed notification, the receiver, the schedule and a worker;
forged, replayed and stale notifications, and unknown tenants, are refused.

Polling is set to once an hour, so only the notifications can bring the changes this soon.
"""

from __future__ import annotations

import statistics
import time

import httpx
import pytest

from syncbridge.emulator.server import free_port
from syncbridge_crmincloud.emulator import create_app as crm_app
from syncbridge_fattureincloud.emulator import MAIN_COMPANY
from syncbridge_fattureincloud.emulator import create_app as fic_app
from tests.fleet.farm import Fleet, farm_server, options
from tests.fleet.test_fleet_schedule import add_tenants, turns, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

CHANGES = 100
AT_ONCE = 5
WINDOW = 30  # seconds: the receiver's replay window


def test_a_change_reaches_the_other_side_within_seconds_and_forgeries_are_refused(
    fleet: Fleet,
) -> None:
    crm_farm, crm_server = farm_server(lambda _tenant: crm_app(options(records=3)))
    fic_farm, fic_server = farm_server(lambda _tenant: fic_app(options(records=3)))
    port = free_port()
    receiver = f"http://127.0.0.1:{port}"
    with crm_server as crm_url, fic_server as fic_url:
        fleet.write(
            extra=f'\n[webhooks]\npublic_url = "{receiver}"\n'
            f"replay_window_seconds = {WINDOW}\n"
        )
        add_tenants(fleet, crm_farm, crm_url, fic_farm, fic_url, 1, "1h")
        tenant = fleet.tenants[0]
        fic, crm = fic_farm.emulator(tenant), crm_farm.emulator(tenant)
        fleet.start("webhooks", "serve", "--port", str(port), log="webhooks.log", command=2)
        fleet.start("scheduler", log="scheduler.log")
        fleet.worker("w1")
        fleet.worker("w2")
        wait_for(lambda: any(t.result == "ok" for t in turns(fleet)), 60,
                 "the first sync", fleet)
        wait_for(lambda: _health(receiver), 30, "the receiver", fleet)
        subscribed = fleet.run_cli("webhooks", "subscribe", "--tenant", tenant)
        assert f"fic: {receiver}/hooks/{tenant}/fic subscribed for company" in subscribed

        clients = fic.store[f"{MAIN_COMPANY}/clients"]
        ids = [record["id"] for record in clients.list()][:AT_ONCE]
        latencies = []
        first_change = time.monotonic()
        for round_ in range(CHANGES // AT_ONCE):
            started = {}
            for index, client in enumerate(ids):
                name = f"Webhook {round_}-{index}"
                clients.update(client, {"name": name})
                started[name] = time.monotonic()
            deadline = time.monotonic() + 30
            while started and time.monotonic() < deadline:
                names = {row["companyName"] for row in crm.store["company"].list()}
                for name in [name for name in started if name in names]:
                    latencies.append(time.monotonic() - started.pop(name))
                time.sleep(0.02)
            assert not started, f"not in the CRM after 30 s: {sorted(started)}\n{fleet.logs()}"

        updates = [d for d in fic.webhooks.sender.deliveries if d.method == "POST"
                   and d.headers.get("ce-type", "").endswith("clients.update")]
        oldest, genuine = updates[0], updates[-1]
        time.sleep(max(0.0, WINDOW + 1 - (time.monotonic() - first_change)))
        # the last nudges' runs (one more after a run a nudge came during) are over
        wait_for(lambda: all(t.finished_at is not None for t in turns(fleet)), 30,
                 "the last runs", fleet)
        before = len(turns(fleet))
        with httpx.Client(base_url=receiver) as client:
            # sent again: a duplicate, answered but not acted on
            again = client.post(f"/hooks/{tenant}/fic", content=genuine.body,
                                headers=genuine.headers)
            assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
            # a notification captured longer ago than the window: a replay
            replayed = client.post(f"/hooks/{tenant}/fic", content=oldest.body,
                                   headers=oldest.headers)
            assert replayed.status_code == 400
            assert "longer ago than the replay window (30 s): refused" in replayed.text
            # a forged signature, and a notification for a tenant nobody has
            forged = dict(genuine.headers)
            forged["Authorization"] = genuine.headers["Authorization"][:-6] + "AAAAAA"
            refused = client.post(f"/hooks/{tenant}/fic", content=genuine.body, headers=forged)
            assert refused.status_code == 401
            unknown = client.post("/hooks/nobody/fic", content=genuine.body,
                                  headers=genuine.headers)
            assert (unknown.status_code, unknown.json()) == (
                404, {"error": "unknown tenant 'nobody'"})
        assert len(turns(fleet)) == before  # nothing of these started a run

    p95 = statistics.quantiles(latencies, n=20)[-1]
    assert len(latencies) == CHANGES
    assert p95 < 5.0, sorted(latencies)
    print(f"webhook latency: p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s")


def _health(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
