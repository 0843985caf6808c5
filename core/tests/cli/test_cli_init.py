"""`syncbridge init` writes a config that the other commands accept."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncbridge.cli import main
from syncbridge.cli.init import env_name
from syncbridge.emulator import EmulatorOptions
from syncbridge.plugins import describe_plugin, load_connector, load_emulators
from syncbridge.workspace import Workspace


def test_init_writes_a_valid_config_and_refuses_to_overwrite(tmp_path: Path) -> None:
    config = tmp_path / "syncbridge.toml"
    runner = CliRunner()
    first = runner.invoke(main, ["-c", str(config), "init"])
    assert first.exit_code == 0, first.output
    parsed = tomllib.loads(config.read_text())
    assert parsed["syncs"]["main"]["left"] == "sql_left"
    assert parsed["connections"]["sql_right"]["connector"] == "sql"
    plan = runner.invoke(main, ["-c", str(config), "plan", "-q"])
    assert plan.exit_code == 0, plan.output
    again = runner.invoke(main, ["-c", str(config), "init"])
    assert again.exit_code == 2
    assert "exists; pass --force to overwrite it" in again.output


INSTALLED_HTTP = ["fattureincloud", "quickbooks", "crmincloud", "bitrix24"]


@pytest.mark.parametrize("connector", INSTALLED_HTTP)
def test_init_writes_every_setting_the_connector_needs_secrets_as_placeholders(
    tmp_path: Path, connector: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The written settings are complete: with their variables exported (to the values the
    connector's emulator hands out) the connection validates; without, `plan` names the
    first variable to export. Secrets are only ever placeholders."""
    config = tmp_path / "syncbridge.toml"
    result = CliRunner().invoke(main, ["-c", str(config), "init", "--right", connector])
    assert result.exit_code == 0, result.output
    text = config.read_text()
    settings = tomllib.loads(text)["connections"][connector]["settings"]
    assert settings, f"no settings written for {connector}"
    model = describe_plugin(load_connector(connector)).settings
    for key, value in settings.items():
        assert value == f"${{{env_name(connector, key)}}}"
        description = model.model_fields[key].description
        assert f"# {description} — " in text, f"{key} has no comment"
        if "SecretStr" in str(model.model_fields[key].annotation):
            assert f"# {description} — a secret: export {env_name(connector, key)}\n" in text

    missing = CliRunner().invoke(main, ["-c", str(config), "check", connector])
    assert missing.exit_code == 2
    first = next(iter(settings))
    assert missing.stderr == (
        f"config error: connections.{connector}.settings.{first}: environment variable "
        f"{env_name(connector, first)} is not set; export it or put the value in the file\n"
    )

    emulator = load_emulators()[0][connector](EmulatorOptions(records=0))
    sample = emulator.settings_for("http://127.0.0.1:1")
    for key in settings:
        monkeypatch.setenv(env_name(connector, key), str(sample[key]))
    with Workspace.load(config) as workspace:
        workspace.connection(connector)  # validates: nothing required is missing


def test_init_with_a_misspelt_connector_suggests_the_installed_one(tmp_path: Path) -> None:
    config = tmp_path / "syncbridge.toml"
    result = CliRunner().invoke(main, ["-c", str(config), "init", "--right", "quickboks"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "config error: no connector named 'quickboks' is installed; did you mean 'quickbooks'? "
        "(installed: "
    )
    assert "pip install" not in result.output
    assert not config.exists()
