"""Paginators: how an API pages a listing, as small declarations with one protocol.

Given the answer to one request, a paginator says what the next request is, or None when the
listing is complete::

    PageNumber()                          ?page=1&per_page=100, ?page=2 ...
    Offset()                              ?offset=0&limit=100, ?offset=100 ...
    CursorToken(token="meta.next")        ?cursor=<token from the last answer> ...
    NextLink()                            the URL in the Link header (rel="next"), or in the body
    AfterId(param="after_id")             ?after_id=<the last record's id> (a keyset on the id)

Each is frozen and holds no state of a read, so one declaration serves every read at once.
The two *positional* ones (:class:`PageNumber`, :class:`Offset`) also say how to ask for the
listing from any position (:meth:`PageNumber.at`): an ordered incremental read needs that to
re-anchor its filter and to check that no record slid past it (see
:mod:`syncbridge.rest.listing`).

How a listing ends, unless the declaration names a better signal (``last_page``, ``total``,
``has_more``): a page shorter than the size asked for. So never ask for more than the API
gives per page; a page size the API silently lowers would end the read early.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

from syncbridge.records import NativeRecord
from syncbridge.rest.paths import Selector, select

__all__ = [
    "AfterId",
    "CursorToken",
    "NextLink",
    "Offset",
    "PageNumber",
    "Paginator",
    "Positional",
    "Reply",
    "Request",
    "walk",
]


@dataclass(frozen=True, slots=True)
class Request:
    """One request of a listing: a path (or an absolute URL) and its query parameters."""

    url: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reply:
    """A request of a listing with its answer: what a paginator decides the next one from."""

    request: Request
    #: the HTTP answer (None from an API reached through a client of its own, such as a
    #: JSON-RPC call or a batch: paginators that read headers then see none)
    response: httpx.Response | None
    body: Any
    records: list[NativeRecord]
    #: the page size asked for
    size: int


@runtime_checkable
class Paginator(Protocol):
    """Pages a listing. ``first`` gives the paging parameters of the first request, ``next``
    the request after ``reply`` or None at the end."""

    def first(self, size: int) -> dict[str, Any]: ...

    def next(self, reply: Reply) -> Request | None: ...


@runtime_checkable
class Positional(Paginator, Protocol):
    """A paginator that can ask for the listing from any position."""

    def at(self, index: int, size: int) -> tuple[dict[str, Any], int]:
        """The parameters of a request whose answer holds the record at ``index`` (0-based)
        and, after it, up to ``size - 1`` more; and how many records of that answer come
        before ``index``."""
        ...


def _more(reply: Reply, has_more: Selector | None) -> bool | None:
    """What the body says about a next page, if the declaration says where it says it."""
    if has_more is None:
        return None
    return bool(select(reply.body, has_more))


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class PageNumber:
    """``?page=N&per_page=S``: numbered pages.

    :param param: the page number parameter; :param size_param: the page size parameter
        (None: the API has a fixed page size, which must then be the resource's).
    :param start: the number of the first page.
    :param last_page: where the body says the number of the last page; :param total: where
        it says how many records the listing holds; :param has_more: where it says whether
        another page follows. Without any, a short page ends the listing.
    """

    param: str = "page"
    size_param: str | None = "per_page"
    start: int = 1
    last_page: Selector | None = None
    total: Selector | None = None
    has_more: Selector | None = None

    def _params(self, page: int, size: int) -> dict[str, Any]:
        params: dict[str, Any] = {self.param: page}
        if self.size_param:
            params[self.size_param] = size
        return params

    def first(self, size: int) -> dict[str, Any]:
        return self._params(self.start, size)

    def at(self, index: int, size: int) -> tuple[dict[str, Any], int]:
        return self._params(self.start + index // size, size), index % size

    def next(self, reply: Reply) -> Request | None:
        page = _number(reply.request.params.get(self.param, self.start)) or self.start
        if not reply.records:
            return None
        more = _more(reply, self.has_more)
        if more is None and self.last_page is not None:
            last = _number(select(reply.body, self.last_page))
            more = last is not None and page < last
        if more is None and self.total is not None:
            total = _number(select(reply.body, self.total))
            more = total is not None and (page - self.start + 1) * reply.size < total
        if more is None:
            more = len(reply.records) >= reply.size
        if not more:
            return None
        return Request(reply.request.url, {**reply.request.params, self.param: page + 1})


@dataclass(frozen=True, slots=True)
class Offset:
    """``?offset=N&limit=S``: a window from a position.

    :param start: the position of the first record (1 for APIs counting from one, as
        QuickBooks' ``STARTPOSITION``). The other parameters are :class:`PageNumber`'s.
    """

    param: str = "offset"
    size_param: str | None = "limit"
    start: int = 0
    total: Selector | None = None
    has_more: Selector | None = None

    def _params(self, index: int, size: int) -> dict[str, Any]:
        params: dict[str, Any] = {self.param: self.start + index}
        if self.size_param:
            params[self.size_param] = size
        return params

    def first(self, size: int) -> dict[str, Any]:
        return self._params(0, size)

    def at(self, index: int, size: int) -> tuple[dict[str, Any], int]:
        return self._params(index, size), 0

    def next(self, reply: Reply) -> Request | None:
        offset = _number(reply.request.params.get(self.param, self.start)) or self.start
        if not reply.records:
            return None
        following = offset + len(reply.records)
        more = _more(reply, self.has_more)
        if more is None and self.total is not None:
            total = _number(select(reply.body, self.total))
            more = total is not None and following - self.start < total
        if more is None:
            more = len(reply.records) >= reply.size
        if not more:
            return None
        return Request(reply.request.url, {**reply.request.params, self.param: following})


@dataclass(frozen=True, slots=True)
class CursorToken:
    """``?cursor=<token>``: an opaque token from each answer resumes after it.

    :param token: where the body keeps the next token; :param header: or the response header
        that does. No token (or the same one again) ends the listing.
    :param size_param: the page size parameter, if the API takes one.

    The token is trusted to be a keyset the server keeps (records inserted or updated
    meanwhile do not shift it), as cursor-paginated APIs promise.
    """

    param: str = "cursor"
    token: Selector | None = None
    header: str | None = None
    size_param: str | None = "limit"
    has_more: Selector | None = None

    def first(self, size: int) -> dict[str, Any]:
        return {self.size_param: size} if self.size_param else {}

    def next(self, reply: Reply) -> Request | None:
        if _more(reply, self.has_more) is False:
            return None
        token: Any = None
        if self.header is not None:
            token = None if reply.response is None else reply.response.headers.get(self.header)
        elif self.token is not None:
            token = select(reply.body, self.token)
        if token is None or token == "" or token == reply.request.params.get(self.param):
            return None
        return Request(reply.request.url, {**reply.request.params, self.param: token})


@dataclass(frozen=True, slots=True)
class NextLink:
    """The next page's URL, from the ``Link`` header (``rel="next"``) or from the body.

    :param path: where the body keeps the URL (None: the ``Link`` header).
    :param size_param: the page size parameter of the first request, if any (the links
        carry it on).
    """

    path: Selector | None = None
    size_param: str | None = None

    def first(self, size: int) -> dict[str, Any]:
        return {self.size_param: size} if self.size_param else {}

    def next(self, reply: Reply) -> Request | None:
        if reply.response is None:
            return None
        if self.path is None:
            link = reply.response.links.get("next", {}).get("url")
        else:
            link = select(reply.body, self.path)
        if not isinstance(link, str) or not link:
            return None
        url = reply.response.request.url.join(link)
        if url == reply.response.request.url:
            return None  # a link to itself would never end
        return Request(str(url))


@dataclass(frozen=True, slots=True)
class AfterId:
    """``?after_id=<id>``: each request asks for the records after the last one read, the
    listing sorted by id.

    A keyset: unlike an offset, a record deleted (or inserted) between two requests shifts
    nothing, so none is skipped or read twice, and the server need not count the records
    before the position (Bitrix24 recommends this for big lists: ``filter[>ID]``).

    :param param: the parameter naming the last id; a tuple is a path into nested parameters
        (``("filter", ">ID")`` for a JSON body's ``{"filter": {">ID": 42}}``).
    :param id: where a record keeps its id. :param size_param: the page size parameter, if
        the API takes one. A page shorter than the size asked for ends the listing.
    """

    param: str | tuple[str, ...] = "after_id"
    id: Selector = "id"
    size_param: str | None = "limit"

    def first(self, size: int) -> dict[str, Any]:
        return {self.size_param: size} if self.size_param else {}

    def next(self, reply: Reply) -> Request | None:
        if not reply.records or len(reply.records) < reply.size:
            return None
        last = select(reply.records[-1], self.id)
        if last is None:
            return None
        path = (self.param,) if isinstance(self.param, str) else self.param
        return Request(reply.request.url, _with(reply.request.params, path, last))


def _with(params: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """``params`` with ``value`` at ``path``: copies along the path, nothing shared changed."""
    head, *rest = path
    if not rest:
        return {**params, head: value}
    inner = params.get(head)
    inner = dict(inner) if isinstance(inner, dict) else {}
    return {**params, head: _with(inner, tuple(rest), value)}


def walk(
    paginator: Paginator,
    request: Request,
    size: int,
    send: Callable[[Request], tuple[Any, list[NativeRecord], httpx.Response | None]],
) -> Iterator[Reply]:
    """Every answer of a listing reached by ``send`` (the request's body, its records and the
    HTTP answer, if any), paged by ``paginator``: the loop for APIs whose requests the
    toolkit's resources cannot send themselves (a JSON-RPC method, a POST body). ``request``
    carries the first request's own parameters; the paginator's first ones are added."""
    next_request: Request | None = Request(
        request.url, {**request.params, **paginator.first(size)}
    )
    while next_request is not None:
        body, records, response = send(next_request)
        reply = Reply(next_request, response, body, records, size)
        yield reply
        next_request = paginator.next(reply)
