"""Finding connectors by entry point: a broken plugin is reported and breaks nothing else."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pluggy
import pytest
from click.testing import CliRunner
from stevedore import ExtensionManager, _cache

from syncbridge import hookspecs
from syncbridge.cli import main
from syncbridge.describe import ConnectorInfo
from syncbridge.errors import ConfigError
from syncbridge.plugins import ConnectorEntry, list_connectors, load_connector


@pytest.fixture(autouse=True)
def fresh_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget entry points stevedore already listed in this process (it keeps them per
    namespace for the process lifetime), and keep its on-disk cache out of ~/.cache."""
    monkeypatch.setattr(ExtensionManager, "ENTRY_POINT_CACHE", {})
    cache = _cache.Cache(cache_dir=str(tmp_path / "stevedore-cache"))
    monkeypatch.setattr(_cache, "get_group_all", cache.get_group_all)
    monkeypatch.delenv("SYNCBRIDGE_PLUGINS", raising=False)


@pytest.fixture
def broken_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed distribution whose connector module does not exist."""
    site = tmp_path / "site"
    dist_info = site / "syncbridge_broken_xyz-1.2.3.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: syncbridge-broken-xyz\nVersion: 1.2.3\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(
        "[syncbridge.connectors]\nbroken = broken_mod_xyz:nothing\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    return site


def by_name(entries: list[ConnectorEntry]) -> dict[str, ConnectorEntry]:
    return {entry.name: entry for entry in entries}


def test_the_sql_connector_is_listed_with_its_info() -> None:
    entries = by_name(list_connectors())
    sql = entries["sql"]
    assert sql.error is None
    assert sql.distribution == "syncbridge-sql"
    assert sql.version is not None and re.fullmatch(r"\d+\.\d+.*", sql.version)
    assert isinstance(sql.info, ConnectorInfo)
    assert (sql.info.name, sql.info.title, sql.info.uses_http) == ("sql", "SQL database", False)
    assert "company" in sql.info.entities
    assert sql.plugin is load_connector("sql")


def test_a_broken_plugin_is_listed_with_its_error_and_breaks_nothing(broken_plugin: Path) -> None:
    entries = list_connectors()
    assert [e.name for e in entries] == sorted(e.name for e in entries)
    named = by_name(entries)
    broken = named["broken"]
    assert broken.error == "ModuleNotFoundError: No module named 'broken_mod_xyz'"
    assert (broken.distribution, broken.version) == ("syncbridge-broken-xyz", "1.2.3")
    assert broken.info is None and broken.plugin is None
    assert named["sql"].error is None
    assert named["sql"].info is not None and named["sql"].info.name == "sql"
    with pytest.raises(ConfigError) as caught:
        load_connector("broken")
    assert str(caught.value) == (
        "connector 'broken' is installed but failed to load: ModuleNotFoundError: No module "
        "named 'broken_mod_xyz'"
    )
    assert load_connector("sql") is named["sql"].plugin


def test_syncbridge_plugins_limits_what_is_loaded(
    broken_plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCBRIDGE_PLUGINS", " sql , ")
    entries = list_connectors()
    assert [(e.name, e.error) for e in entries] == [("sql", None)]
    with pytest.raises(ConfigError) as caught:
        load_connector("broken")  # not allowed: never imported, so unknown
    assert str(caught.value) == (
        "no connector named 'broken' is installed (installed: sql); pip install syncbridge-broken"
    )


def test_an_unknown_connector_names_the_installed_ones() -> None:
    installed = ", ".join(sorted(e.name for e in list_connectors() if e.error is None))
    assert "sql" in installed.split(", ")
    with pytest.raises(ConfigError) as caught:
        load_connector("nope")
    assert str(caught.value) == (
        f"no connector named 'nope' is installed (installed: {installed}); "
        "pip install syncbridge-nope"
    )


def test_the_connectors_command_lists_the_broken_one_too(broken_plugin: Path) -> None:
    result = CliRunner().invoke(main, ["connectors", "--json"])
    assert result.exit_code == 0, result.output
    listed = {item["name"]: item for item in json.loads(result.stdout)}
    assert listed["broken"] == {
        "name": "broken",
        "distribution": "syncbridge-broken-xyz",
        "version": "1.2.3",
        "error": "ModuleNotFoundError: No module named 'broken_mod_xyz'",
    }
    sql = listed["sql"]
    assert sql["error"] is None
    assert sql["title"] == "SQL database"
    assert "read" in sql["entities"]["company"] and "create" in sql["entities"]["company"]
    assert sql["rate_limits"] == []

    table = CliRunner().invoke(main, ["connectors"])
    assert table.exit_code == 0, table.output
    rows = table_rows(table.stdout)
    assert rows["broken"] == [
        "1.2.3",
        "",
        "broken: ModuleNotFoundError: No module named 'broken_mod_xyz'",
    ]
    assert rows["sql"][0] == sql["version"]
    assert rows["sql"][1].startswith("vat_rate (read, incremental, create, update, delete, ")
    assert rows["sql"][2] == "ok"


def table_rows(text: str) -> dict[str, list[str]]:
    """The body rows of a rich table, keyed by the first cell; wrapped cells joined."""
    rows: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if cells[0]:
            current = rows.setdefault(cells[0], [[] for _ in cells[1:]])
        assert current is not None
        for parts, cell in zip(current, cells[1:], strict=True):
            if cell:
                parts.append(cell)
    return {name: [" ".join(parts) for parts in cells] for name, cells in rows.items()}


# -- the hook contract ------------------------------------------------------------------------
HOOKS = list(hookspecs.hook_names())


def test_every_hook_name_is_a_firstresult_hookspec() -> None:
    assert HOOKS == [
        "describe",
        "configure",
        "auth",
        "oauth",
        "check",
        "fetch",
        "upsert",
        "lookup",
        "delete",
        "map",
        "webhook",
        "subscribe",
    ]
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for name in HOOKS:
        caller = getattr(manager.hook, name)
        assert caller.spec is not None, name
        assert caller.spec.opts["firstresult"] is True, name
    specced = {
        name
        for name, value in vars(hookspecs).items()
        if callable(value) and hasattr(value, f"{hookspecs.PROJECT}_spec")
    }
    assert specced == set(HOOKS)


def undocumented(name: str) -> list[str]:
    """Parameters of hook ``name`` its docstring neither documents nor mentions."""
    function = getattr(hookspecs, name)
    doc = inspect.getdoc(function) or ""
    return [
        parameter
        for parameter in inspect.signature(function).parameters
        if f":param {parameter}:" not in doc and not re.search(rf"\b{re.escape(parameter)}\b", doc)
    ]


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_documents_each_parameter(name: str) -> None:
    assert inspect.getdoc(getattr(hookspecs, name)), f"{name} has no docstring"
    assert undocumented(name) == [], f"{name}() docstring does not mention {undocumented(name)}"
