"""``syncbridge emulate``: a real process serving a real port, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
from click.testing import CliRunner

from syncbridge.cli import main
from syncbridge.emulator.config import connection_toml

HERE = Path(__file__).parent


def start_emulate(*args: str) -> subprocess.Popen[str]:
    path = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.Popen(
        [sys.executable, "-c", "from syncbridge.cli import main; main()", "emulate", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def test_emulate_serves_prints_settings_and_stops_cleanly_on_sigterm() -> None:
    """With --print-settings, stdout is exactly the TOML block and ends (EOF) once the
    server accepts connections: ``> conn.toml`` is a valid file, a pipe read to its end is
    the whole block. The ``listening on`` line goes to stderr."""
    process = start_emulate("notes_api:create_app", "--port", "0", "--records", "4",
                            "--print-settings", "--no-rate-limits")
    try:
        assert process.stdout is not None and process.stderr is not None
        block = process.stdout.read()  # returns at EOF: the emulator closed its stdout
        listening = process.stderr.readline()
        assert listening.startswith("listening on "), listening
        url = listening.removeprefix("listening on ").strip()
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        assert block.startswith("[connections.notes]\n") and "listening" not in block

        config = tomllib.loads(block)
        connection = config["connections"]["notes"]
        assert connection["connector"] == "notes"
        settings = connection["settings"]
        assert settings["base_url"] == url

        response = httpx.get(f"{url}/contacts", headers={"X-Api-Key": settings["api_key"]})
        assert response.status_code == 200
        assert response.json()["total"] == 4
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
    assert code == 0, process.stderr.read()  # type: ignore[union-attr]


def test_emulate_serves_corrupt_answers_and_a_delayed_429_burst() -> None:
    """The fault kinds the contract kit's fault check uses can be served by hand too."""
    process = start_emulate("notes_api:create_app", "--port", "0", "--print-settings",
                            "--no-rate-limits", "--corrupt-rate", "1", "--corrupt-kind",
                            "html_502", "--burst-429", "1", "--burst-429-after", "1",
                            "--retry-after", "7")
    try:
        assert process.stdout is not None
        settings = tomllib.loads(process.stdout.read())["connections"]["notes"]["settings"]
        headers = {"X-Api-Key": settings["api_key"]}
        first = httpx.get(f"{settings['base_url']}/contacts", headers=headers)
        second = httpx.get(f"{settings['base_url']}/contacts", headers=headers)
        assert (first.status_code, first.text.lstrip()[:9].lower()) == (502, "<!doctype")
        assert (second.status_code, second.headers["retry-after"]) == (429, "7")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def test_emulate_without_print_settings_says_where_it_listens_on_stdout() -> None:
    process = start_emulate("notes_api:create_app", "--port", "0", "--no-rate-limits")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.removeprefix("listening on ").strip()
        assert httpx.get(f"{url}/contacts").status_code == 401  # served, and wants its key
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
    assert code == 0, process.stderr.read()  # type: ignore[union-attr]


def test_an_unknown_system_is_a_usage_error_that_names_it() -> None:
    result = CliRunner().invoke(main, ["emulate", "no-such-system"])
    assert result.exit_code == 2
    assert "no-such-system" in result.output and "installed" in result.output


def test_a_bad_factory_path_and_bad_options_are_usage_errors() -> None:
    result = CliRunner().invoke(main, ["emulate", "no_such_module:create_app"])
    assert result.exit_code == 2 and "no_such_module" in result.output
    result = CliRunner().invoke(main, ["emulate", "x", "--error-rate", "2"])
    assert result.exit_code == 2 and "--error-rate" in result.output


def test_connection_toml_is_valid_toml() -> None:
    settings = {"base_url": "http://127.0.0.1:1", "key": 'quo"te\\ \x7f ü', "n": 3, "x": 0.5,
                "on": True, "ids": [1, 2], "nested": {"a b": "c"}}
    parsed = tomllib.loads(connection_toml("my conn", "acme", settings))
    assert parsed == {"connections": {"my conn": {"connector": "acme", "settings": settings}}}
