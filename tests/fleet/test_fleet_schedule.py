"""Three workers and the scheduler over two hundred tenants, and a worker killed mid-run.

Every tenant syncs its companies both ways between its own CRM in Cloud and Fatture in
Cloud accounts (emulators on loopback); the schedule's ``turn`` rows say when each turn was
due, who ran it and how it ended, and each tenant's schema says which runs happened.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from syncbridge.connection import Connection
from syncbridge.plugins import load_connector
from syncbridge_crmincloud.emulator import create_app as crm_app
from syncbridge_fattureincloud.emulator import create_app as fic_app
from tests.fleet.farm import POSTGRES, Fleet, connection_block, farm_server, options

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

TENANTS = 200
EVERY = 40  # seconds between turns of each tenant's companies
WATCH = 90  # seconds of steady running watched after every tenant's first turn


def tenant_config(crm: dict[str, Any], fic: dict[str, Any], every: str,
                  direction: str = "both") -> str:
    text = connection_block("crm", "crmincloud", crm, {"password": "CRM_PASSWORD"})
    text += connection_block("fic", "fattureincloud", fic, {"access_token": "FIC_TOKEN"})
    return text + (
        '[syncs.main]\nleft = "crm"\nright = "fic"\n'
        f'[syncs.main.entities.company]\ndirection = "{direction}"\nevery = "{every}"\n'
    )


def add_tenants(fleet: Fleet, crm_farm: Any, crm_url: str, fic_farm: Any, fic_url: str,
                count: int, every: str, direction: str = "both") -> None:
    for index in range(count):
        tenant = fleet.tenant_id(index)
        crm = crm_farm.emulator(tenant).settings_for(f"{crm_url}/{tenant}")
        fic = fic_farm.emulator(tenant).settings_for(f"{fic_url}/{tenant}")
        fleet.add_tenant(
            tenant, tenant_config(crm, fic, every, direction),
            {"CRM_PASSWORD": crm["password"], "FIC_TOKEN": fic["access_token"]},
        )


def turns(fleet: Fleet) -> list[Any]:
    engine = sa.create_engine(POSTGRES)
    try:
        with engine.connect() as db:
            if db.exec_driver_sql(f"SELECT to_regclass('{fleet.table('turn')}')").scalar():
                return list(db.exec_driver_sql(
                    f"SELECT * FROM {fleet.table('turn')} ORDER BY queued_at"
                ))
            return []
    finally:
        engine.dispose()


def tenant_runs(fleet: Fleet, tenant: str) -> list[Any]:
    engine = sa.create_engine(POSTGRES)
    try:
        with engine.connect() as db:
            return list(db.exec_driver_sql(
                f"SELECT id, status, started_at, finished_at FROM {fleet.schema(tenant)}.run "
                "ORDER BY id"
            ))
    finally:
        engine.dispose()


def wait_for(condition: Any, timeout: float, what: str, fleet: Fleet) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout} s\n{fleet.logs()}")
        time.sleep(0.5)


def companies(settings: dict[str, Any], connector: str) -> list[dict[str, Any]]:
    with Connection("check", load_connector(connector), settings) as connection:
        return [
            connection.map_in("company", native).content()
            for page in connection.fetch("company")
            for native in page.records
        ]


def db_now() -> Any:
    engine = sa.create_engine(POSTGRES)
    try:
        with engine.connect() as db:
            return db.exec_driver_sql("SELECT now()").scalar()
    finally:
        engine.dispose()


def next_due(fleet: Fleet) -> dict[str, Any]:
    engine = sa.create_engine(POSTGRES)
    try:
        with engine.connect() as db:
            return dict(db.exec_driver_sql(
                f"SELECT tenant, due_at FROM {fleet.table('schedule')}"
            ).all())
    finally:
        engine.dispose()


def test_three_workers_run_every_due_turn_once_within_its_schedule(fleet: Fleet) -> None:
    crm_farm, crm_server = farm_server(lambda _tenant: crm_app(options(records=3)))
    fic_farm, fic_server = farm_server(lambda _tenant: fic_app(options(records=3)))
    with crm_server as crm_url, fic_server as fic_url:
        fleet.write(requeue_after=300)
        add_tenants(fleet, crm_farm, crm_url, fic_farm, fic_url, TENANTS, f"{EVERY}s",
                    direction="left-to-right")
        fleet.start("scheduler", log="scheduler.log")
        for name in ("w1", "w2", "w3"):
            fleet.worker(name)

        def all_onboarded() -> bool:
            done = {t.tenant for t in turns(fleet) if t.result is not None}
            return len(done) == TENANTS

        # a tenant's first turn creates its schema and copies its companies: the steady
        # schedule is what is watched, from the moment every tenant has had one
        wait_for(all_onboarded, 300, "every tenant's first turn", fleet)
        onboarded = db_now()
        time.sleep(WATCH)
        stopped = db_now()
        fleet.stop()  # SIGTERM: the scheduler stops, workers finish what they run
        watched = turns(fleet)
        upcoming = next_due(fleet)
        # every tenant's CRM companies are in its Fatture in Cloud, once each
        for tenant in fleet.tenants[:: TENANTS // 20]:
            left = companies(crm_farm.emulator(tenant).settings_for(f"{crm_url}/{tenant}"),
                             "crmincloud")
            right = companies(fic_farm.emulator(tenant).settings_for(f"{fic_url}/{tenant}"),
                              "fattureincloud")
            names = sorted(c["name"] for c in left)
            assert len(names) == 3
            assert sorted(c["name"] for c in right if c["name"] in names) == names, tenant

    by_tenant: dict[str, list[Any]] = defaultdict(list)
    for turn in watched:
        by_tenant[turn.tenant].append(turn)
    assert set(by_tenant) == set(fleet.tenants)
    workers = {turn.worker for turn in watched if turn.worker}
    assert len(workers) == 3, workers  # every worker took part
    every = timedelta(seconds=EVERY)
    for tenant, mine in by_tenant.items():
        finished = [t for t in mine if t.finished_at is not None]
        # each turn ran once: one run in the tenant's own store per finished turn, all ok
        assert len(tenant_runs(fleet, tenant)) == len(finished), tenant
        assert [t.result for t in finished] == ["ok"] * len(finished), (tenant, mine)
        assert all(t.reason == "due" for t in mine)
        # never two at once
        spans = sorted((t.started_at, t.finished_at) for t in finished)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start, (tenant, spans)
        # the steady schedule: every turn due since onboarding came round one interval
        # after the one before, none skipped up to the end, each started within its interval
        steady = [t for t in mine if t.due_at > onboarded]
        assert len(steady) >= WATCH // EVERY - 1, (tenant, len(steady))
        dues = [t.due_at for t in steady] + [upcoming[tenant]]
        for earlier, later in itertools.pairwise(dues):
            assert later - earlier == every, (tenant, dues)
        assert upcoming[tenant] > stopped - timedelta(seconds=2), (tenant, upcoming[tenant])
        for turn in steady:
            if turn.started_at is not None:
                assert turn.started_at - turn.due_at < every, (tenant, turn)
