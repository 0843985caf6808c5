"""Reading a listing page by page: the loops behind :meth:`syncbridge.rest.Resource.fetch`.

**Plain** (:func:`plain_pages`): the paginator's requests one after the other, the ``since``
filter fixed for the whole read. Right for full reads, for unordered listings (by id: a
record changed meanwhile keeps its place, and a new one comes last) and for server-kept
cursors (tokens, next links). Two things still move an unordered listing paged by number or
offset: a record updated during the read that enters the filter ahead of the position read
shifts the rest by one (the last record of a page comes again: the read skips it), and a
record deleted ahead of it shifts them back (one record is passed over: only an id keyset,
a token, or a delete-free API avoids that).

**Re-anchored** (:func:`anchored_pages`), for listings ordered by (time, id) and paged by
number or offset. Paging such a listing plainly loses records: one changed during the read
moves to the end, everything behind it moves one place forward, and the record that slides
onto a page already read is never seen; its time is older than the cursor, so no later run
sees it either. So each request asks afresh for what follows the last record read:

- with a ``since`` that takes the id too (``keyset=True``), the filter *is* the keyset, and
  every request is the first page of "after (time, id)": nothing can slide;
- with a filter on time alone, each request is the first page of "at or after the newest
  time read" (the records of that instant read already are skipped by the cursor's keyset);
  only a full page sharing one instant makes the read page on within that instant, from
  the position after it. Records can only leave that run of equal times while it is paged
  (an update moves one to a newer time, a delete removes it), which would shift the rest
  back past the read; so after each such page the record just before its position is asked
  for again (one record: ``per_page=1``): if it is no longer the last one read (or an
  earlier one), something left, and the instant is read again from its start.

Whatever the mode, the records of a page are checked to come in (time, id) order, so a
listing declared ordered that is not fails with a clear message instead of losing records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx

from syncbridge.errors import ConnectorError
from syncbridge.records import NativeRecord, Page
from syncbridge.rest.cursor import Cursor, IncrementalRead, Key
from syncbridge.rest.errormap import ErrorMap
from syncbridge.rest.paginators import Positional, Reply, Request
from syncbridge.rest.paths import select

if TYPE_CHECKING:
    from syncbridge.rest.resource import Resource

__all__ = ["anchored_pages", "ask", "plain_pages"]

#: how often one instant is read again from its start before the read gives up
RESTARTS = 50


def ask(
    resource: Resource, client: httpx.Client, errors: ErrorMap, request: Request, size: int
) -> Reply:
    """Send one request of a listing; its answer, decoded, with the records in it."""
    # params=None, not {}: httpx replaces the query of a next link with any params given
    response, body = errors.read(
        client, request.url, method=resource.method, params=request.params or None
    )
    doing = f"{response.request.method} {response.request.url.path}"
    return Reply(request, response, body, errors.records(body, resource.records, doing), size)


def _total(resource: Resource, reply: Reply) -> int | None:
    if resource.total is None:
        return None
    total = select(reply.body, resource.total)
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def _deleted(resource: Resource, read: IncrementalRead | None, reply: Reply) -> list[str]:
    """The ids the answer lists as deleted since the cursor (``Resource.deleted``)."""
    if resource.deleted is None or read is None or read.start is None:
        return []
    listed = select(reply.body, resource.deleted)
    return [str(native_id) for native_id in listed] if isinstance(listed, list) else []


def plain_pages(
    resource: Resource,
    client: httpx.Client,
    errors: ErrorMap,
    size: int,
    read: IncrementalRead | None,
    extra: dict[str, Any] | None = None,
) -> Iterator[Page]:
    """The listing as the paginator pages it (see the module docstring)."""
    params = {**resource.params, **(extra or {})}
    if read is not None:
        params.update(read.spec.params(read.start))
    paginator = resource.paginator
    if paginator is not None:
        params.update(paginator.first(size))
    request: Request | None = Request(resource.path, params)
    ordered = read is not None and read.spec.ordered
    first = True
    while request is not None:
        reply = ask(resource, client, errors, request, size)
        if ordered:
            _check_order(read, reply.records, errors, reply)
        request = paginator.next(reply) if paginator is not None else None
        records = reply.records if read is None else [r for r in reply.records if read.take(r)]
        cursor = None
        if read is not None and (ordered or request is None):
            cursor = read.cursor()
        total = _total(resource, reply) if first else None
        yield Page(records, cursor=cursor, total=total, deleted=_deleted(resource, read, reply))
        first = False


def _check_order(
    read: IncrementalRead | None, records: list[NativeRecord], errors: ErrorMap, reply: Reply
) -> None:
    if read is None:
        return
    previous: Key | None = None
    for record in records:
        key = read.key(record)
        if key is None:
            continue
        if previous is not None and key < previous:
            raise ConnectorError(
                f"{errors.system} lists {reply.request.url} out of (time, id) "
                f"order (record {select(record, read.spec.id)!r} after a later one), though "
                "the resource is declared ordered; ask the API to sort by time then id, or "
                "declare Incremental(ordered=False)"
            )
        previous = key


def anchored_pages(
    resource: Resource,
    client: httpx.Client,
    errors: ErrorMap,
    size: int,
    read: IncrementalRead,
) -> Iterator[Page]:
    """The listing of an ordered incremental read, re-anchored at each page (see the
    module docstring)."""
    spec = read.spec
    paginator = resource.paginator
    if paginator is None:
        raise ConnectorError(f"{resource.path}: an anchored read needs a paginator")
    anchor: Cursor | None = read.start
    #: the position in the anchored listing to read from, and the key of the record before it
    index = 0
    before: Key | None = None
    restarts = 0
    first = True
    while True:
        if spec.keyset or not isinstance(paginator, Positional):
            paging, skip = paginator.first(size), 0
        else:
            paging, skip = paginator.at(index, size)
        params = {**resource.params, **spec.params(anchor), **paging}
        reply = ask(resource, client, errors, Request(resource.path, params), size)
        if index > 0 and before is not None and not _still_before(
            resource, client, errors, read, params, index, before, size
        ):
            restarts += 1
            if restarts > RESTARTS:
                raise ConnectorError(
                    f"{errors.system}: the records stamped {anchor} keep changing while "
                    f"{resource.path} is read; try again later"
                )
            index, before = 0, None  # something left the instant: read it from its start
            continue
        records = reply.records[skip:]
        _check_order(read, records, errors, reply)
        fresh = [record for record in records if read.take(record)]
        total = _total(resource, reply) if first else None
        first = False
        yield Page(fresh, cursor=read.cursor(), total=total)
        if not records or paginator.next(reply) is None:
            return
        tail = records[-1]
        key = read.key(tail)
        if spec.keyset:
            if key is None:
                raise ConnectorError(
                    f"{errors.system}: record {select(tail, spec.id)!r} of {resource.path} has "
                    "no modification time to page on"
                )
            anchor, index, before = Cursor(key[0], str(select(tail, spec.id))), 0, None
            continue
        head = read.key(records[0])
        if key is None or (anchor is not None and key[0] == anchor.at):
            # a whole page within the anchor's instant: page on within it
            index, before = index + len(records), key
        elif head is not None and head[0] == key[0]:
            # a whole page of one newer instant: its first records, so page on from there
            anchor, index, before, restarts = Cursor(key[0]), len(records), key, 0
        else:
            # the page reaches a newer instant: ask afresh from its start (the records of
            # that instant read already are skipped by the keyset)
            anchor, index, before, restarts = Cursor(key[0]), 0, None, 0


def _still_before(
    resource: Resource,
    client: httpx.Client,
    errors: ErrorMap,
    read: IncrementalRead,
    params: dict[str, Any],
    index: int,
    before: Key,
    size: int,
) -> bool:
    """Whether the record at ``index - 1`` of the anchored listing is still the one read
    there (or an earlier one): then nothing slid past the page just asked for."""
    paginator = resource.paginator
    assert isinstance(paginator, Positional)
    one = 1 if getattr(paginator, "size_param", None) else size
    paging, skip = paginator.at(index - 1, one)
    reply = ask(resource, client, errors, Request(resource.path, {**params, **paging}), one)
    if len(reply.records) <= skip:
        return False
    key = read.key(reply.records[skip])
    return key is not None and key <= before
