"""Incremental reads over timestamps written the way applications write them.

The issue: 1,500 rows of a bulk import stamped with one ``CURRENT_TIMESTAMP``
(``2026-01-01 00:00:00``) were copied 1,000 at a time and the other 500 never read again;
with ISO-8601 text (``...T00:00:00+00:00``, ``...T00:00:00.123Z``) the read never ended. The
database compared its text with a bound value in SQLAlchemy's own format, and a page
boundary fell inside a run of equal timestamps.

Real SQLite files through the sql connector (and the engine, through the test bed); the
PostgreSQL and MariaDB tests use native timestamp types on the local servers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import syncbridge_sql.connector
from syncbridge.connection import Connection
from syncbridge.errors import ConfigError, ConnectorError
from syncbridge.records import Page, UpsertItem
from syncbridge.workspace import Workspace
from syncbridge_sql.database import Database
from syncbridge_sql.settings import SqlSettings
from syncbridge_sql.timestamps import FAMILIES
from tests.engine.bed import Bed

BULK = 1500
ROME = ZoneInfo("Europe/Rome")


# -- helpers ---------------------------------------------------------------------------------------
def _create(url: str, **settings: Any) -> None:
    """The company table in the connector's default layout (``updated_at DATETIME``)."""
    database = Database(SqlSettings(url=url, **settings))
    try:
        database.table("company")
    finally:
        database.dispose()


def _insert(url: str, stamps: list[Any], table: str = "company", first: int = 0) -> None:
    """Rows named ``Company <i>`` stamped exactly as given (text stays text, numbers numbers),
    as an application or a bulk import writes them, past the connector."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as db:
            db.execute(
                sa.text(
                    f"INSERT INTO {table} (name, country, updated_at) VALUES (:name, 'IT', :stamp)"
                ),
                [{"name": f"Company {first + i}", "stamp": s} for i, s in enumerate(stamps)],
            )
    finally:
        engine.dispose()


def _execute(url: str, statement: str, **params: Any) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as db:
            db.execute(sa.text(statement), params)
    finally:
        engine.dispose()


def _records(pages: list[Page] | Iterator[Page]) -> list[dict[str, Any]]:
    return [record for page in pages for record in page.records]


def _ids(pages: list[Page] | Iterator[Page]) -> list[int]:
    return [int(record["id"]) for record in _records(pages)]


def _connect(url: str, **settings: Any) -> Connection:
    return Connection("sql-ts", syncbridge_sql.connector, {"url": url, **settings})


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'erp.db'}"


def _stored_cursor(bed: Bed, side: str) -> str:
    """The cursor the engine keeps for ``side`` between runs."""
    with Workspace.load(bed.config) as workspace, workspace.store.engine.connect() as db:
        value = db.execute(
            sa.text(
                'SELECT value FROM "cursor" WHERE sync = :sync AND entity = :entity '
                "AND side = :side"
            ),
            {"sync": "main", "entity": "company", "side": side},
        ).scalar_one()
    return str(value)


# -- the issue, through the engine -----------------------------------------------------------------
def _bulk_import_is_copied_whole_and_once(tmp_path: Path, stamp: Any) -> None:
    bed = Bed(tmp_path, {"company": {"direction": "left-to-right"}})
    left = bed.settings["left"]["url"]
    _create(left)
    _insert(left, [stamp] * BULK)

    first = bed.sync()
    assert not first.failed, first.entities
    assert bed.outcomes(first.run_id) == {"created": BULK}
    assert len(bed.rows("right", "company")) == BULK

    # the cursor the run stored for the left is past the import: nothing of it is read again
    cursor = _stored_cursor(bed, "left")
    with bed.conn("left") as connection:
        assert _records(connection.fetch("company", since=cursor)) == []

    second = bed.sync()
    assert not second.failed, second.entities
    assert second.writes == 0
    assert bed.outcomes(second.run_id) == {}
    assert _stored_cursor(bed, "left") == cursor


def test_bulk_import_stamped_by_current_timestamp_is_copied_whole_and_once(
    tmp_path: Path,
) -> None:
    """1,500 rows of one ``CURRENT_TIMESTAMP``: all copied, then nothing read or written."""
    _bulk_import_is_copied_whole_and_once(tmp_path, "2026-01-01 00:00:00")


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "stamp", ["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00.123Z"], ids=["offset", "z"]
)
def test_bulk_import_stamped_in_iso_8601_terminates_and_is_copied_whole(
    tmp_path: Path, stamp: str
) -> None:
    """The ``T`` forms used to loop forever at 100% CPU."""
    _bulk_import_is_copied_whole_and_once(tmp_path, stamp)


@pytest.mark.parametrize("stamp", [1767225600, 1767225600.25], ids=["integer", "real"])
def test_bulk_import_stamped_in_unix_time_is_copied_whole_and_once(
    tmp_path: Path, stamp: float
) -> None:
    _bulk_import_is_copied_whole_and_once(tmp_path, stamp)


# -- reading every format right --------------------------------------------------------------------
def test_every_format_reads_as_its_instant_in_time_order(url: str) -> None:
    instant = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    stamps: list[Any] = [
        "2026-01-01 12:00:05",  # CURRENT_TIMESTAMP
        "2026-01-01 12:00:04.250000",  # SQLAlchemy
        "2026-01-01T12:00:03",  # isoformat(), naive
        "2026-01-01T12:00:02.123456+00:00",  # isoformat(), UTC
        "2026-01-01T12:00:01.500Z",  # JavaScript toISOString()
        "2026-01-01T07:00:00-05:00",  # an offset behind UTC: 12:00:00
        "2026-01-01 13:00:06+01:00",  # space and an offset
        1767268807,  # unix time, integer: 12:00:07
        1767268808.75,  # unix time, real
    ]
    expected = [instant + timedelta(seconds=s) for s in (5, 4.25, 3, 2.123456, 1.5, 0, 6, 7, 8.75)]
    _create(url)
    _insert(url, stamps)
    connection = _connect(url, page_size=2)

    records = _records(connection.fetch("company"))

    assert {int(r["id"]): r["updated_at"] for r in records} == {
        i + 1: moment for i, moment in enumerate(expected)
    }
    assert [r["updated_at"] for r in records] == sorted(expected)
    canonical = connection.map_in("company", records[0])
    assert canonical.updated_at == instant


def test_one_instant_written_two_ways_is_paged_by_id(url: str) -> None:
    """``...:05`` sorts before ``...:05.000000`` as text, yet both are 12:00:05: the id
    decides between them, also at a page boundary."""
    _create(url)
    _insert(url, ["2026-01-01 12:00:05.000000", "2026-01-01 12:00:05", "2026-01-01 12:00:04"])
    connection = _connect(url, page_size=1)

    pages = list(connection.fetch("company"))

    assert _ids(pages) == [3, 1, 2]
    for index, page in enumerate(pages):
        assert _ids(connection.fetch("company", since=page.cursor)) == _ids(pages[index + 1 :])


def test_naive_timestamps_are_read_and_written_in_the_configured_zone(url: str) -> None:
    _create(url, timezone="Europe/Rome")
    # wall-clock times of an application running in Rome: CEST in July, CET in December
    _insert(url, ["2026-07-01 12:00:00", "2026-12-01 12:00:00", "2026-07-01T12:30:00Z"])
    connection = _connect(url, timezone="Europe/Rome")

    stamps = [r["updated_at"] for r in _records(connection.fetch("company"))]

    assert stamps == [
        datetime(2026, 7, 1, 10, 0, tzinfo=UTC),
        datetime(2026, 7, 1, 12, 30, tzinfo=UTC),  # carries its own zone
        datetime(2026, 12, 1, 11, 0, tzinfo=UTC),
    ]
    # the connector's own stamps are Rome wall-clock times too, in the same order
    (result,) = connection.upsert("company", [UpsertItem(key="k", record={"name": "New"})])
    assert result.ok and result.record is not None
    engine = sa.create_engine(url)
    with engine.connect() as db:
        stored = db.execute(sa.text("SELECT updated_at FROM company WHERE id = 4")).scalar_one()
    engine.dispose()
    written = datetime.fromisoformat(stored).replace(tzinfo=ROME)
    assert written == result.record["updated_at"]
    assert abs(written - datetime.now(UTC)) < timedelta(minutes=5)


def test_a_naive_time_the_zone_skips_is_an_error_naming_the_setting(url: str) -> None:
    _create(url)
    _insert(url, ["2026-03-29 01:59:00", "2026-03-29 02:30:00"])  # Rome: 02:00 -> 03:00
    connection = _connect(url, timezone="Europe/Rome")

    with pytest.raises(ConnectorError) as caught:
        list(connection.fetch("company"))

    message = str(caught.value)
    assert "company.updated_at" in message and "id 2" in message
    assert "2026-03-29 02:30:00 does not exist in Europe/Rome" in message
    assert "timezone" in message


def test_the_timezone_setting_is_validated() -> None:
    with pytest.raises(ConfigError, match=r"settings\.timezone: .*'Europe/Roma' is not an IANA"):
        _connect("sqlite://", timezone="Europe/Roma")


def test_a_value_that_is_no_time_is_an_error_naming_table_column_and_row(url: str) -> None:
    _execute(url, "CREATE TABLE erp (id INTEGER PRIMARY KEY, name TEXT, changed TEXT)")
    for stamp in ("2026-01-01 00:00:00", "yesterday", "1767225600"):  # TEXT keeps all three
        _execute(url, "INSERT INTO erp (name, changed) VALUES ('A', :s)", s=stamp)
    connection = _connect(
        url,
        tables={"company": "erp"},
        columns={"company": {"updated_at": "changed", "name": "name"}},
        key_column="",
    )

    with pytest.raises(ConnectorError, match=r"erp\.changed of the row with id 2: 'yesterday'"):
        list(connection.fetch("company"))
    _execute(url, "DELETE FROM erp WHERE id = 2")
    with pytest.raises(ConnectorError, match=r"id 3: '1767225600' is a number stored as text"):
        list(connection.fetch("company"))


# -- keysets: page boundaries, resumed reads -------------------------------------------------------
def test_a_page_boundary_inside_equal_timestamps_loses_nothing(url: str) -> None:
    _create(url)
    _insert(url, ["2026-01-01 00:00:00"] * 250 + ["2026-01-01 00:00:01"] * 10)
    connection = _connect(url, page_size=100)

    pages = list(connection.fetch("company"))

    assert [len(page.records) for page in pages] == [100, 100, 60]
    assert _ids(pages) == list(range(1, 261))
    assert [page.cursor for page in pages] == [
        "2026-01-01T00:00:00.000000+00:00#100",
        "2026-01-01T00:00:00.000000+00:00#200",
        "2026-01-01T00:00:01.000000+00:00#260",
    ]


def test_a_run_killed_between_pages_resumes_from_its_page_cursor(url: str) -> None:
    _create(url)
    _insert(url, ["2026-01-01 00:00:00"] * BULK)
    connection = _connect(url, page_size=400)

    pages = connection.fetch("company")
    done = [next(pages), next(pages)]  # ... and the process dies here
    resumed = list(connection.fetch("company", since=done[-1].cursor))

    read = _ids(done) + _ids(resumed)
    assert sorted(read) == list(range(1, BULK + 1))  # every row, none twice
    # any page's cursor is a place to resume from, and the rest is exactly what follows it
    every = list(connection.fetch("company"))
    for index, page in enumerate(every):
        rest = _ids(connection.fetch("company", since=page.cursor))
        assert rest == _ids(every[index + 1 :])


def test_a_cursor_of_earlier_versions_still_means_at_or_after(url: str) -> None:
    _create(url)
    _insert(url, ["2026-01-01 00:00:00", "2026-01-01 00:00:01.5", "2026-01-01T00:00:02Z"])
    connection = _connect(url)

    assert _ids(connection.fetch("company", since="2026-01-01T00:00:01.500000+00:00")) == [2, 3]
    assert _ids(connection.fetch("company", since="2026-01-01T00:00:01.500000+00:00#2")) == [3]
    with pytest.raises(ConnectorError, match="run once with --full"):
        list(connection.fetch("company", since="last tuesday"))


def test_a_read_that_makes_no_progress_is_an_error_naming_table_and_column(url: str) -> None:
    """An id mapped to a column that is not unique: the same keyset twice, never a loop."""
    _execute(
        url,
        "CREATE TABLE erp_customers (code INTEGER, name TEXT, changed TEXT, "
        "row_key INTEGER PRIMARY KEY)",
    )
    for _ in range(3):
        _execute(
            url,
            "INSERT INTO erp_customers (code, name, changed) "
            "VALUES (7, 'A', '2026-01-01 00:00:00')",
        )
    connection = _connect(
        url,
        tables={"company": "erp_customers"},
        columns={"company": {"id": "code", "updated_at": "changed", "name": "name"}},
        key_column="",
        page_size=2,
    )

    with pytest.raises(ConnectorError) as caught:
        list(connection.fetch("company"))

    message = str(caught.value)
    assert "made no progress" in message
    assert "erp_customers" in message and "changed" in message and "code" in message


# -- rows changed while a run is under way ---------------------------------------------------------
def test_rows_changed_during_a_run_are_read_by_the_next_run(url: str) -> None:
    _create(url)
    _insert(url, ["2026-01-01 00:00:00"] * 30)
    connection = _connect(url, page_size=10)

    pages = connection.fetch("company")
    first = next(pages)
    # an application edits a row already read, stamping CURRENT_TIMESTAMP (whole seconds)
    second = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    _execute(url, "UPDATE company SET city = 'A', updated_at = :s WHERE id = 5", s=second)
    rest = list(pages)
    assert 5 in _ids(rest)  # moved after the others: read again in this run
    cursor = rest[-1].cursor
    assert cursor is not None and "#" not in cursor  # the run ends inclusive, at its start

    # later in the same second, the application edits a row of a smaller id
    _execute(url, "UPDATE company SET city = 'B', updated_at = :s WHERE id = 3", s=second)
    changed = {int(r["id"]): r["city"] for r in _records(connection.fetch("company", since=cursor))}

    assert changed == {3: "B", 5: "A"}
    assert len(_ids([first, *rest])) == 31


def test_a_row_stamped_in_the_future_does_not_carry_the_cursor_past_later_writes(
    url: str,
) -> None:
    _create(url)
    _insert(url, ["2026-01-01 00:00:00", (datetime.now(UTC) + timedelta(days=2)).isoformat()])
    connection = _connect(url)
    cursor = list(connection.fetch("company"))[-1].cursor
    assert cursor is not None
    assert datetime.fromisoformat(cursor) <= datetime.now(UTC)

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    _execute(url, "UPDATE company SET city = 'Bari', updated_at = :s WHERE id = 1", s=now)

    assert sorted(_ids(connection.fetch("company", since=cursor))) == [1, 2]


@pytest.mark.parametrize("separator", [" ", "T"])
@pytest.mark.parametrize("table", ["company", "erp"], ids=["connector's table", "application's"])
def test_a_time_with_an_offset_behind_utc_is_found_below_the_cursor(
    url: str, separator: str, table: str
) -> None:
    """``07:30-05:00`` is 12:30 UTC but sorts with 07:30: found all the same, through the
    partial index of the connector's own table or by a scan of an application's."""
    settings: dict[str, Any] = {}
    if table == "company":
        _create(url)
    else:
        _execute(
            url,
            "CREATE TABLE erp (id INTEGER PRIMARY KEY, name TEXT, country TEXT, updated_at TEXT)",
        )
        _execute(url, "CREATE INDEX ix_erp_updated_at ON erp (updated_at)")
        settings = {"tables": {"company": "erp"}, "key_column": ""}
    _insert(url, [f"2026-01-01 12:00:{s:02d}" for s in range(10)], table=table)
    connection = _connect(url, **settings)
    cursor = list(connection.fetch("company"))[-1].cursor

    _insert(url, [f"2026-01-01{separator}07:30:00-05:00"], table=table, first=10)

    assert _ids(connection.fetch("company", since=cursor)) == [11]


def test_the_connectors_sqlite_table_keeps_other_layouts_in_a_partial_index(url: str) -> None:
    """What the look below the cursor ranges over; INDEXED BY fails if it cannot be used."""
    _create(url)
    _insert(url, ["2026-01-01 12:00:00", "2026-01-01 12:00:00.5", "2026-01-01T12:00:00Z", 1])
    own = FAMILIES[0].shape_sql("updated_at")
    engine = sa.create_engine(url)
    with engine.connect() as db:
        statement = sa.text(
            "SELECT updated_at FROM company INDEXED BY ix_company_updated_at_other "
            f"WHERE NOT ({own})"
        )
        other = db.execute(statement).scalars().all()
    engine.dispose()
    assert other == [1, "2026-01-01 12:00:00.5", "2026-01-01T12:00:00Z"]


def test_a_naive_time_in_the_hour_clocks_repeat_is_never_skipped(url: str) -> None:
    """New York, 2025-11-02: 01:00-02:00 happens twice. A row stamped 01:10 in the second
    pass sorts before one stamped 01:50 in the first, and is read after it all the same."""
    _create(url, timezone="America/New_York")
    _insert(url, ["2025-11-02 01:50:00"])  # EDT: 05:50 UTC
    connection = _connect(url, timezone="America/New_York")
    (first,) = list(connection.fetch("company"))
    assert _records([first])[0]["updated_at"] == datetime(2025, 11, 2, 5, 50, tzinfo=UTC)

    _insert(url, ["2025-11-02 01:10:00"], first=1)  # EST, 06:10 UTC: after the cursor

    assert 2 in _ids(connection.fetch("company", since=first.cursor))


# -- the property ----------------------------------------------------------------------------------
BASE = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ZONES = ["UTC", "Europe/Rome", "America/New_York"]


def _whole(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _milli(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _written(fmt: str, moment: datetime, zone: ZoneInfo, offset: int) -> tuple[Any, datetime]:
    """``moment`` written in format ``fmt``, and the instant that text really holds."""
    local = moment.astimezone(zone).replace(tzinfo=None)
    if fmt == "current_timestamp":
        return local.strftime("%Y-%m-%d %H:%M:%S"), _whole(moment)
    if fmt == "sqlalchemy":
        return local.strftime("%Y-%m-%d %H:%M:%S.%f"), moment
    if fmt == "naive_t":
        return local.isoformat(), moment
    if fmt == "utc":
        return moment.isoformat(), moment
    if fmt == "z":
        return _milli(moment).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", _milli(moment)
    if fmt == "offset":
        shifted = moment.astimezone(timezone(timedelta(minutes=offset)))
        return shifted.isoformat(sep=" " if offset % 2 else "T"), moment
    if fmt == "epoch":
        return int(moment.timestamp()), _whole(moment)
    assert fmt == "epoch_real"
    return moment.timestamp(), moment


FORMATS = ["current_timestamp", "sqlalchemy", "naive_t", "utc", "z", "offset", "epoch"]
rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 5),  # seconds after BASE: few, so that many rows tie
        st.sampled_from([0, 250_000, 250_123]),  # and their fractions
        st.sampled_from([*FORMATS, "epoch_real"]),
        # the offset, in minutes, of "offset": near the zones' own offsets, or anywhere
        st.one_of(st.sampled_from([-720, -300, -1, 0, 1, 60, 120, 840]), st.integers(-720, 840)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=rows_strategy,
    zone=st.sampled_from(ZONES),
    page_size=st.integers(1, 6),
    probe=st.tuples(st.integers(-1, 6), st.sampled_from([0, 250_000]), st.integers(0, 26)),
)
def test_a_read_from_any_cursor_returns_exactly_the_rows_after_it(
    rows: list[tuple[int, int, str, int]],
    zone: str,
    page_size: int,
    probe: tuple[int, int, int],
) -> None:
    """Any mix of formats and ties: the full read is in (time, id) order, and a read from
    any cursor (each page's, or any instant and id) is exactly the rows after it."""
    expected: dict[int, datetime] = {}
    stamps = []
    for index, (seconds, micro, fmt, offset) in enumerate(rows, start=1):
        moment = BASE + timedelta(seconds=seconds, microseconds=micro)
        stamp, expected[index] = _written(fmt, moment, ZoneInfo(zone), offset)
        stamps.append(stamp)
    order = sorted(expected, key=lambda i: (expected[i], i))

    with TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/p.db"
        _create(url)
        _insert(url, stamps)
        with _connect(url, timezone=zone, page_size=page_size) as connection:
            pages = list(connection.fetch("company"))
            records = _records(pages)
            assert [int(r["id"]) for r in records] == order
            assert {int(r["id"]): r["updated_at"] for r in records} == expected

            for index, page in enumerate(pages):
                assert _ids(connection.fetch("company", since=page.cursor)) == _ids(
                    pages[index + 1 :]
                ), f"resumed from {page.cursor}"

            at = BASE + timedelta(seconds=probe[0], microseconds=probe[1])
            after = [i for i in order if (expected[i], i) > (at, probe[2])]
            keyset = f"{at.isoformat(timespec='microseconds')}#{probe[2]}"
            assert _ids(connection.fetch("company", since=keyset)) == after
            since = [i for i in order if expected[i] >= at]
            assert _ids(connection.fetch("company", since=at.isoformat())) == since


# -- PostgreSQL and MariaDB: native types ----------------------------------------------------------
@pytest.fixture
def suffix() -> str:
    return uuid.uuid4().hex[:10]


def _server_table(url: str, name: str, column: str, **settings: Any) -> Connection:
    engine = sa.create_engine(url)
    with engine.begin() as db:
        db.execute(
            sa.text(
                f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL, "
                f"updated_at {column})"
            )
        )
    engine.dispose()
    return _connect(
        url,
        tables={"company": name},
        columns={"company": {"id": "id", "name": "name", "updated_at": "updated_at"}},
        key_column="",
        **settings,
    )


def _drop(url: str, name: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as db:
        db.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    engine.dispose()


def _server_rows(url: str, name: str, stamp_sql: str, ids: range, session: str = "") -> None:
    engine = sa.create_engine(url)
    with engine.begin() as db:
        if session:
            db.execute(sa.text(session))
        for i in ids:
            db.execute(
                sa.text(
                    f"INSERT INTO {name} (id, name, updated_at) VALUES ({i}, 'C{i}', {stamp_sql})"
                )
            )
    engine.dispose()


def _ties_page_and_resume(connection: Connection) -> None:
    pages = list(connection.fetch("company"))
    assert _ids(pages) == list(range(1, 26))
    assert len({r["updated_at"] for r in _records(pages)}) == 1
    for index, page in enumerate(pages):
        assert _ids(connection.fetch("company", since=page.cursor)) == _ids(pages[index + 1 :])


@pytest.mark.postgres
@pytest.mark.parametrize("column", ["TIMESTAMPTZ", "TIMESTAMP", "TIMESTAMP(0)"])
def test_postgres_ties_of_a_native_timestamp_page_and_resume(
    postgres_url: str, suffix: str, column: str
) -> None:
    name = f"ts_pg_{suffix}"
    try:
        with _server_table(postgres_url, name, column, page_size=10) as connection:
            _server_rows(postgres_url, name, "TIMESTAMP '2026-01-01 00:00:00'", range(1, 26))
            _ties_page_and_resume(connection)
    finally:
        _drop(postgres_url, name)


@pytest.mark.postgres
def test_postgres_naive_now_under_another_session_zone_is_read_in_the_setting(
    postgres_url: str, suffix: str
) -> None:
    name = f"ts_pg_{suffix}"
    try:
        with _server_table(postgres_url, name, "TIMESTAMP", timezone="Europe/Rome") as conn:
            session = "SET TIME ZONE 'Europe/Rome'"
            _server_rows(postgres_url, name, "now()", range(1, 3), session)
            pages = list(conn.fetch("company"))
            for record in _records(pages):
                assert abs(record["updated_at"] - datetime.now(UTC)) < timedelta(minutes=5)
            _server_rows(postgres_url, name, "now()", range(3, 4), session)
            assert _ids(conn.fetch("company", since=pages[-1].cursor)) == [3]
            # and what the connector writes there is Rome time as well
            (result,) = conn.upsert("company", [UpsertItem(key="k", id="1", record={"name": "X"})])
            assert result.ok and result.record is not None
            assert abs(result.record["updated_at"] - datetime.now(UTC)) < timedelta(minutes=5)
    finally:
        _drop(postgres_url, name)


def _rome_offset() -> str:
    offset = datetime.now(ROME).utcoffset() or timedelta()
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    return f"{hours:+03d}:{rest // 60:02d}"


@pytest.mark.mariadb
@pytest.mark.parametrize("column", ["DATETIME(6)", "DATETIME", "TIMESTAMP(6) NULL"])
def test_mariadb_ties_of_a_native_timestamp_page_and_resume(
    mariadb_url: str, suffix: str, column: str
) -> None:
    name = f"ts_my_{suffix}"
    try:
        with _server_table(mariadb_url, name, column, page_size=10) as connection:
            _server_rows(mariadb_url, name, "'2026-01-01 00:00:00'", range(1, 26))
            _ties_page_and_resume(connection)
    finally:
        _drop(mariadb_url, name)


@pytest.mark.mariadb
@pytest.mark.parametrize("column", ["DATETIME(6)", "TIMESTAMP(6) NULL"])
def test_mariadb_now_under_another_session_zone_is_read_right(
    mariadb_url: str, suffix: str, column: str
) -> None:
    """DATETIME keeps the session's wall time: read in ``timezone``. TIMESTAMP keeps the
    instant: read right whatever the writer's session zone (and ``timezone``)."""
    name = f"ts_my_{suffix}"
    session = f"SET time_zone = '{_rome_offset()}'"
    try:
        with _server_table(mariadb_url, name, column, timezone="Europe/Rome") as connection:
            _server_rows(mariadb_url, name, "NOW(6)", range(1, 3), session)
            pages = list(connection.fetch("company"))
            for record in _records(pages):
                assert abs(record["updated_at"] - datetime.now(UTC)) < timedelta(minutes=5)
            _server_rows(mariadb_url, name, "NOW(6)", range(3, 4), "SET time_zone = '+05:00'")
            changed = _records(connection.fetch("company", since=pages[-1].cursor))
            assert [int(r["id"]) for r in changed] == [3]
            if column.startswith("TIMESTAMP"):
                assert abs(changed[0]["updated_at"] - datetime.now(UTC)) < timedelta(minutes=5)
    finally:
        _drop(mariadb_url, name)
