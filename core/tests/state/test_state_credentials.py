"""Stored credentials at rest: encrypted with the key from the environment, a clear error
without it, plain only when the configuration asks, and plain rows encrypted once the key
is there. Rows are read back raw from the database (SQLite file and PostgreSQL), because
what matters is what someone holding a copy of the state store can read."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from syncbridge.errors import ConfigError
from syncbridge.state import StateStore, encrypt_rows
from syncbridge.state.cipher import KEY_ENV, MAKE_KEY
from syncbridge.state.tables import Credential, table
from syncbridge.workspace import Workspace

TOKENS = {"access_token": "AcCeSs-1234", "refresh_token": "ReFrEsH-5678", "realmId": "9130"}
MISSING_KEY = (
    "state.credentials: stored credentials (OAuth tokens) are encrypted, and "
    f"SYNCBRIDGE_CREDENTIALS_KEY is not set; make a key with {MAKE_KEY}, keep it in a secret "
    "store and export it as SYNCBRIDGE_CREDENTIALS_KEY (or set [state] credentials = "
    '"plain" to store them unencrypted)'
)


def raw_rows(store: StateStore) -> dict[str, str]:
    creds = table(Credential)
    with store.engine.connect() as db:
        return {row.connection: row.data for row in db.execute(select(creds))}


def test_credentials_are_encrypted_at_rest_by_default(state_url: str) -> None:
    store = StateStore(state_url)
    try:
        store.credentials("qbo").save(TOKENS)
        [stored] = raw_rows(store).values()
        assert stored.startswith("fernet:")
        for secret in TOKENS.values():
            assert secret not in stored
        assert store.credentials("qbo").load() == TOKENS
    finally:
        store.close()


def test_without_the_key_credentials_fail_clearly_and_nothing_else_does(
    state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    store = StateStore(state_url)  # opening needs no key: most connections store nothing
    try:
        for use in (lambda: store.credentials("qbo").load(),
                    lambda: store.credentials("qbo").save(TOKENS)):
            with pytest.raises(ConfigError) as caught:
                use()
            assert str(caught.value) == MISSING_KEY
        assert raw_rows(store) == {}
    finally:
        store.close()


def test_plain_storage_only_when_asked_and_encrypted_once_the_key_is_there(
    state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written in plain (by choice, or before encryption existed) is encrypted in
    place the first time it is opened with the key, and reads the same afterwards."""
    monkeypatch.delenv(KEY_ENV)
    plain = StateStore(state_url, credentials="plain")
    try:
        plain.credentials("qbo").save(TOKENS)
        plain.credentials("b24").save({"refresh_token": "b24-R3fresh"})
        assert raw_rows(plain)["qbo"].startswith('{"access_token": "AcCeSs-1234"')
    finally:
        plain.close()

    monkeypatch.setenv(KEY_ENV, Fernet.generate_key().decode())
    encrypted = StateStore(state_url)
    try:
        rows = raw_rows(encrypted)
        assert sorted(rows) == ["b24", "qbo"]
        assert all(text.startswith("fernet:") for text in rows.values())
        assert "b24-R3fresh" not in rows["b24"]
        assert encrypted.credentials("qbo").load() == TOKENS
        assert encrypted.credentials("b24").load() == {"refresh_token": "b24-R3fresh"}
        assert encrypted.cipher is not None
        assert encrypt_rows(encrypted.engine, encrypted.cipher) == 0  # nothing left to do
    finally:
        encrypted.close()


def test_keys_rotate_and_a_wrong_or_malformed_key_is_named(
    state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(KEY_ENV, old)
    store = StateStore(state_url)
    store.credentials("qbo").save(TOKENS)
    before = raw_rows(store)["qbo"]
    store.close()

    monkeypatch.setenv(KEY_ENV, f"{new}, {old}")  # newest first: opening re-encrypts
    rotated = StateStore(state_url)
    assert raw_rows(rotated)["qbo"] != before
    rotated.close()

    monkeypatch.setenv(KEY_ENV, new)  # the old key can go
    alone = StateStore(state_url)
    try:
        assert alone.credentials("qbo").load() == TOKENS
    finally:
        alone.close()

    monkeypatch.setenv(KEY_ENV, old)  # gone: the rows are the new key's now
    wrong = StateStore(state_url)
    try:
        with pytest.raises(ConfigError) as caught:
            wrong.credentials("qbo").load()
        assert str(caught.value) == (
            "state.credentials: the stored credentials of connection 'qbo' do not decrypt "
            f"with {KEY_ENV}: they were stored with another key; export that key too (keys "
            "are comma-separated, newest first) or run `syncbridge auth qbo` again"
        )
    finally:
        wrong.close()

    monkeypatch.setenv(KEY_ENV, "not-a-key-S3cret")
    with pytest.raises(ConfigError) as malformed:
        StateStore(state_url)
    assert str(malformed.value) == (
        f"{KEY_ENV} is not a Fernet key (32 url-safe base64-encoded bytes); make one with: "
        f"{MAKE_KEY}"
    )
    assert "S3cret" not in str(malformed.value)


def test_the_config_chooses_plain_storage(tmp_path: Path) -> None:
    config = tmp_path / "syncbridge.toml"
    config.write_text('[state]\nurl = "sqlite:///state.db"\ncredentials = "plain"\n')
    with Workspace.load(config) as workspace:
        workspace.store.credentials("qbo").save(TOKENS)
        assert raw_rows(workspace.store)["qbo"].startswith("{")
    config.write_text('[state]\ncredentials = "none"\n')
    with pytest.raises(ConfigError) as caught:
        Workspace.load(config)
    assert str(caught.value) == (
        "state.credentials: 'none' is not allowed; input should be 'encrypted' or 'plain'"
    )
