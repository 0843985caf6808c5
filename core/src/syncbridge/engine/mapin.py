"""Mapping native records in: one page at a time, to snapshot rows or reasons.

Its own module because two places run it: the read stage (:mod:`syncbridge.engine.read`) and
the mapping worker process (:mod:`syncbridge.engine.mapworker`), which must not import the
read stage (it would import the state store and the fetching machinery it never uses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from syncbridge.connection import Connection
from syncbridge.engine.db import SnapshotRow
from syncbridge.errors import ConnectorError, RecordError, SkipRecord
from syncbridge.records import Context


def describe_error(error: Exception) -> str:
    """A one-line reason naming the field, for the report."""
    if isinstance(error, ValidationError):
        parts = []
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "record"
            message = problem["msg"].removeprefix("Value error, ")
            parts.append(f"{where}: {message}")
        return "; ".join(parts)
    if isinstance(error, RecordError) and str(error):
        return str(error)  # written for the person reading the report, fix included
    return f"{type(error).__name__}: {error}"


#: a record that failed to map in: (id, reason, native record, its context)
Failure = tuple[str, str, dict[str, Any], Context]


@dataclass
class Mapped:
    """A page mapped in: snapshot rows, failures (id, reason, native, context), skips (id,
    reason)."""

    rows: list[SnapshotRow] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def parts(self) -> tuple[list[SnapshotRow], list[Failure], list[tuple[str, str]]]:
        """Its fields as plain data, which crosses from a worker process faster."""
        return self.rows, self.failures, self.skipped


def map_records(
    connection: Connection,
    entity: str,
    records: list[dict[str, Any]],
    context: dict[str, Context],
) -> Mapped:
    """Map natives in, each with its context (``Page.context``, by native id), to its
    snapshot row or the reason it is failed or skipped.

    Touches nothing but the connector's ``map`` and the canonical models, so it can run in
    a worker process (:mod:`syncbridge.engine.mapworker`) as well as here.
    """
    map_in = connection.map_in
    id_field = connection.info.entities[entity].id_field
    out = Mapped()
    for native in records:
        facts = context.get(_id_of(native, id_field)) if context else None
        try:
            record = map_in(entity, native, facts)
            rid = record.id
            if rid is None:
                raise ConnectorError("map(in) gave a record without its native id")
        except SkipRecord as skip:
            out.skipped.append((_id_of(native, id_field), str(skip)))
            continue
        except Exception as error:  # whatever one record raises fails that record only
            failure = (_id_of(native, id_field), describe_error(error), native, facts or {})
            out.failures.append(failure)
            continue
        out.rows.append((rid, *record.snapshot()))
    return out


def _id_of(native: dict[str, Any], id_field: str) -> str:
    value = native.get(id_field)
    return str(value) if value is not None else "?"
