"""The incremental cursor against a model: hypothesis looks for a run that loses a change.

The Changes API (over real HTTP) holds records whose times come from a clock the test drives,
in whole seconds by default, so many records share one instant (bulk creates, bulk updates,
several in the second a read begins). Between any two pages of a read, records are created
and updated and the clock moves; reads use random page sizes, each run one of the declared
ways to read (ordered or not; pages, offsets, tokens, links; a filter on time alone, or a
keyset filter; "at or after" or "strictly after"), and a run may crash after any page,
leaving the cursor of its last page as the engine would resume from.

The model is the meaning of "in step", per record: the versions a consumer has received.
After every run, checked:

- **at least once**: every record whose current version was not received before the run
  began is received (in that version or a later one) by the run;
- **never twice within a run**: no version of a record comes twice in one run;
- **idle runs are quiet**: a run after a complete run, with nothing written in between,
  reads only records stamped inside the previous run's signpost window (at or after its
  start less the skew, rounded down to the second), and nothing at all once the clock has
  moved past every record by more than that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from changes_api import ChangesApi
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from syncbridge.http import Client
from syncbridge.records import Page
from syncbridge.rest import (
    CursorToken,
    ErrorMap,
    Incremental,
    NextLink,
    Offset,
    PageNumber,
    Resource,
    Since,
)
from syncbridge.rest.instants import SECOND, floor

pytestmark = pytest.mark.slow

ERRORS = ErrorMap(system="Changes API", message="error.message")


def _keyset(since: Since) -> dict[str, Any]:
    params = {"since": since.exact}
    if since.id is not None:
        params["after_id"] = since.id
    return params


def resources(api: ChangesApi, skew: timedelta, size: int) -> dict[str, Resource]:
    """Every way the toolkit reads a listing, as a connector would declare it."""

    def incremental(**options: Any) -> Incremental:
        return Incremental(field="updated_at", clock=lambda: api.now, skew=skew, **options)

    by_time = {"sort": "time"}
    by_id = {"sort": "id"}
    pages = PageNumber(last_page="meta.last_page")
    return {
        # ordered by (time, id), filtered on time alone: re-anchored, paged on within instants
        "ordered pages, at or after": Resource(
            "/items", records="data", paginator=pages, page_size=size, params=by_time,
            incremental=incremental(since="since", ordered=True),
        ),
        "ordered offsets, strictly after": Resource(
            "/items", records="data", paginator=Offset(), page_size=size,
            params={**by_time, "op": "gt"},
            incremental=incremental(since="since", inclusive=False, ordered=True),
        ),
        # ordered, the filter is the keyset itself
        "ordered keyset filter": Resource(
            "/items", records="data", paginator=pages, page_size=size, params=by_time,
            incremental=incremental(since=_keyset, ordered=True, keyset=True),
        ),
        # ordered, a server-kept token
        "ordered token": Resource(
            "/items", records="data", paginator=CursorToken(token="meta.next"),
            page_size=size, params=by_time, incremental=incremental(since="since", ordered=True),
        ),
        # by id, the time only filters: the cursor comes with the last page
        "by id, pages, strictly after": Resource(
            "/items", records="data", paginator=pages, page_size=size,
            params={**by_id, "op": "gt"},
            incremental=incremental(since="since", inclusive=False),
        ),
        "by id, next links": Resource(
            "/items", records="data", paginator=NextLink(size_param="per_page"),
            page_size=size, params={**by_id, "page": 1, "links": 1},
            incremental=incremental(since="since"),
        ),
    }


MODES = sorted(resources(ChangesApi.__new__(ChangesApi), timedelta(0), 1))


@dataclass
class Run:
    mode: str
    pages: Iterator[Page]
    started: datetime
    #: the versions of each record that were new when the run began
    owed: dict[int, int]
    #: every record as it was when the run began
    rows: dict[int, dict[str, Any]]
    #: the (id, version) pairs received, in order
    received: list[tuple[int, int]]
    cursor: str | None
    #: the start of the signpost window of the complete run before, if nothing was written
    #: since it (an idle run)
    window: datetime | None
    #: an idle run after an idle complete run, past every record's window: must read nothing
    silent: bool


class CursorModel(RuleBasedStateMachine):
    """Runs of incremental reads against the Changes API, checked against the model."""

    api: ChangesApi
    client: Client

    def __init__(self) -> None:
        super().__init__()
        self.run: Run | None = None
        #: the cursor the engine keeps between runs
        self.cursor: str | None = None
        #: the newest version of each record received by any run
        self.received: dict[int, int] = {}
        #: nothing written since the last complete run (and when that run began)
        self.quiet_since: datetime | None = None
        self.skew = timedelta(0)
        #: something was written during the run under way
        self.dirty = False

    @initialize(
        coarse=st.booleans(),
        skew=st.sampled_from([0, 0, 1, 2]),
        seed=st.integers(min_value=0, max_value=12),
    )
    def start(self, coarse: bool, skew: int, seed: int) -> None:
        self.api.reset(coarse=coarse)
        self.skew = timedelta(seconds=skew)
        self.api.create(seed)

    # -- the world changes -------------------------------------------------------------------
    @rule(seconds=st.sampled_from([0.25, 0.5, 1, 1, 2, 5]))
    def tick(self, seconds: float) -> None:
        self.api.tick(seconds)

    @rule(count=st.integers(min_value=1, max_value=8))
    def create(self, count: int) -> None:
        self.api.create(count)
        self.written()

    @rule(data=st.data())
    def update(self, data: st.DataObject) -> None:
        ids = sorted(self.api.snapshot())
        if not ids:
            return
        chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=6, unique=True))
        self.api.modify(chosen)
        self.written()

    @precondition(lambda self: self.run is not None and self.run.received)
    @rule(data=st.data())
    def update_what_the_run_read(self, data: st.DataObject) -> None:
        """Records read already move to the end of an ordered listing, shifting the rest."""
        assert self.run is not None
        ids = sorted({row_id for row_id, _version in self.run.received})
        chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
        self.api.modify(chosen)
        self.written()

    def written(self) -> None:
        self.quiet_since = None
        self.dirty = self.run is not None  # the run under way is no quiet one

    # -- runs --------------------------------------------------------------------------------
    @precondition(lambda self: self.run is None)
    @rule(mode=st.sampled_from(MODES), size=st.integers(min_value=1, max_value=7))
    def begin(self, mode: str, size: int) -> None:
        resource = resources(self.api, self.skew, size)[mode]
        rows = self.api.snapshot()
        owed = {
            row_id: row["version"]
            for row_id, row in rows.items()
            if row["version"] > self.received.get(row_id, 0)
        }
        silent = self.quiet_since is not None and all(
            row["updated_at"] < self.window(self.quiet_since) for row in rows.values()
        )
        self.run = Run(
            mode,
            resource.fetch(self.client, ERRORS, self.cursor, {}),
            self.api.now,
            owed,
            rows,
            [],
            self.cursor,
            window=None if self.quiet_since is None else self.window(self.quiet_since),
            silent=silent,
        )

    def window(self, started: datetime) -> datetime:
        """The start of the signpost window of a run that began at ``started``."""
        return floor(started - self.skew, SECOND)

    @precondition(lambda self: self.run is not None)
    @rule()
    def page(self) -> None:
        run = self.run
        assert run is not None
        page = next(run.pages, None)
        if page is None:
            self.finish(run)
            return
        for record in page.records:
            run.received.append((record["id"], record["version"]))
            self.received[record["id"]] = max(self.received.get(record["id"], 0), record["version"])
        if page.cursor is not None:
            run.cursor = page.cursor

    @precondition(lambda self: self.run is not None)
    @rule()
    def rest_of_the_run(self) -> None:
        """The remaining pages, nothing written in between."""
        while self.run is not None:
            self.page()

    @precondition(lambda self: self.run is not None)
    @rule(now=st.integers(min_value=0, max_value=3))
    def crash(self, now: int) -> None:
        """The run dies after the pages read so far (one time in four); the next resumes
        from its last cursor."""
        run = self.run
        assert run is not None
        if now:
            return
        run.pages.close()  # type: ignore[attr-defined]
        self.cursor = run.cursor
        self.run = None
        self.quiet_since = None
        self.dirty = False

    def finish(self, run: Run) -> None:
        twice = [pair for pair, seen in Counter(run.received).items() if seen > 1]
        assert not twice, f"{run.mode}: received twice within one run: {twice}"
        missed = {
            row_id: version
            for row_id, version in run.owed.items()
            if self.received.get(row_id, 0) < version
        }
        assert not missed, f"{run.mode}: changes not read by the run (id: version): {missed}"
        # records as they were when the run began (a version written since may be read)
        unchanged = [
            (i, run.rows[i]["updated_at"])
            for i, version in run.received
            if i in run.rows and version == run.rows[i]["version"]
        ]
        if run.window is not None:
            old = [i for i, stamp in unchanged if stamp < run.window]
            assert not old, f"{run.mode}: an idle run read records older than its window: {old}"
        if run.silent:
            assert not unchanged, f"{run.mode}: an idle run read {unchanged}"
        self.cursor = run.cursor
        self.run = None
        if self.dirty:
            self.dirty = False
            self.quiet_since = None
        else:
            self.quiet_since = run.started

    @invariant()
    def cursors_have_one_format(self) -> None:
        if self.cursor is not None:
            instant, _sep, _id = self.cursor.partition("#")
            assert instant.endswith("+00:00") and len(instant) == 32, self.cursor

    def teardown(self) -> None:
        if self.run is not None:
            self.run.pages.close()  # type: ignore[attr-defined]


def test_no_run_loses_or_repeats_a_change(api: ChangesApi, client: Client) -> None:
    CursorModel.api = api
    CursorModel.client = client
    run_state_machine_as_test(
        CursorModel,
        settings=settings(
            max_examples=150,
            stateful_step_count=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
