"""One connection's database: the engine, the reflected tables and the write clock.

A :class:`Database` lives in the connection's client (``client.resource``), so it is made
once per connection and disposed with it; hooks never open engines of their own.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, quote_plus

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from syncbridge.errors import ConnectorError
from syncbridge_sql.schema import TableMap, reflect
from syncbridge_sql.settings import SqlSettings

#: the resolution of every timestamp the connector writes to its own tables
TICK = timedelta(microseconds=1)


def timestamp_resolution(column_type: sa.types.TypeEngine[Any]) -> timedelta:
    """The smallest step a timestamp column keeps (MySQL ``DATETIME`` keeps whole seconds)."""
    if hasattr(column_type, "fsp"):  # MySQL / MariaDB DATETIME(fsp), TIMESTAMP(fsp)
        digits = column_type.fsp or 0
    else:
        digits = getattr(column_type, "precision", None)  # PostgreSQL TIMESTAMP(p)
        if not isinstance(digits, int):
            return TICK
    return timedelta(microseconds=10 ** (6 - min(max(digits, 0), 6)))


def _round_up(value: datetime, step: timedelta) -> datetime:
    if step <= TICK:
        return value
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    steps = math.ceil((value - epoch) / step)
    return epoch + steps * step


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


def create_engine(settings: SqlSettings) -> sa.Engine:
    """The SQLAlchemy engine of ``settings.url``; errors name the URL without its password."""
    url = make_url(settings.url.get_secret_value())
    options: dict[str, Any] = {"pool_pre_ping": True}
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        # libpq waits forever for an unreachable host by default
        connect_args["connect_timeout"] = 10
    if url.get_driver_name() == "psycopg" and "prepare_threshold" not in url.query:
        # psycopg prepares a statement run 5 times; PostgreSQL then plans "id IN ($1..$500)"
        # once, generically, and on a table too young to have statistics that plan is a
        # sequential scan comparing every row with 500 values: 100 ms a batch at 10k rows,
        # growing with the table. Unprepared statements are planned with their values.
        connect_args["prepare_threshold"] = None
    if connect_args:
        options["connect_args"] = connect_args
    try:
        engine = sa.create_engine(url, **options)
    except (ImportError, sa.exc.SQLAlchemyError) as error:
        raise ConnectorError(f"cannot use {settings.safe_url}: {error}") from None
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
    return engine


class Database:
    """The engine of one connection plus what is learnt about its tables."""

    def __init__(self, settings: SqlSettings) -> None:
        self.settings = settings
        self.engine = create_engine(settings)
        self._tables: dict[str, TableMap] = {}
        self._lock = threading.Lock()
        self._last_stamp: datetime | None = None
        password = settings.password or ""
        raw = settings.url.get_secret_value()
        self._secrets = sorted(
            {s for s in (raw, password, quote_plus(password), quote(password, safe="")) if s},
            key=len,
            reverse=True,
        )

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
        """``count`` modification times for rows written now, strictly after any stored.

        Each is later than the clock, than every ``updated_at`` already in the table and
        than the previous stamp of this connection, so a reader that has seen up to time T
        never misses a later write by this connector: that is what makes the exclusive
        cursor of ``fetch`` exact. The table's maximum is read in the writing transaction,
        through the index on ``updated_at``.
        """
        with self._lock:
            floor = datetime.now(UTC)
            step = TICK
            if table.updated_at is not None:
                step = timestamp_resolution(table.updated_at.type)
                latest = connection.execute(sa.select(sa.func.max(table.updated_at))).scalar()
                if latest is not None:
                    floor = max(floor, table.stamp_from_db(latest) + step)
            if self._last_stamp is not None:
                floor = max(floor, self._last_stamp + step)
            floor = _round_up(floor, step)
            # a coarse column cannot tell rows of one batch apart: they share one stamp, and
            # (updated_at, id) keyset pagination still orders them
            coarse = step > TICK
            stamps = [floor if coarse else floor + TICK * i for i in range(count)]
            if stamps:
                self._last_stamp = stamps[-1]
            return stamps
