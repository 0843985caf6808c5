"""The incremental cursor: one resumable keyset, one text format, for every connector.

**The format** the engine stores between runs (``Page.cursor``, handed back as ``since``)::

    2026-01-01T09:30:00.000000+00:00#42     after the record with id 42 stamped at that instant
    2026-01-01T09:30:00.000000+00:00        every record stamped at that instant or later

A UTC instant with microseconds, then ``#`` and the id of the last record read at that
instant: a *keyset* ``(modification time, id)``. It is the sql connector's format, so every
connector reads and writes one kind of cursor.

**The semantics** (:class:`IncrementalRead`):

- ``fetch(since=C)`` yields the records whose ``(time, id)`` comes after ``C``: a page boundary
  inside a run of equal timestamps (a bulk import, an API stamping whole seconds) loses
  nothing and repeats nothing, and a read resumed from the cursor of any page of a run goes
  on where that page ended.
- **The signpost.** The cursor saved never moves past the instant the read began, less a
  clock ``skew`` and rounded down to the timestamps' resolution: when the newest record read
  is that recent, the cursor is that instant, without an id ("at or after"). Records written
  while the run reads (later in the same whole second, or stamped before they are committed)
  are read again next run instead of being skipped for good. Singer taps call it the
  signpost (:func:`signpost_cursor`, which the sql connector's keyset reads use too).
- Ids within one instant are ordered as :func:`natural_id` orders them (numbers as numbers,
  anything else as text), which must be the order the API lists them in.

:class:`Incremental` is the declaration (which field, which id, how the API filters by time);
:class:`IncrementalRead` is one read with it, and needs no HTTP: the sql connector, QuickBooks'
CDC and Bitrix24's ``batch`` drive it with their own requests, and the REST resources of
:mod:`syncbridge.rest.resource` drive it with theirs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from syncbridge.errors import ConnectorError
from syncbridge.records import NativeRecord
from syncbridge.rest.instants import SECOND, TICK, earliest_wall, floor, instants, is_utc, wall
from syncbridge.rest.paths import Selector, select

__all__ = ["Cursor", "Incremental", "IncrementalRead", "Since", "natural_id", "signpost_cursor"]

_INTEGER = re.compile(r"-?\d+")


def natural_id(value: Any) -> tuple[int, int, str]:
    """The sort key of a native id: integers (and integer text) by value, the rest as text.

    ``42`` and ``"42"`` are the same id; ``"9" < "10"``; ``"A-7"`` sorts after every number.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return (0, value, str(value))
    text = str(value)
    if _INTEGER.fullmatch(text):
        return (0, int(text), text)
    return (1, 0, text)


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a change stream: after ``(at, id)``, or at-or-after ``at`` without an id."""

    at: datetime
    id: str | None = None

    def __str__(self) -> str:
        text = self.at.astimezone(UTC).isoformat(timespec="microseconds")
        return text if self.id is None else f"{text}#{self.id}"

    @classmethod
    def parse(cls, text: str, zone: tzinfo = UTC) -> Cursor:
        """The cursor ``text`` stands for; a ConnectorError with the fix if it is none.

        :param zone: the zone of an instant written without one (a cursor stored by an older
            version of a connector in its API's own local-time notation).
        """
        moment, sep, native_id = text.strip().partition("#")
        try:
            at = instants(moment, zone)[0]
        except ValueError:
            raise ConnectorError(
                f"cannot read changes since {text!r}: a cursor is an ISO-8601 UTC instant, "
                "optionally followed by #<id> (2026-01-01T09:30:00.000000+00:00#42); run once "
                "with --full to start over"
            ) from None
        return cls(at, native_id if sep else None)

    def after(self, latest: datetime, id_key: Any, key_of: Callable[[str], Any]) -> bool:
        """Whether a record that may be as late as ``latest``, with the id whose sort key is
        ``id_key``, comes after this cursor (``key_of`` gives the sort key of the cursor's
        id: ids the cursor cannot order compare as text)."""
        if latest != self.at:
            return latest > self.at
        if self.id is None:
            return True
        try:
            return bool(id_key > key_of(self.id))
        except (TypeError, ValueError):
            return str(id_key) > self.id


def signpost_cursor(newest: datetime, started: datetime, step: timedelta) -> Cursor | None:
    """The cursor to end a read with instead of its newest record's keyset, if that is unsafe.

    A keyset ``(T, id)`` says nothing stamped T with a smaller id is still to come. That
    holds for a time already past when the read began, and not otherwise: a program stamping
    whole seconds may stamp T again during this second, and a record stamped in the future (a
    clock ahead, a wrong zone) would carry the cursor past writes made meanwhile. So a read
    whose newest record (``newest``: its latest possible instant) is not older than its start
    rounded down to the timestamps' ``step`` (or to whole seconds when the record has no
    fraction) ends at that rounded start, "at or after": the next read repeats those records
    and misses nothing written during this one. This is the "signpost" of Singer taps.
    """
    granule = max(step, SECOND if newest.microsecond == 0 else TICK)
    signpost = floor(started, granule)
    return Cursor(signpost) if newest >= signpost else None


@dataclass(frozen=True, slots=True)
class Since:
    """Where a read starts, spelled for the API's "changed since" filter.

    ``text`` is the lower bound for a filter on time alone (a tick before ``at`` when the
    filter means "strictly after"; in a zone with daylight saving, the earliest wall time
    that may follow ``at``); ``exact`` is ``at`` itself, for a filter that takes the id too
    (``time > at OR (time = at AND id > <id>)``).
    """

    at: datetime
    id: str | None
    text: str
    exact: str


#: ``since`` as a function: the query parameters that push a :class:`Since` down to the API
SinceParams = Callable[[Since], Mapping[str, Any]]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class Incremental:
    """How a resource is read incrementally: its modification time, its id, its filter.

    :param field: where each record keeps its modification time (a dotted path).
    :param id: where it keeps its id.
    :param since: how the start of a read goes to the API: the name of a query parameter
        (``updated_since``) that gets :attr:`Since.text`, or a function of :class:`Since`
        giving the parameters (``lambda s: {"q": f"updated_at >= '{s.text}'"}``). None: the
        API cannot filter, every read lists everything and only the changes are yielded.
    :param inclusive: whether the API's filter means "at or after" (True) or "strictly
        after" (False, the bound then goes a microsecond earlier).
    :param ordered: the listing is sorted by (time, id), as the cursor is. Each page then
        carries the cursor of its last record, and a read resumes from any page. Unordered
        listings (by id, typically) get their cursor on the last page only.
    :param keyset: ``since`` filters by time *and* id itself (it uses :attr:`Since.id`), so
        each page of an ordered read asks afresh for what follows its last record.
    :param zone: the zone of timestamps written without one (the API's own zone).
    :param format: how an instant is spelled for the API: a ``strftime`` pattern applied to
        the wall time in ``zone``, or a function of the UTC instant. Default: ISO-8601, with
        ``+00:00`` in UTC, without a zone in any other zone.
    :param resolution: the step of the API's timestamps (one second for
        ``2026-01-01 09:30:00``). Default: one second for values without a fraction, else a
        microsecond.
    :param skew: how far the API's clock, or the time between stamping a record and
        committing it, may lag behind this machine's clock: the signpost is moved back by
        that much. The default, none, is right for an API on this machine's clock (an
        emulator) or ahead of it; a server whose clock lags by a second stamps a record
        changed during a read up to a second before the read began, which only a skew of a
        second or more re-reads. The price: every run reads the last ``skew`` again.
    :param lookback: read again what changed this long before the stored cursor (for APIs
        whose changes become visible late).
    :param parse: reads a record's time (default :func:`~syncbridge.rest.instants.instants`
        with ``zone``): a function of the raw value giving the earliest and latest instant.
    :param clock: the current instant, for the signpost (tests pass a fake clock).
    :param id_key: the order of ids within one instant (default :func:`natural_id`).
    :param past_newest: the API filters by time alone (``time >= since``), and each read
        lists every change since its start before its cursor is saved (an unordered
        listing, saved with the last page). Every record stamped in the newest ``resolution``
        step read was then read, unless that step reaches the signpost: the cursor moves to
        the next step, without an id, instead of naming the newest record, so that the next
        read does not list again every record sharing that instant (after a bulk write, all
        of them) only to drop them. Not for ordered listings, whose cursor is saved with
        each page.

    .. versionadded:: past_newest
    """

    field: Selector
    id: Selector = "id"
    since: str | SinceParams | None = None
    inclusive: bool = True
    ordered: bool = False
    keyset: bool = False
    zone: tzinfo = UTC
    format: str | Callable[[datetime], str] | None = None
    resolution: timedelta | None = None
    skew: timedelta = timedelta(0)
    lookback: timedelta = timedelta(0)
    parse: Callable[[Any], tuple[datetime, datetime]] | None = None
    clock: Callable[[], datetime] = _now
    id_key: Callable[[Any], Any] = natural_id
    past_newest: bool = False

    def __post_init__(self) -> None:
        if self.keyset and not callable(self.since):
            raise ValueError("keyset=True needs `since` as a function that filters by the id too")
        if self.past_newest and self.ordered:
            raise ValueError("past_newest=True is for unordered listings, saved once at the end")

    def begin(self, since: str | None) -> IncrementalRead:
        """Start one read from the stored cursor ``since`` (None: from the beginning)."""
        return IncrementalRead(self, since)

    def spell(self, moment: datetime) -> str:
        """``moment`` (UTC) as the API writes instants (see ``format``)."""
        if callable(self.format):
            return self.format(moment)
        if is_utc(self.zone):
            if self.format is None:
                return moment.astimezone(UTC).isoformat()
            return moment.astimezone(UTC).strftime(self.format)
        local = wall(moment, self.zone)
        return local.isoformat(sep=" ") if self.format is None else local.strftime(self.format)

    def since_of(self, bound: Cursor) -> Since:
        """``bound`` spelled for the API (see :class:`Since`)."""
        lower = bound.at if self.inclusive else bound.at - TICK
        if callable(self.format) or is_utc(self.zone):
            text = self.spell(lower)
        else:
            earliest = earliest_wall(lower, self.zone)
            text = earliest.isoformat(sep=" ") if self.format is None else earliest.strftime(
                self.format
            )
        return Since(bound.at, bound.id, text, self.spell(bound.at))

    def params(self, bound: Cursor | None) -> dict[str, Any]:
        """The query parameters that ask the API for what follows ``bound`` (none: all)."""
        if bound is None or self.since is None:
            return {}
        since = self.since_of(bound)
        if isinstance(self.since, str):
            return {self.since: since.text}
        return dict(self.since(since))


#: stamps :class:`IncrementalRead` remembers: a few pages' worth
_STAMPS_KEPT = 2048

#: a record's position: (earliest instant, id sort key)
Key = tuple[datetime, Any]


@dataclass
class IncrementalRead:
    """One incremental read: which records are new, and the cursor to save.

    Feed it every record in the order the API lists them (:meth:`take` says whether to
    yield it), and save :meth:`cursor` with the page (ordered listings) or with the last
    page (unordered ones). See the module docstring for the guarantees.
    """

    spec: Incremental
    since: str | None
    #: the stored cursor, moved back by the lookback (None: a full read)
    start: Cursor | None = field(init=False)
    #: when the read began, by ``spec.clock``: the signpost is derived from it
    started: datetime = field(init=False)
    _start_key: Key | None = field(init=False, default=None)
    #: the position of the last record taken (ordered listings repeat nothing before it)
    _last: Key | None = field(init=False, default=None)
    #: the (id, instant) of every record taken, in an unordered listing: a record updated
    #: during the read enters the filter before the position read, shifts the pages after
    #: it by one, and the last record of a page comes again at the top of the next
    _seen: set[tuple[Any, datetime]] = field(init=False, default_factory=set)
    #: the newest record taken: its key, latest instant and id text
    _newest: tuple[Key, datetime, str] | None = field(init=False, default=None)
    #: the stamps of the last records read, by identity (a listing's order check and
    #: :meth:`take` each need every record's; parsing a zone's time twice was a tenth of a
    #: read): the record is kept beside its stamp, so an id is never reused meanwhile
    _stamps: dict[int, tuple[NativeRecord, tuple[datetime, datetime] | None]] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        spec = self.spec
        self.started = spec.clock()
        start = Cursor.parse(self.since, spec.zone) if self.since else None
        if start is not None and spec.lookback:
            start = Cursor(start.at - spec.lookback)
        self.start = start
        if start is not None and start.id is not None:
            self._start_key = (start.at, spec.id_key(start.id))

    # -- reading records ----------------------------------------------------------------
    def stamp(self, record: NativeRecord) -> tuple[datetime, datetime] | None:
        """The earliest and latest instant of ``record``'s modification time (None: it has
        none); a ConnectorError naming the record if it holds something else."""
        known = self._stamps.get(id(record))
        if known is not None and known[0] is record:
            return known[1]
        stamp = self._stamp(record)
        if len(self._stamps) >= _STAMPS_KEPT:
            self._stamps.clear()
        self._stamps[id(record)] = (record, stamp)
        return stamp

    def _stamp(self, record: NativeRecord) -> tuple[datetime, datetime] | None:
        raw = select(record, self.spec.field)
        if raw is None or raw == "":
            return None
        try:
            if self.spec.parse is not None:
                return self.spec.parse(raw)
            return instants(raw, self.spec.zone)
        except ValueError as error:
            raise ConnectorError(
                f"record {select(record, self.spec.id)!r}: its modification time {raw!r} "
                f"cannot be read: {error}"
            ) from None

    def key(self, record: NativeRecord) -> Key | None:
        """``record``'s position in an ordered listing (None: no modification time)."""
        stamp = self.stamp(record)
        if stamp is None:
            return None
        return (stamp[0], self.spec.id_key(select(record, self.spec.id)))

    def after_start(self, latest: datetime, id_key: Any) -> bool:
        """Whether a record that may be as late as ``latest`` comes after the stored cursor."""
        start = self.start
        if start is None:
            return True
        if self._start_key is None:
            return latest >= start.at
        return (latest, id_key) > self._start_key

    def take(self, record: NativeRecord) -> bool:
        """Whether ``record`` is new to this read and the runs before it: yield it if so.

        A record without a modification time is always taken (it changed at an unknown
        moment) and moves no cursor.
        """
        stamp = self.stamp(record)
        if stamp is None:
            return True
        earliest, latest = stamp
        native_id = select(record, self.spec.id)
        id_key = self.spec.id_key(native_id)
        if not self.after_start(latest, id_key):
            return False
        key = (earliest, id_key)
        if self.spec.ordered:
            if self._last is not None and key <= self._last:
                return False  # read already in this run (the API listed it again)
            self._last = key
        else:
            seen = (id_key, earliest)
            if seen in self._seen:
                return False
            self._seen.add(seen)
        if self._newest is None or key > self._newest[0]:
            self._newest = (key, latest, str(native_id))
        return True

    # -- the cursor ---------------------------------------------------------------------
    def server_time(self, moment: datetime) -> None:
        """The server's clock when it answered a request of this read (an envelope's
        ``time``): the signpost is never past the earliest such instant either, so records
        the server stamps by a clock behind this machine's are not skipped without a
        ``skew``. Pass the time of the read's first answer: anything changed after the
        server made it is stamped at or after it by the server's own clock.
        """
        if moment.tzinfo is None:
            raise ValueError("server_time needs an aware datetime")
        self.started = min(self.started, moment.astimezone(UTC))

    def signpost(self, granule: timedelta) -> datetime:
        """The latest instant a cursor may name: the start, less the skew, rounded down."""
        return floor(self.started - self.spec.skew, granule)

    def cursor(self) -> str | None:
        """The cursor to save after the records taken so far (None: keep the stored one).

        The newest record's keyset, unless that record is not older than the signpost: then
        the signpost itself, "at or after", so the next run reads from there again.
        """
        if self._newest is None:
            return None
        (at, _id_key), latest, native_id = self._newest
        step = self.spec.resolution or TICK
        signpost = signpost_cursor(latest, self.started - self.spec.skew, step)
        if signpost is not None:
            return str(signpost)
        if self.spec.past_newest:
            granule = max(step, SECOND if at.microsecond == 0 else TICK)
            return str(Cursor(floor(latest, granule) + granule))
        return str(Cursor(at, native_id))
