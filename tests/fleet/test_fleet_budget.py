"""One account's rate budget, shared by every worker: three workers sending to one Dinero
organisation at once never exceed its limit between them."""

from __future__ import annotations

import time
from typing import Any

import pytest

from syncbridge_crmincloud.emulator import create_app as crm_app
from syncbridge_dinero.emulator import create_app as dinero_app
from tests.fleet.farm import Fleet, connection_block, farm_server, options
from tests.fleet.test_fleet_schedule import turns, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

LIMIT, WINDOW = 10, 2.0  # the organisation's budget: 10 requests in any 2 seconds
SYNCS = ("a", "b", "c")
RECORDS = 15


class Arrivals:
    """When each request reached the app, and how it was answered."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[float, str, int]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()

        async def answer(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.seen.append((arrived, scope["path"], message["status"]))
            await send(message)

        await self.app(scope, receive, answer)


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_three_workers_share_one_accounts_budget(fleet: Fleet) -> None:
    # three CRMs with companies of their own (seeded apart), all sent to one organisation
    crm_farm, crm_server = farm_server(
        lambda key: crm_app(options(records=RECORDS, seed=10 + SYNCS.index(key[-1])))
    )
    dinero_farm, _unused = farm_server(lambda _key: dinero_app(options(records=1)))
    arrivals = Arrivals(dinero_farm)
    from syncbridge.emulator.server import running

    with crm_server as crm_url, running(arrivals) as dinero_url:
        fleet.write(requeue_after=120)
        tenant = fleet.tenant_id(0)
        dinero = dinero_farm.emulator(tenant).settings_for(f"{dinero_url}/{tenant}")
        dinero |= {"requests_per_minute": LIMIT, "rate_window_seconds": WINDOW}
        text = connection_block("dinero", "dinero", dinero, {"api_key": "DINERO_KEY"})
        secrets = {"DINERO_KEY": dinero["api_key"]}
        for name in SYNCS:
            crm = crm_farm.emulator(f"{tenant}-{name}").settings_for(
                f"{crm_url}/{tenant}-{name}"
            )
            text += connection_block(f"crm_{name}", "crmincloud", crm,
                                     {"password": f"CRM_{name.upper()}"})
            secrets[f"CRM_{name.upper()}"] = crm["password"]
            text += (
                f'[syncs.{name}]\nleft = "crm_{name}"\nright = "dinero"\n'
                f'[syncs.{name}.entities.company]\ndirection = "left-to-right"\nevery = "1h"\n'
            )
        fleet.add_tenant(tenant, text, secrets)
        for worker in ("w1", "w2", "w3"):
            fleet.worker(worker)
        time.sleep(3)  # the three are listening: the three syncs start together
        fleet.start("scheduler", log="scheduler.log")

        def all_done() -> bool:
            return sum(t.result == "ok" for t in turns(fleet)) == len(SYNCS)

        wait_for(all_done, 180, "the three first syncs", fleet)
        created = len(dinero_farm.emulator(tenant).store["contacts"].list())

    api = [(moment, status) for moment, path, status in arrivals.seen if path.startswith(
        f"/{tenant}/v1/")]
    assert [status for _moment, status in api if status == 429] == []
    # the three syncs ran at once, on three workers
    history = turns(fleet)
    assert len({t.worker for t in history}) == 3
    starts = max(t.started_at for t in history)
    assert all(t.finished_at > starts for t in history)
    # and between them never sent more than the budget in any window
    assert most_in_any_window([moment for moment, _status in api], WINDOW) <= LIMIT
    assert len(api) >= 3 * RECORDS  # every company was sent, at least a request each
    assert created >= 3 * RECORDS
