"""The stored request log: the last requests of each connection, written in batches.

Writing one row per request in its own transaction costs more than many requests to a fast
API; the writer buffers entries and writes them at most once a second (and when the store
closes or the log is read), keeping only the newest ``size`` rows per connection. A process
killed outright loses at most that last second of its log.

Only the thread that made the writer flushes it as requests go by; requests sent from other
threads (a sync's sending and fetching threads) are buffered, and the engine flushes them
from its own thread between its transactions (:meth:`Connection.flush_log`). On SQLite a
flush from a busy sending thread held the database's one write lock for as long as that
thread waited for the interpreter, and the engine's next commit slept in SQLite's busy
handler meanwhile: tens of milliseconds, twice a second.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from sqlalchemy import Engine, delete, insert, select

from syncbridge.http.requestlog import LoggedRequest
from syncbridge.state.tables import RequestLog, table

LOG = table(RequestLog)


class RequestLogWriter:
    """A :data:`~syncbridge.http.RequestLogSink` for one connection."""

    def __init__(self, engine: Engine, connection: str, size: int, interval: float = 1.0) -> None:
        self.engine, self.connection, self.size, self.interval = engine, connection, size, interval
        self._pending: deque[LoggedRequest] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._flushed = time.monotonic()
        self._owner = threading.get_ident()

    def __call__(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._pending.append(entry)
            due = time.monotonic() - self._flushed >= self.interval
        if due and threading.get_ident() == self._owner:
            self.flush()

    def flush_if_due(self) -> None:
        """Flush if the interval has passed since the last flush (from any thread)."""
        if time.monotonic() - self._flushed >= self.interval:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            entries, self._pending = list(self._pending), deque(maxlen=self.size)
            self._flushed = time.monotonic()
        if not entries:
            return
        with self.engine.begin() as db:
            db.execute(insert(LOG), [
                {"connection": self.connection, "at": e.at, "method": e.method, "url": e.url,
                 "status": e.status, "duration_ms": e.duration_ms, "error": e.error}
                for e in entries])
            cutoff = db.execute(
                select(LOG.c.id).where(LOG.c.connection == self.connection)
                .order_by(LOG.c.id.desc()).offset(self.size).limit(1)).scalar()
            if cutoff is not None:
                db.execute(delete(LOG).where(LOG.c.connection == self.connection,
                                             LOG.c.id <= cutoff))
