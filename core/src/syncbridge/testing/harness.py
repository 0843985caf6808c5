"""What one contract test runs against: a connection, its data and, for HTTP, its emulator.

:class:`Harness` is what the ``harness`` fixture of
:class:`~syncbridge.testing.ConnectorContract` gives each test. It is also usable from a
connector's own tests (``def test_x(self, harness, entity)`` in the subclass) for checks the
contract does not make.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from syncbridge.connection import Connection
from syncbridge.describe import ConnectorInfo, EntityInfo
from syncbridge.emulator import Emulator
from syncbridge.http import LoggedRequest
from syncbridge.models import META_FIELDS, MODELS, CanonicalRecord
from syncbridge.records import NativeRecord, Page, UpsertItem, UpsertResult
from syncbridge.testing.faults import OneShotFaults

__all__ = ["Fetched", "Harness", "compared_fields", "differences", "dropped"]

T = TypeVar("T")


@dataclass
class Fetched:
    """Everything one ``fetch`` call yielded."""

    entity: str
    id_field: str
    pages: list[Page]

    @property
    def records(self) -> list[NativeRecord]:
        return [record for page in self.pages for record in page.records]

    @property
    def ids(self) -> list[str]:
        """The native ids in the order fetched (repeats kept), as strings."""
        return [str(record.get(self.id_field)) for record in self.records]

    @property
    def cursor(self) -> str | None:
        """The cursor the engine would store: the last one a page set."""
        cursor = None
        for page in self.pages:
            if page.cursor is not None:
                cursor = page.cursor
        return cursor

    @property
    def filled_pages(self) -> int:
        """Pages that held at least one record."""
        return sum(1 for page in self.pages if page.records)

    def by_id(self) -> dict[str, NativeRecord]:
        return {str(record.get(self.id_field)): record for record in self.records}

    def context_of(self, native_id: object) -> dict[str, Any]:
        """The context ``fetch`` gave a record (``Page.context``; the last page's, for a
        record read twice), empty when none: what ``map(in)`` is given with it."""
        for page in reversed(self.pages):
            if str(native_id) in page.context:
                return page.context[str(native_id)]
        return {}


def dropped(emulator: Emulator) -> int:
    """Requests whose connection the emulator dropped without answering.

    (``emulator.requests.count(status=None)`` means "any status", so they are summed here.)
    """
    return sum(n for hit, n in emulator.requests.hits.items() if hit.status is None)


def compared_fields(info: EntityInfo, record: CanonicalRecord) -> set[str]:
    """The fields of ``record`` a connector must keep: set in it, and mapped by the entity."""
    declared = info.fields if info.fields is not None else set(type(record).model_fields)
    # a field the system assigns (a document number) is read, never written: not kept
    return (set(declared) & record.model_fields_set) - META_FIELDS - info.read_only


def differences(expected: CanonicalRecord, actual: CanonicalRecord, fields: set[str]) -> list[str]:
    """``field: expected X, got Y`` for each of ``fields`` whose values differ."""
    found = []
    for name in sorted(fields):
        want, got = getattr(expected, name), getattr(actual, name)
        if want != got:
            found.append(f"{name}: expected {want!r}, got {got!r}")
    return found


@dataclass
class Harness:
    """A connection to a fresh data set, made for one test, closed after it.

    :ivar connection: the connection under test (its request log is :attr:`requests`).
    :ivar info: the connector's ``describe()``.
    :ivar settings: the raw settings of :attr:`connection` (before validation).
    :ivar emulator: the emulator served for this test, or None for a non-HTTP connector.
    :ivar base_url: where the emulator listens (``http://127.0.0.1:PORT``), or None.
    :ivar records: how many records each entity starts with (>= ``min_pages`` pages).
    :ivar page_size: the page size reads use (``records`` fill more than ``min_pages`` pages).
    :ivar tmp_path: the test's temporary directory.
    """

    info: ConnectorInfo
    connector: Any
    settings: dict[str, Any]
    records: int
    page_size: int
    tmp_path: Path
    emulator: Emulator | None = None
    base_url: str | None = None
    faults: OneShotFaults | None = None
    #: ``seed(connection, entity, count)`` of the test class, for connectors without emulator
    seeder: Callable[[Connection, str, int], list[str] | None] | None = None
    #: ``sample(entity, index)`` of the test class
    sampler: Callable[[str, int], Mapping[str, Any] | CanonicalRecord] | None = None
    requests: list[LoggedRequest] = field(default_factory=list)
    #: ids the seeder reported per entity (None: it did not say)
    seeded: dict[str, list[str] | None] = field(default_factory=dict)
    _stack: ExitStack = field(default_factory=ExitStack)
    _indexes: Iterator[int] = field(default_factory=lambda: itertools.count(100_000))
    _connection: Connection | None = None

    # -- connections ----------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self.connect(self.settings, request_log=self.requests.append)
        return self._connection

    def connect(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        name: str = "contract",
        request_log: Callable[[LoggedRequest], None] | None = None,
    ) -> Connection:
        """Another connection to the same system (closed after the test).

        ``settings`` default to the harness's; pass e.g. wrong credentials to test failures.
        """
        connection = Connection(
            name,
            self.connector,
            dict(self.settings if settings is None else settings),
            request_log=request_log,
        )
        self._stack.callback(connection.close)
        return connection

    def enter(self, context: AbstractContextManager[T]) -> T:
        """Enter ``context`` for the rest of the test (left, in reverse order, at its end)."""
        return self._stack.enter_context(context)

    def close(self) -> None:
        self._stack.close()

    def entity(self, name: str) -> EntityInfo:
        """The entity as the connection under test serves it (after ``configure``)."""
        return self.connection.info.entity(name)

    # -- data -----------------------------------------------------------------------------

    def ready(self, entity: str) -> None:
        """Make sure ``entity`` holds its data set: the emulator's, or seeded now."""
        if entity in self.seeded or self.seeder is None:
            return  # seeded already, or the emulator's data is all there is
        self.seeded[entity] = self.seeder(self.connection, entity, self.records)

    def next_index(self) -> int:
        """A sample index no other record of this test used (seeding uses 0..records-1)."""
        return next(self._indexes)

    def canonical(self, entity: str, index: int, id: str | None = None) -> CanonicalRecord:
        """The ``index``-th sample of ``entity`` as its canonical model."""
        if self.sampler is None:
            raise RuntimeError("the harness has no sample()")
        sample = self.sampler(entity, index)
        model = MODELS[entity]
        if isinstance(sample, CanonicalRecord):
            record = sample
        else:
            record = model.model_validate(dict(sample))
        return record if id is None else record.model_copy(update={"id": id})

    def native(
        self, entity: str, record: CanonicalRecord, context: dict[str, Any] | None = None
    ) -> NativeRecord:
        """``record`` mapped out; what ``map(out)`` notes beside it goes into ``context``."""
        return self.connection.map_out(entity, record, context)

    def item(
        self,
        entity: str,
        record: CanonicalRecord,
        key: str,
        *,
        id: str | None = None,
        changed: frozenset[str] = frozenset(),
    ) -> UpsertItem:
        """``record`` mapped out as the engine sends it: an item with its context."""
        context: dict[str, Any] = {}
        native = self.native(entity, record, context)
        return UpsertItem(key=key, record=native, id=id, changed=changed, context=context)

    def fetch(
        self, entity: str, since: str | None = None, *, connection: Connection | None = None
    ) -> Fetched:
        """Every page of ``fetch(entity, since)``."""
        connection = connection or self.connection
        pages = list(connection.fetch(entity, since))
        return Fetched(entity, self.entity(entity).id_field, pages)

    def upsert(self, entity: str, items: list[UpsertItem]) -> list[UpsertResult]:
        """``upsert`` with its results checked for shape: one per item, keys in order."""
        results = self.connection.upsert(entity, items)
        keys = [result.key for result in results]
        expected = [item.key for item in items]
        if sorted(keys) != sorted(expected):
            raise AssertionError(
                f"upsert({entity}) must yield one result per item, keyed by UpsertItem.key: "
                f"sent {expected}, got {keys}"
            )
        return results

    def create(self, entity: str, index: int | None = None) -> tuple[CanonicalRecord, str]:
        """Create one sample record; returns it (canonical) and its new native id."""
        record = self.canonical(entity, self.next_index() if index is None else index)
        item = self.item(entity, record, f"contract-create-{entity}-{self.next_index()}")
        (result,) = self.upsert(entity, [item])
        if not result.ok or not result.id:
            raise AssertionError(f"creating a {entity} failed: {result.error or 'no id returned'}")
        return record, str(result.id)

    def map_in(
        self, entity: str, native: NativeRecord, context: dict[str, Any] | None = None
    ) -> CanonicalRecord:
        """``native`` mapped in with its ``context`` (``Fetched.context_of(id)``,
        ``UpsertResult.context``, or what ``map(out)`` noted)."""
        return self.connection.map_in(entity, native, context)

    def updated_at(
        self, entity: str, native: NativeRecord, context: dict[str, Any] | None = None
    ) -> datetime | None:
        """The canonical modification time of a native record (None when it has none)."""
        return self.map_in(entity, native, context).updated_at

    # -- faults ---------------------------------------------------------------------------

    def arm(self, **faults: Any) -> None:
        """Make the next request to the emulator fail as ``faults`` say, once.

        E.g. ``arm(error_rate=1.0)``: one 500; ``arm(drop_rate=1.0, drop_mode="after")``: the
        next request is handled and its response lost.
        """
        if self.faults is None:
            raise RuntimeError("faults need an emulator")
        self.faults.arm(**faults)
