"""Modification times: what a stored ``updated_at`` means, and how the connector writes one.

Applications write their modification times in many forms, and the connector must read every
one of them as the instant it is:

- native types: ``timestamp with time zone`` (an instant), ``timestamp`` / MySQL ``DATETIME``
  (a wall-clock time, in the zone of the program that wrote it: :attr:`SqlSettings.timezone`),
  MySQL ``TIMESTAMP`` (an instant shown in the session's zone, which the connector pins to
  UTC: see :func:`syncbridge_sql.database.create_engine`);
- on SQLite, which has no date type, any mix of text (``CURRENT_TIMESTAMP``'s
  ``2026-01-01 00:00:00``, SQLAlchemy's ``...00:00:00.000000``, ISO-8601 with ``T``, ``Z`` or
  an offset) and unix times stored as numbers.

:meth:`StampColumn.instants` reads any of them with the standard library
(:meth:`datetime.fromisoformat` takes every ISO-8601 form these programs write, ``zoneinfo``
the zone): one parser, so the order the connector reasons about is the order of instants.
How the database is made to return rows in that order is :mod:`syncbridge_sql.ordering`.

A naive time in a zone with daylight saving is ambiguous for the hour the clocks repeat. It
is read as the earlier instant (``fold=0``), but compared with a cursor as the later one, so
that a read may repeat such a row but never skip it.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from syncbridge.errors import ConnectorError
from syncbridge.rest.instants import EPOCH, SECOND, TICK, earliest_wall, is_utc, shifted, wall

#: how far the wall-clock digits of a time may be from its instant: UTC offsets in use run
#: from -12:00 to +14:00 (texts with wider offsets may be missed by incremental reads)
OFFSET_SLACK = timedelta(hours=14)

# -- reading a stored value --------------------------------------------------------------------
def _number(value: float | int | Decimal) -> datetime:
    try:
        return EPOCH + timedelta(seconds=value if isinstance(value, int) else float(value))
    except (OverflowError, ValueError):
        raise ValueError(
            f"{value!r} is out of range as a unix time (seconds since 1970-01-01 UTC)"
        ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _text(text: str) -> datetime:
    stripped = text.strip()
    if _is_number(stripped):
        raise ValueError(
            f"{text!r} is a number stored as text, which sorts as text and not as a time; "
            "store unix times as numbers (an INTEGER or REAL column) or times as ISO-8601 text"
        )
    try:
        return datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a timestamp (ISO-8601 text such as 2026-01-01 12:00:00 or "
            "2026-01-01T12:00:00.123Z, or a unix time stored as a number)"
        ) from None


def _moment(value: Any) -> datetime:
    """A stored value as a datetime, naive or aware, before any zone is applied."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a timestamp")
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    if isinstance(value, bytes | bytearray | memoryview):
        with suppress(UnicodeDecodeError):  # undecodable bytes: no timestamp, said below
            return _text(bytes(value).decode())
    raise ValueError(f"{value!r} ({type(value).__name__}) is not a timestamp")


def localize(naive: datetime, zone: tzinfo, zone_name: str) -> tuple[datetime, datetime]:
    """The earliest and latest UTC instants the wall-clock time ``naive`` may be in ``zone``.

    They differ in the hour the clocks repeat. A time the clocks skip does not exist in
    ``zone``: whoever wrote it was not on that zone's time, so it is an error naming the
    setting rather than a guess.
    """
    if is_utc(zone):
        moment = naive.replace(tzinfo=UTC)
        return moment, moment
    first = naive.replace(tzinfo=zone).utcoffset()
    second = naive.replace(tzinfo=zone, fold=1).utcoffset()
    if first is None or second is None:  # a tzinfo that knows no offsets: take it as UTC
        moment = naive.replace(tzinfo=UTC)
        return moment, moment
    try:
        if first != second:
            back = (naive - first).replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
            if back != naive:
                raise ValueError(
                    f"{naive} does not exist in {zone_name} (its clocks skip that hour), so "
                    f"these timestamps are not {zone_name} time: set the connection's "
                    "timezone to the zone of the programs that write them"
                )
        return (
            (naive - max(first, second)).replace(tzinfo=UTC),
            (naive - min(first, second)).replace(tzinfo=UTC),
        )
    except OverflowError:  # a placeholder at the ends of the calendar (year 1 or 9999)
        moment = naive.replace(tzinfo=UTC)
        return moment, moment


def as_utc(value: Any) -> datetime:
    """An aware UTC datetime; naive values (columns without a time zone) are taken as UTC."""
    moment = _moment(value)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# -- one table's modification-time column -----------------------------------------------------
class StampKind(StrEnum):
    """How a column holds its times, which decides how it is bounded in SQL."""

    #: SQLite: each value text or a number, see :mod:`syncbridge_sql.ordering`
    SQLITE = "sqlite"
    #: a timestamp with time zone: an instant
    AWARE = "aware"
    #: a timestamp without: wall-clock time in the column's zone
    NAIVE = "naive"
    #: a number of seconds since 1970-01-01 UTC
    EPOCH = "epoch"
    #: text on a server: sorted as text, bounded loosely and checked row by row
    TEXT = "text"


def _naive_zone(column_type: sa.types.TypeEngine[Any], zone: tzinfo) -> tzinfo:
    # MySQL TIMESTAMP stores an instant and shows it in the session zone, pinned to UTC
    return UTC if isinstance(column_type, mysql.TIMESTAMP) else zone


def stamp_kind(column_type: sa.types.TypeEngine[Any], dialect: str) -> StampKind:
    if dialect == "sqlite":
        return StampKind.SQLITE
    if isinstance(column_type, sa.DateTime):
        return StampKind.AWARE if getattr(column_type, "timezone", False) else StampKind.NAIVE
    if isinstance(column_type, sa.Date):
        return StampKind.NAIVE
    if isinstance(column_type, sa.Integer | sa.Numeric | sa.Float):
        return StampKind.EPOCH
    return StampKind.TEXT


@dataclass(frozen=True)
class Writer:
    """Instants into a column of one type, in the form its other writers most likely use."""

    column_type: sa.types.TypeEngine[Any]
    zone: tzinfo

    def __call__(self, value: Any) -> Any:
        moment = as_utc(value)
        column_type = self.column_type
        if isinstance(column_type, sa.DateTime):
            if getattr(column_type, "timezone", False):
                return moment
            return wall(moment, _naive_zone(column_type, self.zone))
        if isinstance(column_type, sa.Date):
            return wall(moment, self.zone).date()
        if isinstance(column_type, sa.Integer):
            return int((moment - EPOCH) // SECOND)
        if isinstance(column_type, sa.Numeric | sa.Float):
            return (moment - EPOCH) / SECOND
        return moment.isoformat()


@dataclass(frozen=True)
class Reader:
    """Stored values of a column as aware UTC instants (naive ones in ``zone``)."""

    zone: tzinfo
    zone_name: str
    #: naive values need no zone arithmetic (checked once, not per row)
    utc: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "utc", is_utc(self.zone))

    def instants(self, value: Any) -> tuple[datetime, datetime]:
        """The earliest and latest instant ``value`` may be (equal but in a repeated hour)."""
        # the common case first, without the checks of _moment: 100k-row reads come here
        if value.__class__ is str and value[4:5] == "-":
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                moment = _moment(value)
        else:
            moment = _moment(value)
        if moment.tzinfo is None:
            if self.utc:
                moment = moment.replace(tzinfo=UTC)
                return moment, moment
            return localize(moment, self.zone, self.zone_name)
        if moment.tzinfo is not UTC:
            moment = moment.astimezone(UTC)
        return moment, moment

    def __call__(self, value: Any) -> datetime:
        return self.instants(value)[0]


def stamp_converters(
    column_type: sa.types.TypeEngine[Any], zone: tzinfo = UTC
) -> tuple[Writer, Reader]:
    """``(to_db, from_db)`` for a timestamp: UTC in, aware UTC out, whatever the column."""
    naive = _naive_zone(column_type, zone)
    return Writer(column_type, zone), Reader(naive, str(naive))


def stamp_step(column_type: sa.types.TypeEngine[Any]) -> timedelta:
    """The smallest step a timestamp column keeps (MySQL ``DATETIME`` keeps whole seconds)."""
    if hasattr(column_type, "fsp"):  # MySQL / MariaDB DATETIME(fsp), TIMESTAMP(fsp)
        digits = column_type.fsp or 0
    elif isinstance(column_type, sa.DateTime):
        digits = getattr(column_type, "precision", None)  # PostgreSQL TIMESTAMP(p)
        if not isinstance(digits, int):
            return TICK
    elif isinstance(column_type, sa.Date):
        return timedelta(days=1)
    elif isinstance(column_type, sa.Integer):
        return SECOND
    else:
        return TICK
    return timedelta(microseconds=10 ** (6 - min(max(digits, 0), 6)))


@dataclass(frozen=True)
class StampColumn:
    """The modification-time column of one table: its kind, zone and resolution."""

    column: sa.Column[Any]
    kind: StampKind
    reader: Reader
    step: timedelta

    @property
    def raw(self) -> sa.ColumnElement[Any]:
        """The column as the driver returns it, compared with values bound as they are.

        SQLAlchemy's SQLite ``DATETIME`` would parse each value with a pattern of its own
        (failing on a ``T``, a ``Z`` or a number) and format every bound value as its own
        text, which compares as text with whatever format the rows are in: the bug this
        module exists for. Untyped, the SQL is the same and the index as usable.
        """
        return sa.type_coerce(self.column, sa.types.NullType())

    def instants(self, table: str, row_id: Any, value: Any) -> tuple[datetime, datetime]:
        """:meth:`Reader.instants`, with an error that says where the bad value is."""
        try:
            return self.reader.instants(value)
        except ValueError as error:
            raise ConnectorError(
                f"cannot read {table}.{self.column.name} of the row with id {row_id}: {error}"
            ) from None

    def bound(self, at: datetime) -> tuple[Any, bool]:
        """On a server: the smallest stored value of any instant from ``at`` on, and whether
        it is exactly ``at`` (so that ties at it can be left to SQL).

        Texts on a server keep their own format: the bound is their date less the widest
        offset, and rows are checked one by one (see :mod:`syncbridge_sql.ordering`).
        """
        zone = self.reader.zone
        if self.kind is StampKind.AWARE:
            return at, True
        if self.kind is StampKind.NAIVE:
            lowest = earliest_wall(at, zone)
            if isinstance(self.column.type, sa.DateTime):
                return lowest, lowest == wall(at, zone)
            return lowest.date(), False
        if self.kind is StampKind.EPOCH:
            seconds, rest = divmod(at - EPOCH, SECOND)
            if isinstance(self.column.type, sa.Integer):
                return int(seconds) + (1 if rest else 0), not rest
            return seconds + rest / SECOND, False
        lowest = shifted(min(earliest_wall(at, zone), wall(at, UTC)), -OFFSET_SLACK)
        return lowest.date().isoformat(), False


# -- texts of one layout ---------------------------------------------------------------------
_D = "[0-9]"


@dataclass(frozen=True)
class Family:
    """Texts of one layout, whose order as text is the order of their instants (SQLite).

    Each family has two lengths, with and without six fraction digits: ``...:05`` sorts
    before ``...:05.000001``, as it should. ``...:05.000000`` is the same instant as
    ``...:05`` but a different text, so where both exist for one second the family does
    not hold (see :func:`syncbridge_sql.ordering._family_of`).
    """

    name: str
    separator: str
    #: after the time: "" for wall-clock times in the connection's zone, "+00:00" for UTC
    suffix: str

    def globs(self) -> tuple[str, str]:
        base = f"{_D * 4}-{_D * 2}-{_D * 2}{self.separator}{_D * 2}:{_D * 2}:{_D * 2}"
        return base + self.suffix, f"{base}.{_D * 6}{self.suffix}"

    def shape(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        """SQLite: whether ``column`` is a text of this family. The patterns are literals in
        the SQL, so that a query with this term can use a partial index whose WHERE has it
        (see :func:`syncbridge_sql.schema.default_table`)."""
        return sa.or_(*(column.op("GLOB")(sa.literal_column(f"'{g}'")) for g in self.globs()))

    def shape_sql(self, value: str) -> str:
        """:meth:`shape` as SQL text, for statements written as text."""
        return " OR ".join(f"({value} GLOB '{glob}')" for glob in self.globs())

    def encode(self, at: datetime, zone: tzinfo) -> tuple[str, bool]:
        """The smallest text of this family for an instant from ``at`` on, and whether it is
        the only text of ``at`` itself (not with a zero fraction, not moved off a fold)."""
        if self.suffix:
            moment, exact = wall(at, UTC), True
        else:
            moment = earliest_wall(at, zone)
            exact = moment == wall(at, zone)
        spec = "microseconds" if moment.microsecond else "seconds"
        text = moment.isoformat(sep=self.separator, timespec=spec) + self.suffix
        return text, exact and moment.microsecond != 0


#: ``CURRENT_TIMESTAMP`` and SQLAlchemy's DATETIME (what the connector writes on SQLite), the
#: same with ``T`` (Python's naive ``isoformat()``), and Python's UTC ``isoformat()``
FAMILIES = (Family("space", " ", ""), Family("t", "T", ""), Family("t-utc", "T", "+00:00"))
