"""Every command answers ``--help``, and the group lists them all."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from syncbridge.cli import COMMANDS, main


def test_the_main_help_lists_every_command_and_the_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"], prog_name="syncbridge")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: syncbridge [OPTIONS] COMMAND [ARGS]...")
    assert (
        "Exit codes: 0 ok, 1 the run finished with failed records (or a system or the state "
        "store could not be reached), 2 usage or config error, 130 interrupted."
        in " ".join(result.stdout.split())
    )
    assert "-c, --config" in result.stdout
    assert "--debug" in result.stdout and "SYNCBRIDGE_DEBUG=1" in result.stdout
    listed = result.stdout.split("Commands:")[1].split()
    for name in COMMANDS:
        assert name in listed, name
    assert CliRunner().invoke(main, ["-h"], prog_name="syncbridge").stdout == result.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"], prog_name="syncbridge")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: syncbridge {name} [OPTIONS]")
    assert "--help" in result.stdout
    command = main.get_command(None, name)  # type: ignore[arg-type]
    assert command is not None and command.name == name
    summary = command.get_short_help_str(limit=200).split(";")[0].split(":")[0]
    assert summary and summary.rstrip(".") in " ".join(result.stdout.split())


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["frobnicate"], prog_name="syncbridge")
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.stderr
