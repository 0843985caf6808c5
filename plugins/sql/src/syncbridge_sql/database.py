"""One connection's database: the engine, the reflected tables and the write clock.

A :class:`Database` lives in the connection's client (``client.resource``), so it is made
once per connection and disposed with it; hooks never open engines of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, quote_plus

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from syncbridge.errors import ConnectorError
from syncbridge_sql.schema import TICK, TableMap, reflect
from syncbridge_sql.settings import SqlSettings


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
    return engine


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
        """Close the pool (the client calls this when the connection closes)."""
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
        clock, so its stamps are the current step, never earlier than what is stored, and
        its cursors are inclusive (see :func:`syncbridge_sql.reads.format_cursor`).

        The table's newest stamp is read in the writing transaction, from the index.
        """
        with self._lock:
            step = table.stamp_step
            now = _truncate(datetime.now(UTC), step)
            exclusive = step <= TICK
            floor = now
            latest = None
            if table.updated_at is not None:
                # ORDER BY ... LIMIT 1 rather than max(): one index probe, whatever the
                # planner thinks of a table too young to have statistics
                latest = connection.execute(
                    sa.select(table.updated_at)
                    .where(table.updated_at.is_not(None))
                    .order_by(table.updated_at.desc())
                    .limit(1)
                ).scalar()
            for known in (
                None if latest is None else table.stamp_from_db(latest),
                self._last_stamp.get(table.entity),
            ):
                if known is not None:
                    floor = max(floor, known + TICK if exclusive else known)
            stamps = [floor + TICK * i if exclusive else floor for i in range(count)]
            if stamps:
                self._last_stamp[table.entity] = stamps[-1]
            return stamps
