"""The fleet's parts on their own: its config, tenants, secrets, schemas and budgets."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from syncbridge.describe import RateLimit
from syncbridge.errors import ConfigError
from syncbridge.fleet.config import load_fleet
from syncbridge.fleet.tenants import Tenants, UnknownTenant
from syncbridge.http.ratelimit import RedisBudget, build_limiter
from syncbridge.state.tables import Run, table
from syncbridge.testing.servers import POSTGRES, REDIS, require
from tests.fleet.farm import drop_fleet

TENANT = """
[connections.left]
connector = "sql"
[connections.left.settings]
url = "sqlite:///left.db"
password = "${DB_PASSWORD}"

[connections.right]
connector = "sql"
[connections.right.settings]
url = "sqlite:///right.db"

[syncs.main]
left = "left"
right = "right"
[syncs.main.entities.company]
direction = "both"
every = "10m"
"""


def fleet_files(tmp_path: Path, state: str = POSTGRES.url, name: str = "syncbridge") -> Path:
    (tmp_path / "tenants").mkdir()
    (tmp_path / "fleet.toml").write_text(
        f'name = "{name}"\n[state]\nurl = "{state}"\n\n'
        '[tenants]\ndir = "tenants"\nsecrets_dir = "secrets"\n',
        encoding="utf-8",
    )
    return tmp_path / "fleet.toml"


def test_a_fleet_keeps_its_tenants_in_postgresql(tmp_path: Path) -> None:
    path = fleet_files(tmp_path, "sqlite:///state.db")
    with pytest.raises(ConfigError) as refused:
        load_fleet(path)
    assert "state.url: a fleet keeps its tenants in PostgreSQL, a schema each" in str(
        refused.value
    )


def test_no_fleet_config_names_the_option_and_the_guide(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_fleet(tmp_path / "nowhere.toml")
    assert str(refused.value) == (
        f"no fleet config at {tmp_path / 'nowhere.toml'}; pass --fleet PATH (or set "
        "SYNCBRIDGE_FLEET): see docs/guides/running-at-scale.md"
    )


def test_a_tenants_secrets_come_from_its_folder_before_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenants = Tenants(load_fleet(fleet_files(tmp_path)))
    (tmp_path / "tenants" / "acme.toml").write_text(TENANT, encoding="utf-8")
    (tmp_path / "tenants" / "globex.toml").write_text(TENANT, encoding="utf-8")
    (tmp_path / "secrets" / "acme").mkdir(parents=True)
    (tmp_path / "secrets" / "acme" / "DB_PASSWORD").write_text("acme-s3cret\n")
    monkeypatch.setenv("DB_PASSWORD", "from-the-environment")
    assert tenants.config("acme").connections["left"].settings["password"] == "acme-s3cret"
    assert (
        tenants.config("globex").connections["left"].settings["password"]
        == "from-the-environment"
    )
    monkeypatch.delenv("DB_PASSWORD")
    with pytest.raises(ConfigError) as missing:
        tenants.config("globex")
    assert str(missing.value).startswith(
        "tenant globex (globex.toml): connections.left.settings.password: environment "
        "variable DB_PASSWORD is not set"
    )


def test_a_tenant_file_is_refused_with_a_state_section_and_unknown_ids_are_unknown(
    tmp_path: Path,
) -> None:
    tenants = Tenants(load_fleet(fleet_files(tmp_path)))
    (tmp_path / "tenants" / "acme.toml").write_text(
        '[state]\nurl = "sqlite:///mine.db"\n' + TENANT.replace("${DB_PASSWORD}", "x"),
        encoding="utf-8",
    )
    (tmp_path / "tenants" / "Not-A-Tenant.toml").write_text(TENANT, encoding="utf-8")
    assert list(tenants.files()) == ["acme"]  # the other name cannot be a tenant id
    with pytest.raises(ConfigError) as refused:
        tenants.config("acme")
    assert str(refused.value) == (
        "tenant acme (acme.toml): [state] belongs in the fleet's config; a tenant's state "
        "is kept in the fleet's store"
    )
    with pytest.raises(UnknownTenant):
        tenants.config("nobody")
    with pytest.raises(ConfigError) as bad:
        tenants.config("../etc")
    assert "a tenant id is 1 to 40 lower-case letters" in str(bad.value)


@pytest.mark.postgres
def test_each_tenant_sees_only_its_own_schema(tmp_path: Path) -> None:
    require(POSTGRES)
    prefix = "p" + uuid.uuid4().hex[:8]
    tenants = Tenants(load_fleet(fleet_files(tmp_path, name=prefix)))
    one, two = "one", "two"
    runs = table(Run)
    try:
        first, second = tenants.store(one), tenants.store(two)
        try:
            with first.engine.begin() as db:
                db.execute(sa.insert(runs).values(sync="main", mode="run",
                                                  started_at=sa.func.now()))
                # even a hand-written statement names only this tenant's table
                assert db.exec_driver_sql("SELECT count(*) FROM run").scalar() == 1
            with second.engine.connect() as db:
                assert db.exec_driver_sql("SELECT count(*) FROM run").scalar() == 0
                assert db.exec_driver_sql("SELECT current_schema()").scalar() == (
                    f"{prefix}_tenant_two"
                )
        finally:
            first.close()
            second.close()
    finally:
        drop_fleet(prefix, [one, two])


@pytest.mark.redis
def test_a_shared_budget_keeps_a_share_of_each_window_from_bulk_runs() -> None:
    url = require(REDIS)
    key = "budget-test-" + uuid.uuid4().hex[:8]
    limits = [RateLimit(requests=8, seconds=1.0)]
    budget = RedisBudget(url, key, bulk_share=0.75)
    bulk = build_limiter(limits, budget=budget, key="x", priority="bulk")
    poll = build_limiter(limits, budget=budget, key="x", priority="poll")
    assert bulk is not None and poll is not None
    # bulk runs alone get six of the window's eight slots, at once
    started = time.monotonic()
    admitted = [bulk.try_acquire("x", blocking=False) for _ in range(8)]
    assert admitted == [True] * 6 + [False] * 2
    # a poll still finds the two slots kept for it, without waiting
    assert [poll.try_acquire("x", blocking=False) for _ in range(3)] == [True, True, False]
    assert time.monotonic() - started < 1.0
    import redis

    redis.Redis.from_url(url).delete(f"syncbridge:rate:{key}")
