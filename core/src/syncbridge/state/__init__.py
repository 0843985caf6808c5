"""The state store: links, snapshots, cursors, outbox, runs, request log, credentials."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select

from syncbridge.http.requestlog import LoggedRequest, RequestLogSink
from syncbridge.state.store import create_state_engine, migrate
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

    def close(self) -> None:
        self.engine.dispose()

    def credentials(self, connection: str) -> StoredCredentials:
        return StoredCredentials(self, connection)

    def request_log(self, connection: str) -> RequestLogSink:
        """A sink keeping the last ``REQUEST_LOG_SIZE`` requests of ``connection``."""
        log_table = table(RequestLog)

        def sink(entry: LoggedRequest) -> None:
            with self.engine.begin() as db:
                db.execute(
                    insert(log_table).values(
                        connection=connection,
                        at=entry.at,
                        method=entry.method,
                        url=entry.url,
                        status=entry.status,
                        duration_ms=entry.duration_ms,
                        error=entry.error,
                    )
                )
                cutoff = db.execute(
                    select(log_table.c.id)
                    .where(log_table.c.connection == connection)
                    .order_by(log_table.c.id.desc())
                    .offset(REQUEST_LOG_SIZE)
                    .limit(1)
                ).scalar()
                if cutoff is not None:
                    db.execute(
                        delete(log_table).where(
                            log_table.c.connection == connection, log_table.c.id <= cutoff
                        )
                    )

        return sink

    def recent_requests(self, connection: str, limit: int = REQUEST_LOG_SIZE) -> list[Any]:
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
