"""`syncbridge init` writes a config that the other commands accept."""

from __future__ import annotations

import tomllib
from pathlib import Path

from click.testing import CliRunner

from syncbridge.cli import main


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
