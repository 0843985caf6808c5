"""The small value types that cross the hook boundary.

Native records are plain dicts (whatever the system's JSON or row looks like); these types
wrap them with what the engine needs to know: a page and its cursor, one write and its
outcome, one connection check.

A native record holds only what the system itself holds: no ``_``-prefixed keys of the
connector's own. Facts ``map`` needs that a record does not carry (whether a reference
points at a company or a person, a tax code's rate, why a record could not be read whole)
travel beside it as its *context*: :attr:`Page.context` on the way in,
:attr:`UpsertItem.context` on the way out, :attr:`UpsertResult.context` for a record a
write returns. A context is a small dict of plain JSON values (str, int, float, bool, None,
lists and dicts of them): the engine keeps it with a record it retries next run and sends it
to the mapping worker process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NativeRecord = dict[str, Any]
#: facts ``map`` needs about one record that the record itself does not carry (JSON values)
Context = dict[str, Any]


@dataclass(slots=True)
class Page:
    """One page of native records from ``fetch``.

    ``cursor`` is opaque to the engine: it is stored after the run and handed back as
    ``since``. Set it on the last page at least; a page without one keeps the previous value.
    ``deleted`` lists native ids the system reports as deleted since the cursor. ``total``,
    when the API says it (a list's ``total`` or ``count``), is how many records the whole
    read will return: the engine uses it to decide early whether mapping in a second
    process pays off (:mod:`syncbridge.engine.mapworker`).

    ``context`` holds, by native id (as text), the facts ``fetch`` looked up for a record
    and ``map`` needs to read it (a record without any has no entry): ``map`` is given
    ``context.get(id, {})``. A fetch that could not read a record whole says why here
    (e.g. ``{"error": "its rows could not be read: ..."}``), and ``map`` raises
    :class:`~syncbridge.errors.RecordError` with it.
    """

    records: list[NativeRecord]
    cursor: str | None = None
    deleted: list[str] = field(default_factory=list)
    total: int | None = None
    context: dict[str, Context] = field(default_factory=dict)

    def context_of(self, native_id: object) -> Context:
        """The context ``fetch`` gave the record with this native id (empty when none)."""
        return self.context.get(str(native_id), {}) if self.context else {}


@dataclass(slots=True)
class UpsertItem:
    """One record to write.

    ``id`` is None for a create. ``key`` is the engine's idempotency key for the write:
    stable across retries and crashes, so a connector with an idempotency mechanism
    (QuickBooks ``requestid``, a reference column) passes it on. ``changed`` names the
    canonical fields that differ from what the target holds; connectors that support sparse
    updates may send only those. ``context`` is what ``map(out)`` noted for ``upsert`` beside
    the record (e.g. the VAT percentage a line's tax code must have): never sent as such.
    """

    key: str
    record: NativeRecord
    id: str | None = None
    changed: frozenset[str] = frozenset()
    context: Context = field(default_factory=dict)

    @property
    def is_create(self) -> bool:
        return self.id is None


@dataclass(slots=True)
class UpsertResult:
    """The outcome of one ``UpsertItem``, matched to it by ``key``.

    On success ``id`` is the native id and ``record`` the record as stored, if the system
    returned it (the engine hashes it to recognise its own write later), and ``context`` its
    context, as ``fetch`` would give it in :attr:`Page.context`: the engine maps ``record``
    in with it. On failure ``error`` is the system's own message, verbatim but without
    secrets.
    """

    key: str
    id: str | None = None
    ok: bool = True
    error: str | None = None
    record: NativeRecord | None = None
    context: Context = field(default_factory=dict)
    #: a failure whose outcome nobody knows: the request went out and no usable answer came
    #: back (a dropped connection, a body that cannot be read), so the system may have
    #: carried it out. A create failed so keeps its outbox row: the next run looks for the
    #: record before creating it again (:mod:`syncbridge.engine.outbox`)
    unknown: bool = False

    @classmethod
    def failed(
        cls, key: str, error: str, id: str | None = None, *, unknown: bool = False
    ) -> UpsertResult:
        return cls(key=key, id=id, ok=False, error=error, unknown=unknown)


@dataclass(slots=True)
class CheckResult:
    """The red/green light of a connection, with what the credentials reach.

    ``reason``: why it is red and what to do; on a green light, a caveat the person should
    know (``check`` shows it beside the account): a demo account that can only be read.
    """

    ok: bool
    reason: str = ""
    account: str = ""
    companies: list[Mapping[str, Any]] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
