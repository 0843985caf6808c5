"""Timestamps as APIs send them, read as UTC instants.

APIs write modification times in many spellings: ISO-8601 with an offset or ``Z``, with or
without fractions (``2026-01-01T09:30:00.123456Z``, .NET's seven digits cut to six), without a
zone (``2026-01-01 09:30:00``: wall-clock time in the zone the system runs in, Fatture in
Cloud's Europe/Rome), dates alone, and unix times as numbers. :func:`instants` reads all of
them with the standard library's :meth:`datetime.fromisoformat` (Python 3.11 takes every ISO
form above), the zone of naive values being a parameter, never a guess.

A naive time in a zone with daylight saving is ambiguous for the hour the clocks go back:
:func:`instants` gives both readings, the earlier and the later. A cursor keeps the earlier;
a record is compared with a stored cursor by the later, so that a read may repeat such a
record but never skip it. The lower bound sent to the API is :func:`earliest_wall`, for the
same reason: records written in the repeated hour sort below the cursor's wall time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "EPOCH",
    "SECOND",
    "TICK",
    "earliest_wall",
    "floor",
    "instants",
    "is_utc",
    "parse_instant",
    "shifted",
    "wall",
]

#: the resolution of a :class:`datetime`, and of a stored cursor
TICK = timedelta(microseconds=1)
SECOND = timedelta(seconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: long enough to contain the hour a daylight-saving change repeats, wherever it falls
_FOLD_WINDOW = timedelta(hours=3)
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})


def is_utc(zone: tzinfo) -> bool:
    """Whether ``zone`` is UTC itself, where naive times need no zone arithmetic."""
    return zone is UTC or (isinstance(zone, ZoneInfo) and zone.key in _UTC_NAMES)


def _moment(value: Any) -> datetime:
    """``value`` as a datetime, naive or aware, before any zone is applied."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an ISO-8601 timestamp (such as 2026-01-01T09:30:00Z, "
                "2026-01-01 09:30:00 or 2026-01-01T09:30:00.123+01:00)"
            ) from None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a timestamp")
    if isinstance(value, int | float | Decimal):
        try:
            return EPOCH + timedelta(seconds=float(value))
        except (OverflowError, ValueError):
            raise ValueError(f"{value!r} is out of range as a unix time") from None
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    raise ValueError(f"{value!r} ({type(value).__name__}) is not a timestamp")


def instants(value: Any, zone: tzinfo = UTC) -> tuple[datetime, datetime]:
    """The earliest and the latest UTC instant ``value`` may mean (equal unless ambiguous).

    :param zone: the zone of values written without one (the API's own time zone).

    Raises ValueError naming the value when it is no timestamp.
    """
    moment = _moment(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
        return moment, moment
    if is_utc(zone):
        moment = moment.replace(tzinfo=UTC)
        return moment, moment
    first = moment.replace(tzinfo=zone).utcoffset()
    second = moment.replace(tzinfo=zone, fold=1).utcoffset()
    if first is None or second is None:  # a tzinfo without offsets: take it as UTC
        moment = moment.replace(tzinfo=UTC)
        return moment, moment
    try:
        return (
            (moment - max(first, second)).replace(tzinfo=UTC),
            (moment - min(first, second)).replace(tzinfo=UTC),
        )
    except OverflowError:  # a placeholder at the ends of the calendar (year 1 or 9999)
        moment = moment.replace(tzinfo=UTC)
        return moment, moment


def parse_instant(value: Any, zone: tzinfo = UTC) -> datetime:
    """``value`` (an API's timestamp, see the module docstring) as an aware UTC datetime.

    :param zone: the zone of naive values; in the hour a daylight-saving change repeats, the
        earlier reading.
    """
    return instants(value, zone)[0]


def shifted(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, held at the ends of the calendar: a placeholder year 1 or 9999 in
    someone's data must bound a read, not crash it."""
    try:
        return moment + delta
    except OverflowError:
        return (datetime.min if delta < timedelta(0) else datetime.max).replace(
            tzinfo=moment.tzinfo
        )


def wall(moment: datetime, zone: tzinfo) -> datetime:
    """The naive wall-clock time of the instant ``moment`` in ``zone``."""
    if is_utc(zone):
        return moment.astimezone(UTC).replace(tzinfo=None)
    try:
        return moment.astimezone(zone).replace(tzinfo=None)
    except OverflowError:  # within a day of the ends of the calendar
        return moment.astimezone(UTC).replace(tzinfo=None)


def earliest_wall(moment: datetime, zone: tzinfo) -> datetime:
    """The smallest wall-clock time in ``zone`` of any instant from ``moment`` on.

    That is the wall time of ``moment``, except just before the clocks go back: times written
    an hour later read lower then. A lower bound sent to an API (or put in a query) from this
    misses none.
    """
    here = wall(moment, zone)
    if is_utc(zone):
        return here
    later = wall(shifted(moment, _FOLD_WINDOW), zone)
    return min(here, shifted(later, -_FOLD_WINDOW))


def floor(moment: datetime, granule: timedelta) -> datetime:
    """``moment`` rounded down to a whole number of ``granule`` since the unix epoch."""
    since_epoch = moment - EPOCH
    return EPOCH + since_epoch - since_epoch % granule
