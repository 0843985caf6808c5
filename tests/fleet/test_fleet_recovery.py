"""A worker killed (kill -9) in the middle of a run: another takes the turn over, and the
target ends with every record once."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from syncbridge.cli.schemas import SCHEMAS
from syncbridge.emulator.server import free_port
from syncbridge_crmincloud.emulator import create_app as crm_app
from syncbridge_fattureincloud.emulator import create_app as fic_app
from tests.fleet.farm import POSTGRES, Fleet, farm_server, options
from tests.fleet.test_fleet_schedule import (
    add_tenants,
    companies,
    tenant_runs,
    turns,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

RECORDS = 40


def schedule_row(fleet: Fleet, tenant: str) -> Any:
    engine = sa.create_engine(POSTGRES)
    try:
        with engine.connect() as db:
            return db.exec_driver_sql(
                f"SELECT * FROM {fleet.table('schedule')} WHERE tenant = %(t)s", {"t": tenant}
            ).first()
    finally:
        engine.dispose()


def test_a_killed_workers_turn_is_taken_over_with_nothing_duplicated_or_lost(
    fleet: Fleet,
) -> None:
    crm_farm, crm_server = farm_server(lambda _tenant: crm_app(options(records=RECORDS)))
    fic_farm, fic_server = farm_server(lambda _tenant: fic_app(options(records=2)))
    with crm_server as crm_url, fic_server as fic_url:
        fleet.write(requeue_after=2)
        add_tenants(fleet, crm_farm, crm_url, fic_farm, fic_url, 1, "1h",
                    direction="left-to-right")
        tenant = fleet.tenants[0]
        fic = fic_farm.emulator(tenant)
        fic.faults.latency_ms = 120  # each create takes a while: the kill lands mid-run
        first = fleet.worker("w1")
        fleet.start("scheduler", log="scheduler.log")

        def creating() -> bool:
            return fic.requests.count("POST") >= 8

        wait_for(creating, 60, "the first worker creating companies", fleet)
        fleet.kill(first)
        sent_before = fic.requests.count("POST")
        assert schedule_row(fleet, tenant).finished_at is None  # killed mid-run
        fic.faults.latency_ms = 0
        metrics_port = free_port()
        fleet.worker("w2", "--metrics-port", str(metrics_port))

        def finished() -> bool:
            return any(t.result == "ok" for t in turns(fleet))

        wait_for(finished, 90, "the turn taken over and finished", fleet)
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        left = companies(crm_farm.emulator(tenant).settings_for(f"{crm_url}/{tenant}"),
                         "crmincloud")
        right = companies(fic.settings_for(f"{fic_url}/{tenant}"), "fattureincloud")

    names = sorted(c["name"] for c in left)
    assert len(names) == RECORDS
    copied = sorted(c["name"] for c in right if c["name"] in names)
    assert copied == names  # every company once: none lost, none created twice
    assert len(right) == RECORDS + 2
    history = turns(fleet)
    done = [turn for turn in history if turn.result == "ok"]
    assert len(done) == 1
    killed, taken_over = history[0], done[0]
    assert killed.worker is not None and killed.worker != taken_over.worker
    assert taken_over.reason == "requeue"
    # the killed turn, and any requeued before the second worker came, were lost
    assert [turn.result for turn in history if turn is not taken_over] == ["lost"] * (
        len(history) - 1
    )
    # the tenant's store: the killed run, marked so, and the one that finished the work
    assert [run.status for run in tenant_runs(fleet, fleet.tenants[0])] == ["killed", "ok"]
    assert sent_before >= 8
    # what an operator sees of it: the worker's metrics (its pool's run counted, the
    # schedule's gauges) and the tenant's status
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
    }
    key = (("entity", "company"), ("sync", "main"), ("tenant", tenant))
    assert samples[("syncbridge_runs_total", (*key[:1], ("result", "ok"), *key[1:]))] == 1
    assert samples[("syncbridge_consecutive_failures", key)] == 0
    assert samples[("syncbridge_lag_seconds", key)] >= 0
    status = json.loads(fleet.run_cli("status", "--tenant", fleet.tenants[0], "--json",
                                      command=1))
    jsonschema.Draft202012Validator(SCHEMAS["status"]).validate(status)
    [row] = status
    assert (row["sync"], row["entity"], row["state"], row["last_result"], row["failures"]) == (
        "main", "company", "idle", "ok", 0)
    assert row["counts"] == {"created": RECORDS}
    listed = json.loads(fleet.run_cli("tenants", "--json", command=1))
    jsonschema.Draft202012Validator(SCHEMAS["tenants"]).validate(listed)
    assert listed == [{"tenant": fleet.tenants[0], "config": "ok", "entities": 1,
                       "failing": 0, "worst_lag_seconds": listed[0]["worst_lag_seconds"]}]
