"""Slicing a result list the three ways the emulated APIs page, with each style's metadata.

- **pages** (``page``/``per_page``, Fatture in Cloud, MiniCRM): :func:`paginate_pages`;
- **offset/limit** (``offset``/``limit``, QuickBooks' ``STARTPOSITION``/``MAXRESULTS``, and
  Bitrix24's ``start`` with ``next`` in the reply): :func:`paginate_offset`;
- **cursor** (an opaque token that resumes after the last item, stable under inserts):
  :func:`paginate_cursor`.

The helpers only slice and count; the emulator renders the metadata under the system's own
names. The caller passes the items already filtered and in the system's order (by id unless
the API documents otherwise), so that paging returns every record exactly once.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import orjson

from syncbridge.emulator.params import BadRequest

T = TypeVar("T")


@dataclass(frozen=True)
class PageSlice(Generic[T]):
    """One page of a page-numbered listing."""

    items: list[T]
    page: int
    per_page: int
    total: int
    first_page: int
    #: the last page number (equal to ``first_page`` for an empty listing)
    last_page: int

    @property
    def has_next(self) -> bool:
        return self.page < self.last_page

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def prev_page(self) -> int | None:
        return self.page - 1 if self.page > self.first_page else None

    @property
    def from_index(self) -> int | None:
        """1-based position of the first item on this page (Laravel's ``from``), or None."""
        return (self.page - self.first_page) * self.per_page + 1 if self.items else None

    @property
    def to_index(self) -> int | None:
        """1-based position of the last item on this page (Laravel's ``to``), or None."""
        start = self.from_index
        return None if start is None else start + len(self.items) - 1


def paginate_pages(
    items: Sequence[T],
    page: int,
    per_page: int,
    *,
    max_per_page: int | None = None,
    first_page: int = 1,
) -> PageSlice[T]:
    """Page ``page`` of ``items``, ``per_page`` to a page (clamped to ``max_per_page``).

    A page past the end is empty (with the true ``total`` and ``last_page``), as the APIs do.
    """
    if per_page < 1:
        raise BadRequest(f"the page size must be at least 1, not {per_page}")
    if page < first_page:
        raise BadRequest(f"the page number must be at least {first_page}, not {page}")
    if max_per_page is not None:
        per_page = min(per_page, max_per_page)
    total = len(items)
    last_page = first_page + max(0, (total - 1) // per_page)
    start = (page - first_page) * per_page
    return PageSlice(
        items=list(items[start : start + per_page]),
        page=page,
        per_page=per_page,
        total=total,
        first_page=first_page,
        last_page=last_page,
    )


@dataclass(frozen=True)
class OffsetSlice(Generic[T]):
    """A window of an offset/limit listing."""

    items: list[T]
    offset: int
    limit: int
    total: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total

    @property
    def next_offset(self) -> int | None:
        """Where the next window starts (Bitrix24's ``next``), or None at the end."""
        return self.offset + len(self.items) if self.has_more else None


def paginate_offset(
    items: Sequence[T], offset: int, limit: int, *, max_limit: int | None = None
) -> OffsetSlice[T]:
    """``limit`` items from position ``offset`` (0-based; clamped to ``max_limit``).

    For a 1-based API (QuickBooks ``STARTPOSITION``) pass ``position - 1``.
    """
    if offset < 0:
        raise BadRequest(f"the offset must not be negative, not {offset}")
    if limit < 1:
        raise BadRequest(f"the limit must be at least 1, not {limit}")
    if max_limit is not None:
        limit = min(limit, max_limit)
    return OffsetSlice(list(items[offset : offset + limit]), offset, limit, len(items))


@dataclass(frozen=True)
class CursorSlice(Generic[T]):
    """A window of a cursor listing; ``next_cursor`` is None on the last one."""

    items: list[T]
    limit: int
    next_cursor: str | None


def encode_cursor(key: int | str) -> str:
    """An opaque token for "after ``key``" (clients must not parse it)."""
    return base64.urlsafe_b64encode(orjson.dumps([key])).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | str:
    """The key a token from :func:`encode_cursor` resumes after; BadRequest if it is not one."""
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise BadRequest(f"invalid cursor {cursor!r}") from None
    if (
        not isinstance(decoded, list)
        or len(decoded) != 1
        or not isinstance(decoded[0], int | str)
        or isinstance(decoded[0], bool)
    ):
        raise BadRequest(f"invalid cursor {cursor!r}")
    key: int | str = decoded[0]
    return key


def paginate_cursor(
    items: Sequence[T],
    cursor: str | None,
    limit: int,
    *,
    key: Callable[[T], int | str],
    max_limit: int | None = None,
) -> CursorSlice[T]:
    """Up to ``limit`` items whose ``key`` comes after the cursor's (all from the start if None).

    ``items`` must be sorted by ``key`` ascending. The cursor remembers the last key, not a
    position, so records inserted or deleted between two calls never shift the pages: every
    record present throughout is returned exactly once.
    """
    if limit < 1:
        raise BadRequest(f"the limit must be at least 1, not {limit}")
    if max_limit is not None:
        limit = min(limit, max_limit)
    start = 0
    if cursor:
        after = decode_cursor(cursor)
        start = _first_after(items, after, key)
    window = list(items[start : start + limit])
    more = start + limit < len(items)
    return CursorSlice(window, limit, encode_cursor(key(window[-1])) if more and window else None)


def _first_after(items: Sequence[T], after: int | str, key: Callable[[T], int | str]) -> int:
    """Index of the first item whose key is greater than ``after`` (binary search)."""
    low, high = 0, len(items)
    while low < high:
        middle = (low + high) // 2
        current = key(items[middle])
        if type(current) is not type(after):
            raise BadRequest("the cursor does not belong to this listing")
        if current <= after:  # type: ignore[operator]
            low = middle + 1
        else:
            high = middle
    return low
