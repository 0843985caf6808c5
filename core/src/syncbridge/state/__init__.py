"""The state store: links, snapshots, cursors, outbox, runs, request log, credentials."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select

from syncbridge.http.requestlog import RequestLogSink
from syncbridge.state.requestlog import RequestLogWriter
from syncbridge.state.store import create_state_engine, migrate, sqlite_file
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
        creds = table(Credential)
        with self._store.engine.connect() as db:
            row = db.execute(
                select(creds.c.data).where(creds.c.connection == self._connection)
            ).first()
        return dict(json.loads(row[0])) if row else {}

    def save(self, data: dict[str, Any]) -> None:
        creds = table(Credential)
        with self._store.engine.begin() as db:
            db.execute(delete(creds).where(creds.c.connection == self._connection))
            db.execute(
                insert(creds).values(
                    connection=self._connection, data=json.dumps(data), updated_at=utcnow()
                )
            )

    def delete(self) -> None:
        creds = table(Credential)
        with self._store.engine.begin() as db:
            db.execute(delete(creds).where(creds.c.connection == self._connection))


class StateStore:
    """One state database, migrated to the current schema when opened."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_state_engine(url)
        migrate(self.engine)
        self._log_writers: list[RequestLogWriter] = []

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


__all__ = ["REQUEST_LOG_SIZE", "StateStore", "StoredCredentials", "migrate", "utcnow"]
