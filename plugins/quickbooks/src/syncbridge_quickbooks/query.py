"""Writing statements in QuickBooks' query language (the subset the connector needs).

The language looks like SQL but is not: ``SELECT * FROM Entity [WHERE a AND b]
[ORDERBY field] STARTPOSITION n MAXRESULTS m`` with no OR, no joins, single-quoted strings
escaped with a backslash, and a 1-based ``STARTPOSITION``. Values are always rendered through
:func:`literal` so that a name containing a quote can never change the statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def literal(value: str) -> str:
    """``value`` as a quoted string literal: ``O'Brien`` -> ``'O\\'Brien'``."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def id_in(ids: Iterable[str]) -> str:
    """``Id IN ('1', '2')``."""
    return "Id IN (" + ", ".join(literal(str(i)) for i in ids) + ")"


def changed_since(timestamp: str) -> str:
    """Records changed at or after ``timestamp`` (inclusive, so a boundary is never missed)."""
    return f"Metadata.LastUpdatedTime >= {literal(timestamp)}"


#: makes a name-list query return inactive records too (they are hidden by default)
ANY_ACTIVE = "Active IN (true, false)"


def select(
    entity: str,
    where: Sequence[str] = (),
    *,
    order_by: str = "Id",
    start: int = 1,
    max_results: int = 1000,
) -> str:
    """``SELECT * FROM entity WHERE ... ORDERBY ... STARTPOSITION start MAXRESULTS max``."""
    parts = [f"SELECT * FROM {entity}"]
    if where:
        parts.append("WHERE " + " AND ".join(where))
    parts.append(f"ORDERBY {order_by}")
    parts.append(f"STARTPOSITION {start} MAXRESULTS {max_results}")
    return " ".join(parts)
