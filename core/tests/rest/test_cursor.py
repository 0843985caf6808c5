"""The cursor and the incremental read, without HTTP: how the sql connector or a batch API
would drive them, record by record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from syncbridge.errors import ConnectorError
from syncbridge.rest import Cursor, Incremental, Since, natural_id, parse_instant
from syncbridge.rest.instants import earliest_wall, instants

ROME = ZoneInfo("Europe/Rome")
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def clock(at: datetime) -> Any:
    return lambda: at


def rows(*spec: tuple[int, int]) -> list[dict[str, Any]]:
    """Records ``(id, seconds after T0)`` as an API lists them."""
    return [
        {"id": rid, "updated_at": (T0 + timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S")}
        for rid, s in spec
    ]


# -- timestamps ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01T08:00:00Z", T0),
        ("2026-03-01T09:00:00+01:00", T0),
        ("2026-03-01T09:00:00+0100", T0),
        ("2026-03-01 08:00:00", T0),
        ("2026-03-01T08:00:00.250Z", T0 + timedelta(milliseconds=250)),
        ("2026-03-01T08:00:00.1234567Z", T0 + timedelta(microseconds=123456)),  # .NET ticks
        ("20260301T080000Z", T0),
        ("2026-03-01", T0 - timedelta(hours=8)),
        (1772352000, T0),
        (datetime(2026, 3, 1, 8, 0), T0),
    ],
)
def test_timestamps_as_apis_send_them_are_utc_instants(value: Any, expected: datetime) -> None:
    assert parse_instant(value) == expected
    assert parse_instant(value).tzinfo is UTC


def test_naive_times_are_in_the_api_zone() -> None:
    assert parse_instant("2026-03-01 09:00:00", ROME) == T0
    assert parse_instant("2026-03-01T09:00:00Z", ROME) == T0 + timedelta(hours=1)


def test_the_repeated_hour_has_two_readings() -> None:
    # 25 October 2026: Rome's clocks go from 03:00 back to 02:00
    earliest, latest = instants("2026-10-25 02:30:00", ROME)
    assert earliest == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert latest == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    # a bound just before the change covers the wall times written after it (02:00 again at
    # 01:00 UTC), and far from a change it is the wall time itself
    assert earliest_wall(datetime(2026, 10, 25, 0, 45, tzinfo=UTC), ROME) <= datetime(
        2026, 10, 25, 2, 0
    )
    assert earliest_wall(T0, ROME) == datetime(2026, 3, 1, 9, 0)


@pytest.mark.parametrize("value", ["01/03/2026", "yesterday", True, [2026]])
def test_what_is_no_timestamp_says_so(value: Any) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        parse_instant(value)


# -- the cursor's one format --------------------------------------------------------------
def test_the_cursor_text_is_the_sql_connectors() -> None:
    assert str(Cursor(T0, "42")) == "2026-03-01T08:00:00.000000+00:00#42"
    assert str(Cursor(T0)) == "2026-03-01T08:00:00.000000+00:00"
    rome = T0.astimezone(ROME)
    assert str(Cursor(rome, "a#b")) == "2026-03-01T08:00:00.000000+00:00#a#b"
    assert Cursor.parse("2026-03-01T08:00:00.000000+00:00#a#b") == Cursor(T0, "a#b")
    assert Cursor.parse("2026-03-01T08:00:00.000000+00:00") == Cursor(T0)
    # a cursor an older connector stored in its API's own notation
    assert Cursor.parse("2026-03-01 09:00:00", ROME) == Cursor(T0)


def test_a_foreign_cursor_is_a_connector_error_with_the_fix() -> None:
    with pytest.raises(ConnectorError) as raised:
        Cursor.parse("2026-03-01 08:00:00|1,2,3")
    assert str(raised.value) == (
        "cannot read changes since '2026-03-01 08:00:00|1,2,3': a cursor is an ISO-8601 UTC "
        "instant, optionally followed by #<id> (2026-01-01T09:30:00.000000+00:00#42); run once "
        "with --full to start over"
    )


def test_ids_order_as_numbers_then_text() -> None:
    ids = ["10", 9, "A-7", "-1", "b", 100]
    assert sorted(ids, key=natural_id) == ["-1", 9, "10", 100, "A-7", "b"]
    assert natural_id("42") == natural_id(42)


# -- reading record by record -------------------------------------------------------------
def test_a_keyset_resumes_inside_a_run_of_equal_times() -> None:
    spec = Incremental(field="updated_at", ordered=True, clock=clock(T0 + timedelta(hours=1)))
    listing = rows((1, 0), (2, 0), (3, 0), (4, 0), (5, 1))
    first = spec.begin(None)
    assert [first.take(r) for r in listing[:2]] == [True, True]
    cursor = first.cursor()
    assert cursor == "2026-03-01T08:00:00.000000+00:00#2"

    resumed = spec.begin(cursor)
    assert [r["id"] for r in listing if resumed.take(r)] == [3, 4, 5]
    assert resumed.cursor() == "2026-03-01T08:00:01.000000+00:00#5"
    assert [r["id"] for r in listing if spec.begin(resumed.cursor()).take(r)] == []


def test_the_cursor_never_passes_the_instant_the_read_began() -> None:
    """A record of the second the read began may be joined by others in that second."""
    began = T0 + timedelta(seconds=1, milliseconds=400)
    spec = Incremental(field="updated_at", clock=clock(began))
    read = spec.begin(None)
    assert all(read.take(r) for r in rows((1, 0), (2, 1)))
    assert read.cursor() == "2026-03-01T08:00:01.000000+00:00"  # at or after, no id

    # records changed during the run, stamped the same second, come next time
    again = spec.begin(read.cursor())
    assert [r["id"] for r in rows((1, 0), (2, 1), (3, 1)) if again.take(r)] == [2, 3]


def test_the_skew_moves_the_signpost_back() -> None:
    spec = Incremental(
        field="updated_at", clock=clock(T0 + timedelta(seconds=10)), skew=timedelta(seconds=5)
    )
    read = spec.begin(None)
    assert all(read.take(r) for r in rows((1, 0), (2, 4)))
    assert read.cursor() == "2026-03-01T08:00:04.000000+00:00#2"
    read.take(rows((3, 5))[0])
    assert read.cursor() == "2026-03-01T08:00:05.000000+00:00"


def test_an_unordered_listing_gets_the_newest_record_as_its_cursor() -> None:
    spec = Incremental(field="updated_at", clock=clock(T0 + timedelta(hours=1)))
    read = spec.begin(None)
    listing = rows((1, 5), (2, 0), (3, 9), (4, 9), (2, 0))  # by id; 2 listed twice
    assert [r["id"] for r in listing if read.take(r)] == [1, 2, 3, 4]
    assert read.cursor() == "2026-03-01T08:00:09.000000+00:00#4"


def test_the_lookback_reads_again_before_the_cursor() -> None:
    spec = Incremental(
        field="updated_at", lookback=timedelta(seconds=3), clock=clock(T0 + timedelta(hours=1))
    )
    read = spec.begin("2026-03-01T08:00:05.000000+00:00#9")
    assert [r["id"] for r in rows((1, 1), (2, 2), (3, 5)) if read.take(r)] == [2, 3]


def test_records_without_a_time_are_always_read_and_move_no_cursor() -> None:
    spec = Incremental(field="meta.changed", clock=clock(T0))
    read = spec.begin("2026-03-01T08:00:00.000000+00:00")
    assert read.take({"id": 1, "meta": {"changed": None}})
    assert read.take({"id": 2})
    assert read.cursor() is None


def test_a_time_that_cannot_be_read_names_the_record() -> None:
    read = Incremental(field="updated_at").begin(None)
    with pytest.raises(ConnectorError, match=r"^record 7: its modification time '31/12' "):
        read.take({"id": 7, "updated_at": "31/12"})


def test_an_ambiguous_time_is_read_again_rather_than_skipped() -> None:
    spec = Incremental(field="updated_at", zone=ROME, clock=clock(T0.replace(month=11)))
    # the cursor: 02:45 in the first pass of the repeated hour (00:45 UTC)
    read = spec.begin("2026-10-25T00:45:00.000000+00:00#1")
    # 02:10 may be the second pass (01:10 UTC): after the cursor, so it is read
    assert read.take({"id": 2, "updated_at": "2026-10-25 02:10:00"})


# -- spelling the start for the API -------------------------------------------------------
def test_the_start_is_spelled_for_the_api_filter() -> None:
    bound = Cursor(T0 + timedelta(microseconds=5), "42")

    assert Incremental(field="t", since="since").params(bound) == {
        "since": "2026-03-01T08:00:00.000005+00:00"
    }
    assert Incremental(field="t", since="after", inclusive=False).params(bound) == {
        "after": "2026-03-01T08:00:00.000004+00:00"
    }
    rome = Incremental(field="t", since="q", zone=ROME, format="%Y-%m-%d %H:%M:%S")
    assert rome.params(bound) == {"q": "2026-03-01 09:00:00"}
    assert Incremental(field="t", since="since").params(None) == {}

    seen: list[Since] = []

    def odata(since: Since) -> dict[str, str]:
        seen.append(since)
        at = since.exact
        return {"$filter": f"modified gt {at} or (modified eq {at} and id gt {since.id})"}

    keyset = Incremental(field="t", since=odata, keyset=True)
    assert keyset.params(bound) == {
        "$filter": "modified gt 2026-03-01T08:00:00.000005+00:00 or "
        "(modified eq 2026-03-01T08:00:00.000005+00:00 and id gt 42)"
    }
    assert seen[0].id == "42"


def test_a_keyset_filter_must_be_a_function() -> None:
    with pytest.raises(ValueError, match="keyset=True needs `since` as a function"):
        Incremental(field="t", since="since", keyset=True)


def test_past_newest_moves_the_cursor_past_the_newest_step_read() -> None:
    """An API filtering by time alone: the next read starts after the newest second read,
    unless that second reaches the signpost."""
    spec = Incremental(
        field="updated_at", past_newest=True, resolution=timedelta(seconds=1),
        clock=clock(T0 + timedelta(hours=1)),
    )
    read = spec.begin(None)
    assert all(read.take(r) for r in rows((1, 5), (2, 9), (3, 9)))
    assert read.cursor() == "2026-03-01T08:00:10.000000+00:00"  # no id: nothing to drop

    recent = Incremental(
        field="updated_at", past_newest=True, clock=clock(T0 + timedelta(seconds=9.5))
    ).begin(None)
    assert all(recent.take(r) for r in rows((1, 5), (2, 9)))
    assert recent.cursor() == "2026-03-01T08:00:09.000000+00:00"  # the signpost still caps it


def test_past_newest_is_for_unordered_listings() -> None:
    with pytest.raises(ValueError, match="past_newest=True is for unordered listings"):
        Incremental(field="t", past_newest=True, ordered=True)

