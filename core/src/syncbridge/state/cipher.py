"""Encrypting stored credentials (OAuth tokens) with a key kept out of the state store.

The state database is the kind of file that ends up in backups, on shared PostgreSQL
servers and attached to support tickets; a refresh token in it is a standing login to the
customer's accounting system. So each credential row is encrypted with Fernet
(``cryptography``: AES-128-CBC with an HMAC-SHA256, the key never stored beside the data)
under the key in ``$SYNCBRIDGE_CREDENTIALS_KEY``:

* several keys may be given, comma-separated, newest first: the first encrypts, any of them
  decrypts, and opening the store re-encrypts every row under the first, so an old key can
  be dropped after one run (key rotation);
* without the key, reading or writing credentials is a :class:`~syncbridge.errors.ConfigError`
  that says how to make one; commands that need no credentials (a ``sql`` connection, a
  manually generated token) do not need it either;
* plain storage is only there when ``[state] credentials = "plain"`` asks for it.

A row says how it is stored: encrypted rows start with ``fernet:``, plain ones are the JSON
object itself, so a store written before encryption existed is read and then encrypted in
place (:func:`encrypt_plain_rows`).
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from syncbridge.errors import ConfigError

#: environment variable holding the Fernet key(s), comma-separated, newest first
KEY_ENV = "SYNCBRIDGE_CREDENTIALS_KEY"
#: how an encrypted row starts; a plain row is a JSON object and starts with "{"
PREFIX = "fernet:"

CredentialStorage = Literal["encrypted", "plain"]

#: how to make a key, as the error for a missing one says it
MAKE_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class Cipher:
    """The configured keys: encrypts with the first, decrypts with any."""

    def __init__(self, keys: list[str]) -> None:
        fernets = []
        for index, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.strip().encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                which = f"key {index} of {KEY_ENV}" if len(keys) > 1 else KEY_ENV
                raise ConfigError(
                    f"{which} is not a Fernet key (32 url-safe base64-encoded bytes); make "
                    f"one with: {MAKE_KEY}"
                ) from None
        self.keys = len(fernets)
        self._fernet = MultiFernet(fernets)

    def encrypt(self, data: dict[str, Any]) -> str:
        return PREFIX + self._fernet.encrypt(json.dumps(data).encode("utf-8")).decode("ascii")

    def decrypt(self, text: str, connection: str) -> dict[str, Any]:
        try:
            clear = self._fernet.decrypt(text.removeprefix(PREFIX).encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise ConfigError(
                f"state.credentials: the stored credentials of connection {connection!r} do "
                f"not decrypt with {KEY_ENV}: they were stored with another key; export that "
                f"key too (keys are comma-separated, newest first) or run `syncbridge auth "
                f"{connection}` again"
            ) from None
        return dict(json.loads(clear))

    def rotate(self, text: str, connection: str) -> str:
        """``text`` encrypted under the first key (it may have been under an older one)."""
        return self.encrypt(self.decrypt(text, connection))


def cipher_from_env(env: dict[str, str] | None = None) -> Cipher | None:
    """The cipher of ``$SYNCBRIDGE_CREDENTIALS_KEY``, None when it is not set."""
    raw = (os.environ if env is None else env).get(KEY_ENV, "")
    keys = [key for key in raw.split(",") if key.strip()]
    return Cipher(keys) if keys else None


def missing_key() -> ConfigError:
    return ConfigError(
        f"state.credentials: stored credentials (OAuth tokens) are encrypted, and {KEY_ENV} "
        f"is not set; make a key with {MAKE_KEY}, keep it in a secret store and export it as "
        f'{KEY_ENV} (or set [state] credentials = "plain" to store them unencrypted)'
    )


def is_encrypted(text: str) -> bool:
    return text.startswith(PREFIX)
