"""Stored OAuth credentials seen from the CLI, with the QuickBooks emulator over HTTP: the
advice for a wrong client secret, the key that encrypts the tokens, and what happens
without it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from emulated import emulated

from syncbridge.cli import main
from syncbridge.emulator.config import connection_toml
from syncbridge.state.cipher import KEY_ENV, MAKE_KEY


@pytest.fixture
def qbo() -> Iterator[dict[str, Any]]:
    """The QuickBooks emulator's settings, as `emulate --print-settings` gives them, minus
    the access token: the first request then exchanges the refresh token, with the app's
    client id and secret."""
    with emulated("quickbooks") as (emulator, url):
        settings = dict(emulator.settings_for(url))
        settings.pop("access_token")
        yield settings


def config_with(folder: Path, settings: dict[str, Any]) -> Path:
    config = folder / "syncbridge.toml"
    config.write_text(
        '[state]\nurl = "sqlite:///state.db"\n' + connection_toml("qbo", "quickbooks", settings),
        encoding="utf-8",
    )
    return config


def cli(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-c", str(config), *args])


def test_a_wrong_client_secret_is_named_not_blamed_on_the_refresh_token(
    tmp_path: Path, qbo: dict[str, Any]
) -> None:
    config = config_with(tmp_path, {**qbo, "client_secret": "Wr0ng-s3cret"})
    result = cli(config, "check")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "● qbo: failing — qbo: the token endpoint refused the app's client_id and "
        "client_secret (invalid_client: client authentication failed); check them in "
        "[connections.qbo.settings] against the app's developer console"
    )
    assert "syncbridge auth" not in result.output  # re-authorising cannot fix the secret
    assert "Wr0ng-s3cret" not in result.output


def test_tokens_are_stored_encrypted_and_work(tmp_path: Path, qbo: dict[str, Any]) -> None:
    config = config_with(tmp_path, qbo)
    result = cli(config, "check")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "state.db") as db:
        [(stored,)] = db.execute("SELECT data FROM credential WHERE connection = 'qbo'")
    assert stored.startswith("fernet:")
    assert qbo["refresh_token"] not in stored and "realmId" not in stored
    assert cli(config, "check").exit_code == 0  # read back, refreshed tokens included


def test_without_the_key_oauth_commands_say_how_to_make_one(
    tmp_path: Path, qbo: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    config = config_with(tmp_path, qbo)
    missing = (
        "state.credentials: stored credentials (OAuth tokens) are encrypted, and "
        f"{KEY_ENV} is not set; make a key with {MAKE_KEY}, keep it in a secret store and "
        f'export it as {KEY_ENV} (or set [state] credentials = "plain" to store them '
        "unencrypted)"
    )
    check = cli(config, "check")
    assert check.exit_code == 1
    assert check.stdout.splitlines()[0] == f"● qbo: failing — {missing}"

    auth = cli(config, "auth", "qbo", "--no-browser", "--timeout", "1")
    assert auth.exit_code == 2
    assert auth.stderr == f"config error: {missing}\n"  # before any consent page
    assert auth.stdout == ""

    status = cli(config, "status")  # nothing else needs the key
    assert status.exit_code == 0, status.output
