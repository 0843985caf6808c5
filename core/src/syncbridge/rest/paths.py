"""Dotted paths into decoded JSON: where a body keeps its records, its total, its next link.

``"data"``, ``"meta.last_page"``, ``"errors.0.message"``: keys separated by dots, a number
indexing a list. That covers every API syncbridge talks to; a JSONPath engine (filters,
wildcards, recursive descent) would be a dependency for nothing they need. Where a body needs
more, declarations accept a function of the body instead of a path.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

__all__ = ["Selector", "select"]

#: a dotted path, or a function of the decoded body
Selector = str | Callable[[Any], Any]


@lru_cache(maxsize=512)
def _parts(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split(".") if part)


def select(body: Any, selector: Selector | None, default: Any = None) -> Any:
    """The value at ``selector`` in ``body`` (the body itself for None or ``""``), or
    ``default`` where the path leads nowhere (a missing key, an index past the end, a
    scalar where a container was expected)."""
    if selector is None:
        return body
    if callable(selector):
        return selector(body)
    value = body
    for part in _parts(selector):
        if isinstance(value, dict):
            if part not in value:
                return default
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(value) <= index < len(value):
                return default
            value = value[index]
        else:
            return default
    return value
