"""Counter-examples to docs/concepts/merge.md, searched for by a state machine.

Hypothesis drives random creates (names from a pool of four, so that duplicates and
ambiguous groups are frequent), edits, clears, deletes, restores, pinned links, runs,
``--full`` runs, plans and crashes between the engine's stages against two systems synced
by the real engine, and after every run compares both systems with the reference merge of
:mod:`tests.engine.reference`, written from merge.md alone:

1. both sides equal the model on every synced field (so nothing duplicated, lost, or back
   from the dead), and the engine's live links are the model's;
2. every record's report row is the one the model predicts, and nothing else is reported;
3. a run writes exactly the records the model changes (a quiet run writes nothing);
4. ``plan`` reports exactly what the following ``run`` does, and writes nothing.

Crashes are injected in-process by wrapping a connection method (or a stage function) so
that it raises a :class:`Crash` (a ``BaseException``: nothing in the engine may swallow it)
once: after a side was read, before a batch goes out (the other workers' batches still go),
after it went out but before the engine saw the result, halfway through a batch, or when a
cursor is about to be stored (``SideStore.set_cursor``: the match-key signature at the start
of a run, a side's read cursor at its end; skipped if the engine has no such function). The
next run must then end where an uninterrupted run would have.

``run_while_a_user_edits`` has a user change one field of a record while the run is writing
another field of it (READING, see the rule: the change must flow at the next run). Machines:
two-way with either priority, with ``deletes = true``, one-way, and sql <-> the Fatture in
Cloud emulator over HTTP on 127.0.0.1. A record deleted since the last complete read makes
the next run ``--full``: the sql connector reports no deletions, and what an incremental
run should do about one it cannot see is not specified.

Profiles: the default (CI) runs the same ~90 examples (about 1,200 steps) on every run, a
few minutes of one core; ``SYNCBRIDGE_SOAK=1`` (``make soak``) draws anew and runs at least
10,000 steps of the main machine, and 200 examples of 30 steps of each other machine's
share. Failures print the shortest sequence of steps hypothesis found.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from syncbridge.connection import Connection
from syncbridge.emulator import EmulatorOptions
from syncbridge.emulator.config import connection_toml, toml_value
from syncbridge.emulator.server import running
from syncbridge.engine.runner import RunSummary, run_sync
from syncbridge.models import Company
from syncbridge.plugins import load_connector
from syncbridge.records import UpsertItem, UpsertResult
from syncbridge.workspace import Workspace
from syncbridge_fattureincloud.emulator import MAIN_COMPANY, FicEmulator
from syncbridge_sql.schema import default_table
from tests.engine.bed import Bed
from tests.engine.reference import NOTHING, SIDES, Prediction, Record, Reference, Side

FIELDS = ("name", "email", "phone", "city")
NAMES = ("Alfa", "Beta", "Gamma", "alfa")  # "alfa" matches "Alfa": same key, another value
POOLS: dict[str, tuple[Any, ...]] = {
    "name": NAMES,
    "email": ("a@x.it", "b@x.it", None, ""),
    "phone": ("111", "222", None, ""),
    "city": ("Torino", "Bari", None, ""),
}
EDITS = [(name, value) for name, pool in POOLS.items() for value in pool]
#: a record put on one side: (side, values)
RECORDS = st.tuples(
    st.sampled_from(SIDES),
    st.fixed_dictionaries({name: st.sampled_from(pool) for name, pool in POOLS.items()}),
)
CRASH_POINTS = ("read", "before_send", "after_send", "mid_batch", "set_cursor")

SOAK = os.environ.get("SYNCBRIDGE_SOAK", "") not in ("", "0")
#: steps the soak run must reach (make soak)
SOAK_STEPS = 10_000

# max_examples is the main machine's; the others run a share of it (see the tests below)
settings.register_profile(
    "syncbridge-ci",
    # the same examples on every CI run: a red CI is then a change's doing, not the draw's
    # (make soak draws anew)
    derandomize=True,
    max_examples=40,
    stateful_step_count=14,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "syncbridge-soak",
    max_examples=200,
    stateful_step_count=30,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
PROFILE = settings.get_profile("syncbridge-soak" if SOAK else "syncbridge-ci")


class Crash(BaseException):
    """A simulated kill: a BaseException, so no ``except Exception`` in the engine stops it."""


# -- the two systems --------------------------------------------------------------------------


def no_id_reuse(url: str) -> None:
    """Create the company table in the connector's default layout, with ids never reused.

    SQLite hands the id of a deleted last row to the next insert unless the table says
    AUTOINCREMENT; a real ERP never reuses an id, and "same id, same record" is what the
    engine (and merge.md, for restored records) relies on.
    """
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        table = default_table(metadata, "company", "company", "sync_key", None)
        table.dialect_options["sqlite"]["autoincrement"] = True
        metadata.create_all(engine)
    finally:
        engine.dispose()


class State:
    """Read-only queries on the state store of a sync named ``main`` (kept open: cheap)."""

    def __init__(self, path: Path) -> None:
        self.engine = sa.create_engine(f"sqlite:///{path}")

    def close(self) -> None:
        self.engine.dispose()

    def items(self, run_id: int, entity: str = "company") -> list[Any]:
        with self.engine.connect() as db:
            return list(
                db.execute(
                    sa.text(
                        "SELECT side, record_id, target_id, action, reason, detail FROM run_item "
                        "WHERE run_id = :run AND entity = :entity ORDER BY id"
                    ),
                    {"run": run_id, "entity": entity},
                ).all()
            )

    def links(self, entity: str = "company") -> list[tuple[str, str]]:
        with self.engine.connect() as db:
            rows = db.execute(
                sa.text("SELECT left_id, right_id FROM link WHERE sync = 'main' AND entity = :e"),
                {"e": entity},
            ).all()
        return [(str(left), str(right)) for left, right in rows]


class SqlSystems:
    """Both sides in SQLite through the sql connector: the Bed, plus a user's connection
    to each database (kept open across steps, as an application's would be)."""

    tie_edits = True

    def __init__(self, folder: Path, rule: dict[str, Any]) -> None:
        engine_settings = {"page_size": 2, "batch_size": 2, "lookback_seconds": 1.0}
        for side in SIDES:
            no_id_reuse(f"sqlite:///{folder / f'{side}.db'}")
        self.bed = Bed(
            folder, {"company": rule}, left_settings=engine_settings, right_settings=engine_settings
        )
        self.rule = rule
        self.user = {
            side: Connection(
                f"{side}-user",
                load_connector("sql"),
                {"url": f"sqlite:///{folder / f'{side}.db'}", "page_size": 1000},
            )
            for side in SIDES
        }
        self.state = State(folder / "state.db")

    def close(self) -> None:
        for connection in self.user.values():
            connection.close()
        self.state.close()

    def put(self, side: Side, values: dict[str, Any]) -> str:
        conn = self.user[side]
        native = conn.map_out("company", Company.model_validate(values))
        item = UpsertItem(key=f"user-{uuid.uuid4().hex}", record=native)
        [result] = conn.upsert("company", [item])
        assert result.ok and result.id is not None, result.error
        return str(result.id)

    def edit(self, side: Side, rid: str, changes: dict[str, Any]) -> None:
        [result] = self.user[side].upsert(
            "company",
            [UpsertItem(key=f"edit-{rid}", id=rid, record=changes, changed=frozenset(changes))],
        )
        assert result.ok, result.error

    def remove(self, side: Side, rid: str) -> None:
        [result] = self.user[side].delete("company", [rid])
        assert result.ok, result.error

    def _stamp(self, db: sa.Connection) -> str:
        """A stamp tying with the newest row, as the default layout stores it (text).

        When the newest row is older than half the lookback, it is now instead (still one
        stamp for all the rows of the edit): a tie must stay inside the connector's
        lookback window, or the connector itself could not promise to see it.
        """
        newest = db.execute(sa.text("SELECT max(updated_at) FROM company")).scalar()
        now = datetime.now(UTC).replace(tzinfo=None)
        if newest is None or datetime.fromisoformat(newest) < now - timedelta(seconds=0.5):
            return now.strftime("%Y-%m-%d %H:%M:%S.%f")
        return str(newest)

    def edit_tied(self, side: Side, rids: list[str], changes: dict[str, Any]) -> None:
        """Edit rows behind the connector's back, all with one stamp tying with the newest."""
        engine = sa.create_engine(f"sqlite:///{self.bed.folder / f'{side}.db'}")
        try:
            with engine.begin() as db:
                assigns = ", ".join(f"{name} = :{name}" for name in changes)
                ids = ", ".join(str(int(rid)) for rid in rids)
                db.execute(
                    sa.text(
                        f"UPDATE company SET {assigns}, updated_at = :stamp WHERE id IN ({ids})"
                    ),
                    {**changes, "stamp": self._stamp(db)},
                )
        finally:
            engine.dispose()

    def restore(self, side: Side, rid: str, values: dict[str, Any]) -> None:
        """Put a deleted record back with its id (restored from the system's bin)."""
        engine = sa.create_engine(f"sqlite:///{self.bed.folder / f'{side}.db'}")
        columns = ", ".join(FIELDS)
        params = ", ".join(":" + name for name in FIELDS)
        try:
            with engine.begin() as db:
                db.execute(
                    sa.text(
                        f"INSERT INTO company (id, {columns}, updated_at) "
                        f"VALUES (:id, {params}, :stamp)"
                    ),
                    {
                        "id": int(rid),
                        "stamp": self._stamp(db),
                        **{name: values.get(name) or None for name in FIELDS},
                    },
                )
        finally:
            engine.dispose()

    def contents(self, side: Side) -> dict[str, Record]:
        conn = self.user[side]
        records = [
            conn.map_in("company", native)
            for page in conn.fetch("company")
            for native in page.records
        ]
        return {str(r.id): {name: getattr(r, name) for name in FIELDS} for r in records}

    def sync(self, **options: Any) -> RunSummary:
        return self.bed.sync(**options)

    def items(self, run_id: int) -> list[Any]:
        return self.state.items(run_id)

    def links(self) -> list[tuple[str, str]]:
        return self.state.links()

    def pin(self, pins: dict[str, str]) -> None:
        self.rule = {**self.rule, "links": dict(pins)}
        self.bed.rewrite({"company": self.rule})


class FicSystems:
    """The sql connector on the left, the Fatture in Cloud emulator on the right (real HTTP
    on 127.0.0.1). Users edit and delete in the emulator's store (as in FiC's own pages);
    records are put on the right through the API. Every record is Italian (FiC reads a
    client without a country as Italy: a system default, kept out of the picture)."""

    tie_edits = False
    #: model field -> FiC client field
    NATIVE: ClassVar[dict[str, str]] = {
        "name": "name",
        "email": "email",
        "phone": "phone",
        "city": "address_city",
    }

    def __init__(self, folder: Path, rule: dict[str, Any], emulator: Any, url: str) -> None:
        self.folder = folder
        self.rule = rule
        self.emulator = emulator
        self.clients = emulator.table(MAIN_COMPANY, "clients")
        self.clients.clear()
        left_db = f"sqlite:///{folder / 'left.db'}"
        no_id_reuse(left_db)
        left_settings = {"url": left_db, "page_size": 3, "batch_size": 2}
        self.fic_settings = emulator.settings_for(url)
        self.config = folder / "syncbridge.toml"
        self.header = (
            '[state]\nurl = "sqlite:///state.db"\n'
            + connection_toml("left", "sql", left_settings)
            + connection_toml("right", "fattureincloud", self.fic_settings)
        )
        self.write_config()
        self.user = {
            "left": Connection("left-user", load_connector("sql"), {"url": left_db}),
            "right": Connection("right-user", load_connector("fattureincloud"), self.fic_settings),
        }
        self.state = State(folder / "state.db")

    def write_config(self) -> None:
        rule = "\n".join(f"{key} = {toml_value(value)}" for key, value in self.rule.items())
        self.config.write_text(
            self.header
            + '\n[syncs.main]\nleft = "left"\nright = "right"\n'
            + f"[syncs.main.entities.company]\n{rule}\n",
            encoding="utf-8",
        )

    def close(self) -> None:
        for connection in self.user.values():
            connection.close()
        self.state.close()

    def put(self, side: Side, values: dict[str, Any]) -> str:
        conn = self.user[side]
        native = conn.map_out("company", Company.model_validate({**values, "country": "IT"}))
        item = UpsertItem(key=f"user-{uuid.uuid4().hex}", record=native)
        [result] = conn.upsert("company", [item])
        assert result.ok and result.id is not None, result.error
        return str(result.id)

    def edit(self, side: Side, rid: str, changes: dict[str, Any]) -> None:
        if side == "left":
            [result] = self.user[side].upsert(
                "company",
                [UpsertItem(key=f"edit-{rid}", id=rid, record=changes, changed=frozenset(changes))],
            )
            assert result.ok, result.error
            return
        native = {self.NATIVE[name]: value for name, value in changes.items()}
        assert self.clients.update(int(rid), native) is not None

    def remove(self, side: Side, rid: str) -> None:
        if side == "left":
            [result] = self.user[side].delete("company", [rid])
            assert result.ok, result.error
        else:
            assert self.clients.delete(int(rid)) is not None

    def contents(self, side: Side) -> dict[str, Record]:
        conn = self.user[side]
        records = [
            conn.map_in("company", native)
            for page in conn.fetch("company")
            for native in page.records
        ]
        assert all(getattr(r, "country", None) == "IT" for r in records), records
        return {str(r.id): {name: getattr(r, name) for name in FIELDS} for r in records}

    def sync(self, **options: Any) -> RunSummary:
        with Workspace.load(self.config) as workspace:
            return run_sync(
                "main",
                workspace.config.syncs["main"],
                workspace.sync_connections("main"),
                workspace.store,
                **options,
            )

    def items(self, run_id: int) -> list[Any]:
        return self.state.items(run_id)

    def links(self) -> list[tuple[str, str]]:
        return self.state.links()

    def pin(self, pins: dict[str, str]) -> None:
        self.rule = {**self.rule, "links": dict(pins)}
        self.write_config()


# -- crashes ----------------------------------------------------------------------------------


@contextmanager
def crash_at(point: str, side: Side) -> Iterator[list[str]]:
    """Make the next run crash once at ``point`` (on ``side``'s connection where it matters).

    Yields a list that gets the point's name when the crash was actually raised.
    """
    fired: list[str] = []
    lock = threading.Lock()

    def first() -> bool:
        with lock:
            if fired:
                return False
            fired.append(point)
            return True

    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, replacement: Any) -> None:
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    upsert = Connection.upsert
    fetch = Connection.fetch
    if point == "read":

        def crashing_fetch(self: Connection, entity: str, *args: Any, **kwargs: Any) -> Any:
            pages = fetch(self, entity, *args, **kwargs)
            if not self.name.startswith(side):
                return pages

            def pages_then_crash() -> Iterator[Any]:
                yield from pages
                if first():
                    raise Crash("killed while reading")

            return pages_then_crash()

        patch(Connection, "fetch", crashing_fetch)
    elif point in ("before_send", "after_send", "mid_batch"):

        def crashing_upsert(
            self: Connection, entity: str, items: list[UpsertItem]
        ) -> list[UpsertResult]:
            if fired or not items:
                return upsert(self, entity, items)
            if point == "before_send" and first():
                raise Crash("killed before the batch went out")
            if point == "after_send":
                results = upsert(self, entity, items)
                if first():
                    raise Crash("killed after the batch went out, before its results were kept")
                return results
            if point == "mid_batch" and first():
                upsert(self, entity, items[: max(1, len(items) // 2)])
                raise Crash("killed halfway through a batch")
            return upsert(self, entity, items)

        patch(Connection, "upsert", crashing_upsert)
    elif point == "set_cursor":
        from syncbridge.engine import db as engine_db

        store = getattr(engine_db, "SideStore", None)
        original = getattr(store, "set_cursor", None)
        if store is not None and original is not None:

            def crashing_cursor(self: Any, *args: Any, **kwargs: Any) -> Any:
                if first():
                    raise Crash("killed as a cursor was about to be stored")
                return original(self, *args, **kwargs)

            patch(store, "set_cursor", crashing_cursor)
    try:
        yield fired
    finally:
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)


@contextmanager
def concurrent_edit(side: Side, edit: Callable[[str, frozenset[str]], None]) -> Iterator[list[str]]:
    """Call ``edit(record id, fields being written)`` once, just before the run's first
    update of a ``side`` record goes out (a user editing the record during the run)."""
    done: list[str] = []
    upsert = Connection.upsert

    def editing_upsert(
        self: Connection, entity: str, items: list[UpsertItem]
    ) -> list[UpsertResult]:
        if not done and self.name.startswith(side):
            for item in items:
                if item.id is not None:
                    done.append(str(item.id))
                    edit(str(item.id), frozenset(item.changed or item.record))
                    break
        return upsert(self, entity, items)

    Connection.upsert = editing_upsert  # type: ignore[method-assign]
    try:
        yield done
    finally:
        Connection.upsert = upsert  # type: ignore[method-assign]


# -- comparing with the model -----------------------------------------------------------------


def describe(items: list[Any]) -> str:
    return (
        "\n".join(
            f"    {item.side} {item.record_id}: {item.action} — {item.reason}" for item in items
        )
        or "    (no rows)"
    )


def report_problems(
    prediction: Prediction, items: list[Any], renames: dict[tuple[Side, str], str]
) -> list[str]:
    """Where the run's report differs from the model's prediction."""
    index: dict[tuple[str, str], int] = {}
    for number, expect in enumerate(prediction.expects):
        for side, rid in expect.members:
            index[(side, renames.get((side, rid), rid))] = number
    actions: dict[int, list[str]] = defaultdict(list)
    problems: list[str] = []
    for item in items:
        if item.action == "skipped":
            continue
        key = (str(item.side), str(item.record_id))
        if key in index:
            actions[index[key]].append(item.action)
        else:
            problems.append(
                f"{item.side} {item.record_id} reported {item.action} ({item.reason}); "
                "the model expects no row"
            )
    for number, expect in enumerate(prediction.expects):
        got = actions.get(number, [])
        if not expect.allows(got):
            members = ", ".join(
                f"{side} {renames.get((side, rid), rid)}" for side, rid in sorted(expect.members)
            )
            wanted = " or ".join(
                "no row" if outcome == NOTHING else outcome for outcome in sorted(expect.outcomes)
            )
            problems.append(
                f"{members} ({expect.why}): expected {wanted}, reported {got or 'no row'}"
            )
    return problems


class MergeMachine(RuleBasedStateMachine):
    """Two systems, one company rule, the reference merge beside them."""

    direction: ClassVar[str] = "both"
    priority: ClassVar[Side] = "left"
    deletes: ClassVar[bool] = False
    crashes: ClassVar[bool] = True
    #: whether users edit records while a run writes them
    concurrent: ClassVar[bool] = True
    crash_points: ClassVar[tuple[str, ...]] = CRASH_POINTS
    #: steps run by every machine of this class (the soak counts them)
    steps: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="syncbridge-merge-"))
        self.rule: dict[str, Any] = {
            "direction": self.direction,
            "priority": self.priority,
            "match": [["name"]],
            "deletes": self.deletes,
        }
        self.systems = self.make_systems()
        self.model = Reference(
            FIELDS, direction=self.direction, priority=self.priority, deletes=self.deletes
        )
        #: a record was deleted since the last complete read: the next run reads in full
        self.needs_full = False
        self.deleted: list[tuple[Side, str, Record]] = []
        self.pins: dict[str, str] = {}

    def make_systems(self) -> Any:
        return SqlSystems(self.folder, self.rule)

    def teardown(self) -> None:
        self.systems.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def count(self, name: str) -> None:
        type(self).steps[name] += 1

    # -- helpers ----------------------------------------------------------------------------
    def pick(self, side: Side, number: int) -> str | None:
        ids = sorted(self.model.data[side], key=lambda rid: (len(rid), rid))
        return ids[number % len(ids)] if ids else None

    def pinned(self, side: Side, rid: str) -> bool:
        return rid in (self.pins if side == "left" else set(self.pins.values()))

    def resolve(self, prediction: Prediction) -> tuple[dict[tuple[Side, str], str], list[str]]:
        """Find the records the run created through the engine's links."""
        links = self.systems.links()
        renames: dict[tuple[Side, str], str] = {}
        problems: list[str] = []
        for target, placeholder, source, source_id in prediction.created:
            twins = [
                (left if target == "left" else right)
                for left, right in links
                if (left if source == "left" else right) == source_id
            ]
            fresh = [twin for twin in twins if twin not in self.model.data[target]]
            if len(fresh) != 1:
                problems.append(
                    f"{source} {source_id} should have been created on the {target}; the "
                    f"state store links it to {twins or 'nothing'}"
                )
                continue
            renames[(target, placeholder)] = fresh[0]
            self.model.resolve(target, placeholder, fresh[0])
        return renames, problems

    def check_systems(self, when: str, items: list[Any] | None = None) -> None:
        problems: list[str] = []
        for side in SIDES:
            actual = self.systems.contents(side)
            expected = self.model.data[side]
            for rid in sorted(set(actual) | set(expected), key=lambda r: (len(r), r)):
                if rid not in expected:
                    problems.append(f"{side} {rid} {actual[rid]} should not exist")
                elif rid not in actual:
                    problems.append(f"{side} {rid} {expected[rid]} is missing")
                elif actual[rid] != expected[rid]:
                    diff = {
                        name: (actual[rid][name], expected[rid][name])
                        for name in FIELDS
                        if actual[rid][name] != expected[rid][name]
                    }
                    problems.append(
                        f"{side} {rid}: "
                        + ", ".join(
                            f"{name} is {a!r}, expected {e!r}" for name, (a, e) in diff.items()
                        )
                    )
        live = {
            (left, right)
            for left, right in self.systems.links()
            if left in self.model.data["left"] and right in self.model.data["right"]
        }
        if live != self.model.live_pairs():
            problems.append(
                f"links: the engine has {sorted(live - self.model.live_pairs())} too many and "
                f"lacks {sorted(self.model.live_pairs() - live)}"
            )
        report = "" if items is None else f"\n  the report:\n{describe(items)}"
        assert not problems, f"after {when}:\n  " + "\n  ".join(problems) + report

    def check_run(
        self, summary: RunSummary, prediction: Prediction, what: str, *, exact: bool = True
    ) -> None:
        items = self.systems.items(summary.run_id)
        failed = [item for item in items if item.action == "failed"]
        entities = "\n".join(
            f"  {entity.entity}: {entity.result} {entity.message}" for entity in summary.entities
        )
        assert not summary.failed and not failed, f"{what} failed:\n{describe(items)}\n{entities}"
        renames, problems = self.resolve(prediction)
        if problems:
            contents = {side: self.systems.contents(side) for side in SIDES}
            raise AssertionError(
                f"after {what}:\n  "
                + "\n  ".join(problems)
                + f"\n  the report:\n{describe(items)}\n  the systems: {contents}"
                + f"\n  the links: {sorted(self.systems.links())}"
            )
        self.check_systems(what, items)
        if not exact:
            return
        problems = report_problems(prediction, items, renames)
        assert not problems, (
            f"{what}: the report differs from the model:\n  "
            + "\n  ".join(problems)
            + f"\n  the report:\n{describe(items)}"
        )
        assert summary.writes == prediction.writes, (
            f"{what} wrote {summary.writes} record(s); the model changes {prediction.writes}: "
            f"{ {side: sorted(ids) for side, ids in prediction.written.items()} }\n"
            f"{describe(items)}"
        )

    def run_once(self, full: bool, **options: Any) -> tuple[RunSummary, Prediction, bool]:
        full = full or self.needs_full
        summary = self.systems.sync(full=full, **options)
        prediction = self.model.run(full=full)
        if full:
            self.needs_full = False
        return summary, prediction, full

    # -- what users do ----------------------------------------------------------------------
    @rule(record=RECORDS)
    def create(self, record: tuple[Side, dict[str, Any]]) -> None:
        self.count("create")
        side, values = record
        rid = self.systems.put(side, values)
        self.model.put(side, rid, values)

    @initialize(
        records=st.lists(RECORDS, max_size=5),
        sync=st.booleans(),
    )
    def start(self, records: list[tuple[Side, dict[str, Any]]], sync: bool) -> None:
        """Records already in both systems, and (often) a first run over them."""
        for side, values in records:
            rid = self.systems.put(side, values)
            self.model.put(side, rid, values)
        if sync:
            self.run(full=False)

    @rule(
        edits=st.lists(
            st.tuples(st.sampled_from(SIDES), st.integers(0, 20), st.sampled_from(EDITS)),
            min_size=1,
            max_size=3,
        )
    )
    def edit(self, edits: list[tuple[Side, int, tuple[str, Any]]]) -> None:
        """A few edits in quick succession, on either side."""
        for side, number, (name, value) in edits:
            rid = self.pick(side, number)
            if rid is None:
                continue
            self.count("edit")
            self.systems.edit(side, rid, {name: value})
            self.model.edit(side, rid, {name: value})

    @rule(
        side=st.sampled_from(SIDES),
        numbers=st.lists(st.integers(0, 20), min_size=1, max_size=2),
        edit=st.sampled_from([e for e in EDITS if e[0] != "name"]),
    )
    def edit_with_tied_stamps(self, side: Side, numbers: list[int], edit: tuple[str, Any]) -> None:
        """Edits by another program, stamped exactly like the newest row already there."""
        if not self.systems.tie_edits:
            return
        rids = sorted({rid for n in numbers if (rid := self.pick(side, n)) is not None})
        if not rids:
            return
        self.count("edit_tied")
        name, value = edit
        self.systems.edit_tied(side, rids, {name: value})
        for rid in rids:
            self.model.edit(side, rid, {name: value})

    @rule(side=st.sampled_from(SIDES), number=st.integers(0, 20))
    def delete(self, side: Side, number: int) -> None:
        rid = self.pick(side, number)
        if rid is None or self.pinned(side, rid):
            # READING: what a pin naming a deleted record means is not specified
            return
        self.count("delete")
        self.deleted.append((side, rid, dict(self.model.data[side][rid])))
        self.systems.remove(side, rid)
        self.model.remove(side, rid)
        self.needs_full = True

    @rule(number=st.integers(0, 20))
    def restore(self, number: int) -> None:
        """A deleted record comes back with its id (restored from the system's bin)."""
        if not self.deleted or not self.systems.tie_edits:
            return
        self.count("restore")
        side, rid, values = self.deleted.pop(number % len(self.deleted))
        self.systems.restore(side, rid, values)
        self.model.put(side, rid, values)

    @rule(number=st.integers(0, 20))
    def pin(self, number: int) -> None:
        """The user resolves an ambiguous group: links = {left = right} in the config."""
        members = sorted(self.model.ambiguous())
        lefts = [rid for side, rid in members if side == "left"]
        if not lefts:
            return
        left_id = lefts[number % len(lefts)]
        key = self.model.data["left"][left_id]["name"].casefold()
        rights = [
            rid
            for side, rid in members
            if side == "right" and self.model.data["right"][rid]["name"].casefold() == key
        ]
        right_id = rights[number % len(rights)]
        if left_id in self.pins or right_id in self.pins.values():
            return  # pinned already (a run applies it); one record is linked to one only
        self.count("pin")
        self.pins[left_id] = right_id
        self.systems.pin(self.pins)
        self.model.pin(left_id, self.pins[left_id])

    # -- runs -------------------------------------------------------------------------------
    @rule(full=st.booleans())
    def run(self, full: bool) -> None:
        self.count("run")
        summary, prediction, full = self.run_once(full)
        self.check_run(summary, prediction, "run --full" if full else "run")

    @rule(full=st.booleans())
    def plan_then_run(self, full: bool) -> None:
        self.count("plan")
        full = full or self.needs_full
        before = {side: self.systems.contents(side) for side in SIDES}
        plan = self.systems.sync(full=full, dry_run=True)
        assert {side: self.systems.contents(side) for side in SIDES} == before, "plan wrote"
        planned = self.systems.items(plan.run_id)
        summary, prediction, full = self.run_once(full)
        done = self.systems.items(summary.run_id)
        said = Counter((item.side, item.record_id, item.action) for item in planned)
        did = Counter((item.side, item.record_id, item.action) for item in done)
        assert said == did, (
            f"plan{' --full' if full else ''} is not what the run did:\n  plan said:\n"
            f"{describe(planned)}\n  the run did:\n{describe(done)}"
        )
        self.check_run(summary, prediction, "run after plan")

    @precondition(lambda self: self.crashes)
    @rule(point=st.sampled_from(CRASH_POINTS), side=st.sampled_from(SIDES), full=st.booleans())
    def crash_then_run(self, point: str, side: Side, full: bool) -> None:
        """A run killed at ``point``; the next run must end where an uninterrupted one would."""
        if point not in self.crash_points:
            return
        self.count("crash")
        full = full or self.needs_full
        with crash_at(point, side) as fired:
            try:
                summary = self.systems.sync(full=full)
            except Crash:
                summary = None
        prediction = self.model.run(full=full)
        if summary is not None:
            assert not fired, f"the run went on after a kill ({point}): a BaseException caught"
            if full:
                self.needs_full = False
            self.check_run(summary, prediction, f"run (no {point} crash happened)")
            return
        recovery = self.systems.sync(full=full)
        if full:
            self.needs_full = False
        self.check_run(recovery, prediction, f"the run after a crash {point}", exact=False)

    @precondition(lambda self: self.concurrent)
    @rule(
        side=st.sampled_from(SIDES),
        edit=st.sampled_from([e for e in EDITS if e[0] != "name"]),
    )
    def run_while_a_user_edits(self, side: Side, edit: tuple[str, Any]) -> None:
        """A user changes a field of a record while the run is writing another field of it.

        READING: the user's change came after the run read the record, so it is a change
        made after the run and flows at the next one. (merge.md makes the written side's
        base "the written side as its system returned it", which would count the user's
        change as already synced.)
        """
        self.count("concurrent")
        name, value = edit
        happened: list[tuple[str, str]] = []

        def user(rid: str, written: frozenset[str]) -> None:
            if name in written:
                return  # a field the run writes: whoever writes last wins, nothing to check
            self.systems.edit(side, rid, {name: value})
            happened.append((rid, name))

        full = self.needs_full
        with concurrent_edit(side, user):
            summary = self.systems.sync(full=full)
        prediction = self.model.run(full=full)
        if full:
            self.needs_full = False
        for rid, field in happened:
            self.model.edit(side, rid, {field: value})
        self.check_run(summary, prediction, "run with a concurrent edit")


class PriorityRight(MergeMachine):
    priority = "right"


class DeletesPropagate(MergeMachine):
    deletes = True


class OneWay(MergeMachine):
    direction = "left-to-right"


class FattureInCloud(MergeMachine):
    """sql on the left, the Fatture in Cloud emulator on the right."""

    crash_points: ClassVar[tuple[str, ...]] = ("before_send", "after_send")
    emulator: ClassVar[Any] = None
    url: ClassVar[str] = ""

    def make_systems(self) -> Any:
        return FicSystems(self.folder, self.rule, self.emulator, self.url)


def _run(machine: type[MergeMachine], share: float) -> None:
    examples = max(1, round(PROFILE.max_examples * share))
    run_state_machine_as_test(machine, settings=settings(PROFILE, max_examples=examples))


def test_both_ways_left_priority() -> None:
    if not SOAK:
        _run(MergeMachine, 1.0)
        return
    # the soak: the main machine until it has taken SOAK_STEPS steps
    MergeMachine.steps.clear()
    while sum(MergeMachine.steps.values()) < SOAK_STEPS:
        _run(MergeMachine, 1.0)
    print(f"soak: {sum(MergeMachine.steps.values())} steps: {dict(MergeMachine.steps)}")


def test_both_ways_with_deletes() -> None:
    _run(DeletesPropagate, 0.3)


def test_both_ways_right_priority() -> None:
    _run(PriorityRight, 0.3)


def test_one_way() -> None:
    _run(OneWay, 0.3)


def test_sql_and_fatture_in_cloud() -> None:
    emulator = FicEmulator(EmulatorOptions(records=0, rate_limits=False))
    with running(emulator.app) as url:
        FattureInCloud.emulator, FattureInCloud.url = emulator, url
        try:
            _run(FattureInCloud, 0.25)
        finally:
            FattureInCloud.emulator = None


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
