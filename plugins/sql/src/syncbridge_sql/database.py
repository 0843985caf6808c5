"""One connection's database: the engine, the reflected tables and the write clock.

A :class:`Database` lives in the connection's resources (``client.resource``: the client of
a connector without HTTP is a :class:`~syncbridge.resources.ResourceHolder`), so it is made
once per connection and disposed with it; hooks never open engines of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, quote_plus

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from syncbridge.errors import ConnectorError
from syncbridge.rest.instants import TICK
from syncbridge_sql.schema import TableMap, reflect
from syncbridge_sql.settings import SqlSettings
from syncbridge_sql.timestamps import StampKind


def _truncate(value: datetime, step: timedelta) -> datetime:
    """``value`` down to a multiple of ``step`` (what a coarse column would keep of it)."""
    if step <= TICK:
        return value
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((value - epoch) // step) * step


def _sqlite_transactions(engine: sa.Engine) -> None:
    """Let SQLAlchemy, not pysqlite, emit BEGIN: pysqlite's own handling breaks SAVEPOINTs.

    This is SQLAlchemy's documented recipe; per-row savepoints are how one bad record in a
    batch fails alone while the others are written.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def _utc_sessions(engine: sa.Engine) -> None:
    """Pin every MySQL/MariaDB session to UTC.

    A ``TIMESTAMP`` column stores an instant and shows it in the session's time zone, which
    is the server's unless set: pinned, its values read as UTC wherever the server is and
    whatever zone its writers' sessions use. ``DATETIME`` columns are unaffected (they keep
    the wall time written, read in :attr:`SqlSettings.timezone`), except that a
    ``DEFAULT CURRENT_TIMESTAMP`` of a column the connector does not write is filled in UTC
    in the rows it inserts.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET time_zone = '+00:00'")
        finally:
            cursor.close()


def create_engine(settings: SqlSettings, scrub: Callable[[str], str] = str) -> sa.Engine:
    """The SQLAlchemy engine of ``settings.url``; errors name the URL without its password."""
    url = make_url(settings.url.get_secret_value())
    options: dict[str, Any] = {"pool_pre_ping": True}
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        # libpq waits forever for an unreachable host by default
        connect_args["connect_timeout"] = 10
    if connect_args:
        options["connect_args"] = connect_args
    try:
        engine = sa.create_engine(url, **options)
    except (ImportError, sa.exc.SQLAlchemyError) as error:
        raise ConnectorError(f"cannot use {settings.safe_url}: {scrub(str(error))}") from None
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
    elif url.get_backend_name() in ("mysql", "mariadb"):
        _utc_sessions(engine)
    return engine


def _newest(connection: sa.Connection, table: TableMap) -> datetime | None:
    """The newest modification time stored, as far as an index probe tells.

    ORDER BY ... LIMIT 1 rather than max(): one index probe, whatever the planner thinks of
    a table too young to have statistics. On SQLite the largest text and the largest number
    are probed (numbers sort below text there). With texts in several formats the largest
    need not be the latest instant: stamps are never earlier than the clock anyway, and a
    read ends with a cursor no later than its start (see
    :func:`syncbridge.rest.signpost_cursor`), so only future-dated rows are at stake, and
    those are read again until their time has come.
    """
    stamp = table.stamp
    if stamp is None:
        return None
    raw = stamp.raw
    probes = [raw >= "", raw < ""] if stamp.kind is StampKind.SQLITE else [raw.is_not(None)]
    newest: datetime | None = None
    for probe in probes:
        value = connection.execute(
            sa.select(raw).where(probe).order_by(raw.desc()).limit(1)
        ).scalar()
        if value is None:
            continue
        try:
            moment = stamp.reader.instants(value)[1]
        except ValueError:
            continue  # a read reports it, naming the row; a write need not fail for it
        newest = moment if newest is None else max(newest, moment)
    return newest


class Database:
    """The engine of one connection plus what is learnt about its tables."""

    def __init__(self, settings: SqlSettings) -> None:
        self.settings = settings
        password = settings.password or ""
        raw = settings.url.get_secret_value()
        self._secrets = sorted(
            {s for s in (raw, password, quote_plus(password), quote(password, safe="")) if s},
            key=len,
            reverse=True,
        )
        self.engine = create_engine(settings, self.scrub)
        self._tables: dict[str, TableMap] = {}
        self._lock = threading.Lock()
        #: the last stamp written per entity, so stamps keep increasing within a connection
        self._last_stamp: dict[str, datetime] = {}

    def dispose(self) -> None:
        """Close the pool (the resource holder calls this when the connection closes)."""
        self.engine.dispose()

    # -- messages -----------------------------------------------------------------------
    def scrub(self, text: str) -> str:
        """``text`` with the URL and its password masked, whatever the driver put in it."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def message(self, error: BaseException) -> str:
        """The database's own message for ``error``, on one line and without secrets.

        SQLAlchemy's text adds the statement and every parameter of a 500-row batch; the
        driver's message (``NOT NULL constraint failed: CUSTOMERS.TOWN``) is what a person
        needs, and what the engine shows as the record's error.
        """
        original = getattr(error, "orig", None) or error
        args: tuple[Any, ...] = tuple(getattr(original, "args", ()))
        if len(args) >= 2 and isinstance(args[0], int) and isinstance(args[1], str):
            text = f"{args[1]} (error {args[0]})"  # MySQL drivers: (code, message)
        else:
            text = str(original) or type(original).__name__
        return self.scrub(" ".join(line.strip() for line in text.splitlines() if line.strip()))

    def error(self, doing: str, error: BaseException) -> ConnectorError:
        """A ConnectorError for a failure that stops the whole entity."""
        return ConnectorError(f"{doing} on {self.settings.safe_url}: {self.message(error)}")

    def rows(self, statement: sa.Select[Any]) -> list[Sequence[Any]]:
        """The rows of one read query, on a pooled connection returned at once: nothing
        stays open while the engine works on a page."""
        with self.engine.connect() as connection:
            return list(connection.execute(statement).all())

    # -- tables -------------------------------------------------------------------------
    def table(self, entity: str) -> TableMap:
        """The entity's reflected table, created on first use when allowed; cached."""
        found = self._tables.get(entity)
        if found is None:
            try:
                found = reflect(self.engine, self.settings, entity)
            except sa.exc.SQLAlchemyError as error:
                raise self.error(f"cannot open the {entity} table", error) from None
            self._tables[entity] = found
        return found

    # -- the write clock ----------------------------------------------------------------
    def stamps(self, connection: sa.Connection, table: TableMap, count: int) -> list[datetime]:
        """``count`` modification times for the rows of a batch written now.

        With a microsecond column (the default layout) each stamp is later than the clock,
        than every ``updated_at`` already stored and than this connection's previous stamp:
        a reader that has seen up to T never misses a later write by this connector, which
        is what makes the exclusive cursor of ``fetch`` exact. A coarse column (MySQL
        ``DATETIME``, whole seconds) cannot keep that promise without running ahead of the
        clock, so its stamps are the current step, never earlier than what is stored; a read
        ending in the current step ends with an inclusive cursor (see
        :func:`syncbridge.rest.signpost_cursor`), so rows stamped later in that step are read.

        The table's newest stamp is read in the writing transaction, from the index (see
        :func:`_newest`).
        """
        with self._lock:
            step = table.stamp_step
            now = _truncate(datetime.now(UTC), step)
            exclusive = step <= TICK
            floor = now
            for known in (_newest(connection, table), self._last_stamp.get(table.entity)):
                if known is not None:
                    floor = max(floor, known + TICK if exclusive else known)
            stamps = [floor + TICK * i if exclusive else floor for i in range(count)]
            if stamps:
                self._last_stamp[table.entity] = stamps[-1]
            return stamps
