"""The state store: links, snapshots, cursors, outbox, runs, request log, credentials.

Credentials are encrypted at rest unless the configuration opts out (see
:mod:`syncbridge.state.cipher`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from syncbridge.http.requestlog import RequestLogSink
from syncbridge.state.cipher import (
    Cipher,
    CredentialStorage,
    cipher_from_env,
    is_encrypted,
    missing_key,
)
from syncbridge.state.requestlog import RequestLogWriter
from syncbridge.state.store import StateStoreError, migrate, open_engine, sqlite_file
from syncbridge.state.tables import Credential, RequestLog, table

REQUEST_LOG_SIZE = 50


def utcnow() -> datetime:
    return datetime.now(UTC)


class StoredCredentials:
    """:class:`syncbridge.credentials.Credentials` kept in the state store."""

    def __init__(self, store: StateStore, connection: str) -> None:
        self._store = store
        self._connection = connection

    def load(self) -> dict[str, Any]:
        self._store.cipher_for_credentials()  # a missing key fails here, with or without a row
        cipher = self._store.cipher
        creds = table(Credential)
        with self._store.engine.connect() as db:
            row = db.execute(
                select(creds.c.data).where(creds.c.connection == self._connection)
            ).first()
        if row is None:
            return {}
        text = str(row[0])
        if not is_encrypted(text):
            return dict(json.loads(text))
        if cipher is None:
            raise missing_key()
        return cipher.decrypt(text, self._connection)

    def save(self, data: dict[str, Any]) -> None:
        cipher = self._store.cipher_for_credentials()
        text = json.dumps(data) if cipher is None else cipher.encrypt(data)
        creds = table(Credential)
        with self._store.engine.begin() as db:
            db.execute(delete(creds).where(creds.c.connection == self._connection))
            db.execute(
                insert(creds).values(connection=self._connection, data=text, updated_at=utcnow())
            )

    def delete(self) -> None:
        creds = table(Credential)
        with self._store.engine.begin() as db:
            db.execute(delete(creds).where(creds.c.connection == self._connection))


class StateStore:
    """One state database, migrated to the current schema when opened.

    ``schema`` names a tenant's schema in a PostgreSQL store shared by many tenants
    (:mod:`syncbridge.fleet`): the same tables, in a schema of its own.

    ``credentials`` says how connections' credentials are kept: ``"encrypted"`` (the
    default) under the key in ``$SYNCBRIDGE_CREDENTIALS_KEY``, or ``"plain"``. Opening an
    encrypted store with the key set encrypts the rows a plain one left behind, and
    re-encrypts every row under the first key when several are given.
    """

    def __init__(
        self,
        url: str,
        *,
        credentials: CredentialStorage = "encrypted",
        schema: str | None = None,
    ) -> None:
        self.url = url
        #: the tenant's schema in a PostgreSQL store holding many (None: the default one)
        self.schema = schema
        self.storage: CredentialStorage = credentials
        self.engine = open_engine(url, schema)
        self._log_writers: list[RequestLogWriter] = []
        #: the key(s) of $SYNCBRIDGE_CREDENTIALS_KEY (also read by a plain store, for
        #: rows encrypted before it was switched to plain)
        self.cipher = cipher_from_env()
        if credentials == "encrypted" and self.cipher is not None:
            encrypt_rows(self.engine, self.cipher)

    def cipher_for_credentials(self) -> Cipher | None:
        """The cipher new credentials are written with (None: plain, as configured);
        a missing key is a ConfigError when the store is to encrypt them."""
        if self.storage == "plain":
            return None
        if self.cipher is None:
            raise missing_key()
        return self.cipher

    def close(self) -> None:
        for writer in self._log_writers:
            writer.flush()
        self.engine.dispose()

    @property
    def rate_budget(self) -> Path | None:
        """The file where connections count their requests against the APIs' rate limits,
        shared by every process using this store (see :mod:`syncbridge.http.ratelimit`):
        beside a SQLite state file, None for any other store."""
        database = sqlite_file(self.engine.url)
        return None if database is None else Path(f"{database}.rates")

    def credentials(self, connection: str) -> StoredCredentials:
        return StoredCredentials(self, connection)

    def request_log(self, connection: str) -> RequestLogSink:
        """A sink keeping the last ``REQUEST_LOG_SIZE`` requests of ``connection``."""
        writer = RequestLogWriter(self.engine, connection, REQUEST_LOG_SIZE)
        self._log_writers.append(writer)
        return writer

    def recent_requests(self, connection: str, limit: int = REQUEST_LOG_SIZE) -> list[Any]:
        for writer in self._log_writers:
            writer.flush()
        log_table = table(RequestLog)
        with self.engine.connect() as db:
            rows = db.execute(
                select(log_table)
                .where(log_table.c.connection == connection)
                .order_by(log_table.c.id.desc())
                .limit(limit)
            ).all()
        return list(reversed(rows))


def encrypt_rows(engine: Engine, cipher: Cipher) -> int:
    """Encrypt the plain credential rows (written before encryption, or with
    ``credentials = "plain"``), and with several keys re-encrypt the rest under the first;
    returns how many rows were rewritten.

    Not an alembic revision: a revision runs once, and the key may only be exported later;
    this runs whenever a store is opened with the key, and finds nothing to do once done.
    """
    creds = table(Credential)
    with engine.connect() as db:
        rows = db.execute(select(creds.c.connection, creds.c.data)).all()
    changed = []
    for connection, text in rows:
        if not is_encrypted(text):
            changed.append((connection, text, cipher.encrypt(dict(json.loads(text)))))
        elif cipher.keys > 1:
            changed.append((connection, text, cipher.rotate(text, connection)))
    written = 0
    with engine.begin() as db:
        for connection, old, new in changed:
            # only if still as read: another process may have saved a rotated refresh
            # token meanwhile, which must not be overwritten by the one read here
            written += db.execute(
                update(creds)
                .where(creds.c.connection == connection, creds.c.data == old)
                .values(data=new)
            ).rowcount
    return written


__all__ = [
    "REQUEST_LOG_SIZE",
    "StateStore",
    "StateStoreError",
    "StoredCredentials",
    "encrypt_rows",
    "migrate",
    "utcnow",
]
