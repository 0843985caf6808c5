"""``syncbridge.config.load``, connector settings and the CLI's handling of config errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncbridge.cli import main
from syncbridge.config import load
from syncbridge.errors import ConfigError
from syncbridge.workspace import Workspace
from syncbridge_sql.settings import SqlSettings

SQL_PAIR = """
[connections.a]
connector = "sql"
settings = {{ url = "sqlite:///{folder}/a.db" }}
[connections.b]
connector = "sql"
settings = {{ url = "sqlite:///{folder}/b.db" }}
[syncs.main]
left = "a"
right = "b"
[syncs.main.entities.company]
"""


SQL_KEYS = ", ".join(sorted(SqlSettings.model_fields))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_config_file_says_where_it_looked(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load(missing)
    assert str(caught.value) == f"no config file at {missing}; `syncbridge init` writes one"


def test_without_a_path_the_default_file_is_looked_for_and_c_is_suggested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load()
    assert str(caught.value) == (
        "no config file at syncbridge.toml (or pass -c PATH); `syncbridge init` writes one"
    )
    write(tmp_path / "syncbridge.toml", '[connections.a]\nconnector = "sql"\n')
    assert list(load().connections) == ["a"]


def test_a_relative_sqlite_state_url_becomes_absolute_next_to_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = write(
        tmp_path / "conf" / "syncbridge.toml", '[state]\nurl = "sqlite:///var/state.db"\n'
    )
    monkeypatch.chdir(tmp_path)  # the config is found by a relative path, too
    config = load(Path("conf") / "syncbridge.toml")
    assert config.state.url == f"sqlite:///{tmp_path.resolve() / 'conf' / 'var' / 'state.db'}"
    assert load(config_file).state.url == config.state.url


def test_the_default_state_file_lives_next_to_the_config(tmp_path: Path) -> None:
    config = load(write(tmp_path / "x" / "sb.toml", ""))
    assert config.state.url == f"sqlite:///{tmp_path.resolve() / 'x' / 'syncbridge-state.db'}"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////var/lib/syncbridge/state.db",
        "sqlite:///:memory:",
        "postgresql+psycopg://sync@db/state",
    ],
)
def test_absolute_memory_and_server_state_urls_are_kept(tmp_path: Path, url: str) -> None:
    config = load(write(tmp_path / "syncbridge.toml", f'[state]\nurl = "{url}"\n'))
    assert config.state.url == url


def test_load_substitutes_variables_from_the_given_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path / "syncbridge.toml",
        '[connections.a]\nconnector = "sql"\nsettings = { url = "${A_URL}" }\n',
    )
    config = load(path, env={"A_URL": "sqlite:///a.db"})
    assert config.connections["a"].settings == {"url": "sqlite:///a.db"}
    with pytest.raises(ConfigError) as caught:
        load(path, env={})
    assert str(caught.value) == (
        "connections.a.settings.url: environment variable A_URL is not set; export it or put "
        "the value in the file"
    )


def test_invalid_toml_names_the_file_that_was_read(tmp_path: Path) -> None:
    text = "[syncs.main\n"
    path = write(tmp_path / "other.toml", text)
    with pytest.raises(tomllib.TOMLDecodeError) as parser:
        tomllib.loads(text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value) == f"{path} is not valid TOML: {parser.value}"


def test_the_cli_exits_2_with_the_config_error_on_stderr(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.toml", SQL_PAIR.format(folder=tmp_path) + 'priority = "middle"\n')
    result = CliRunner().invoke(main, ["-c", str(bad), "status"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "config error: syncs.main.entities.company.priority: 'middle' is not allowed; "
        "input should be 'left' or 'right'\n"
    )


def test_the_cli_exits_2_when_the_config_file_is_missing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    result = CliRunner().invoke(main, ["-c", str(missing), "run"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"config error: no config file at {missing}; `syncbridge init` writes one\n"
    )


def test_config_errors_with_brackets_reach_the_terminal_intact(tmp_path: Path) -> None:
    """Messages are text, not console markup: ``[syncs.<name>]`` and ``match[0]`` survive."""
    no_sync = write(
        tmp_path / "nosync.toml",
        f'[connections.a]\nconnector = "sql"\nsettings = {{ url = "sqlite:///{tmp_path}/a.db" }}\n',
    )
    result = CliRunner().invoke(main, ["-c", str(no_sync), "run"])
    assert result.exit_code == 2
    assert result.stderr == (
        "config error: syncs: the config defines no sync; add a [syncs.<name>] table\n"
    )

    bad_match = write(tmp_path / "match.toml", SQL_PAIR.format(folder=tmp_path) + "match = [[]]\n")
    result = CliRunner().invoke(main, ["-c", str(bad_match), "plan"])
    assert result.exit_code == 2
    assert result.stderr == (
        "config error: syncs.main.entities.company.match[0]: an empty key tuple matches nothing\n"
    )


def test_connector_settings_are_validated_by_the_connector(tmp_path: Path) -> None:
    text = SQL_PAIR.format(folder=tmp_path).replace(
        'settings = { url = "sqlite:///' + str(tmp_path) + '/b.db" }',
        'settings = { url = "sqlite:///' + str(tmp_path) + '/b.db", bogus = 1 }',
    )
    path = write(tmp_path / "syncbridge.toml", text + '[connections.c]\nconnector = "sql"\n')
    with Workspace.load(path) as workspace:
        settings = workspace.connection("a").settings
        assert isinstance(settings, SqlSettings)
        assert settings.url.get_secret_value() == f"sqlite:///{tmp_path}/a.db"
        with pytest.raises(ConfigError) as extra:
            workspace.connection("b")
        assert str(extra.value) == (
            f"connections.b.settings.bogus: unknown setting (settings allowed here: {SQL_KEYS})"
        )
        with pytest.raises(ConfigError) as missing:
            workspace.connection("c")
        assert str(missing.value) == "connections.c.settings.url: required setting is missing"
        with pytest.raises(ConfigError) as bad_sync:
            workspace.sync_connections("main")
        assert str(bad_sync.value) == extra.value.args[0]


def test_the_cli_reports_bad_connector_settings_as_a_config_error(tmp_path: Path) -> None:
    """A misspelt setting is named with its path, the closest valid name and all of them,
    in syncbridge's words rather than pydantic's ("Extra inputs are not permitted")."""
    text = SQL_PAIR.format(folder=tmp_path).replace('/a.db" }', '/a.db", tabels = {} }')
    path = write(tmp_path / "syncbridge.toml", text)
    result = CliRunner().invoke(main, ["-c", str(path), "log", "a"])
    assert result.exit_code == 2
    assert result.stderr == (
        "config error: connections.a.settings.tabels: unknown setting; did you mean "
        f"'tables'? (settings allowed here: {SQL_KEYS})\n"
    )


def test_a_bad_setting_value_is_never_echoed(tmp_path: Path) -> None:
    """Settings hold secrets: a wrong value is described, not quoted."""
    text = SQL_PAIR.format(folder=tmp_path).replace(
        '/a.db" }', '/a.db", key_column = "S3cret-Value", batch_size = "S3cret-Value" }'
    )
    path = write(tmp_path / "syncbridge.toml", text)
    result = CliRunner().invoke(main, ["-c", str(path), "log", "a"])
    assert result.exit_code == 2
    assert result.stderr == (
        "config error: connections.a.settings.batch_size: Input should be a valid integer, "
        "unable to parse string as an integer\n"
    )


def test_an_unknown_connector_names_the_installed_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "syncbridge.toml", '[connections.a]\nconnector = "acme"\n')
    with Workspace.load(path) as workspace, pytest.raises(ConfigError) as caught:
        workspace.connection("a")
    assert str(caught.value).startswith("no connector named 'acme' is installed (installed: ")
    assert "sql" in str(caught.value).split("(installed: ")[1].split(")")[0].split(", ")
    assert str(caught.value).endswith("); pip install syncbridge-acme")


def test_a_misspelt_connector_is_told_the_installed_name_not_a_package_to_install(
    tmp_path: Path,
) -> None:
    """``quickboks`` is a typo of an installed connector: installing
    ``syncbridge-quickboks`` (which anyone could publish) would be the wrong advice."""
    path = write(tmp_path / "syncbridge.toml", '[connections.a]\nconnector = "sqll"\n')
    with Workspace.load(path) as workspace, pytest.raises(ConfigError) as caught:
        workspace.connection("a")
    message = str(caught.value)
    assert message.startswith("no connector named 'sqll' is installed; did you mean 'sql'? ")
    assert "pip install" not in message and "syncbridge-sqll" not in message


def test_unknown_connection_and_sync_names_list_the_defined_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "syncbridge.toml", SQL_PAIR.format(folder=tmp_path))
    with Workspace.load(path) as workspace:
        with pytest.raises(ConfigError) as connection:
            workspace.connection("nope")
        assert str(connection.value) == "no connection named 'nope' (connections: a, b)"
        with pytest.raises(ConfigError) as sync:
            workspace.sync_connections("nope")
        assert str(sync.value) == "--sync: no sync named 'nope' (syncs: main)"
        sides = workspace.sync_connections("main")
        assert {side: conn.name for side, conn in sides.items()} == {"left": "a", "right": "b"}
