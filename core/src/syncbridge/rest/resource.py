"""Declared REST resources: the read path of a connector as a few lines of declarations.

A :class:`Resource` says where a listing lives, where its answers keep the records, how it is
paged and how it is read incrementally; its :meth:`~Resource.fetch` is then the ``fetch``
hook, with pages, cursors, "only these ids" and every error decided by the toolkit. An
:class:`Api` groups the resources of a connector by entity with their :class:`ErrorMap`::

    API = Api(
        ErrorMap(system="Acme CRM", message="error.message"),
        {
            "company": Resource(
                "/companies",
                records="data",
                paginator=PageNumber(last_page="meta.last_page"),
                incremental=Incremental(field="updated_at", since="updated_since"),
                by_id="/companies/{id}",
                record="data",
            ),
        },
    )

    @hookimpl
    def fetch(client, entity, since, query):
        return API.fetch(client, entity, since, query)

Which loop reads the listing follows from the declaration (see :mod:`syncbridge.rest.listing`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from syncbridge.errors import ConnectorError
from syncbridge.records import NativeRecord, Page
from syncbridge.rest.cursor import Incremental
from syncbridge.rest.errormap import ErrorMap
from syncbridge.rest.listing import anchored_pages, plain_pages
from syncbridge.rest.paginators import Paginator, Positional
from syncbridge.rest.paths import Selector, select

__all__ = ["Api", "Resource"]


@dataclass(frozen=True)
class Resource:
    """One listing of an API, declared (see the module docstring).

    :param path: the listing's path, relative to the connection's base URL.
    :param records: where a listing's answer keeps its records (None: the body is the list).
    :param paginator: how the listing is paged (None: one request answers everything).
    :param incremental: how it is read since a cursor (None: every read is a full read).
    :param by_id: the path of one record, with ``{id}`` (``"/companies/{id}"``): how
        ``query["ids"]`` is read when ``ids_param`` is not given.
    :param record: where a ``by_id`` answer keeps the record (None: the body is it).
    :param ids_param: a listing parameter that takes ids: a name (given ``"1,2,3"``) or a
        function of the ids giving the parameters. Without it or ``by_id``, "only these ids"
        reads the whole listing.
    :param ids_per_request: how many ids one ``ids_param`` request names (a limit on the
        URL's length: ``id eq 1 or id eq 2 ...``); default, a page's worth. When given, each
        such request asks for the largest page (:attr:`page_size`), so that fewer ids than
        that are answered in one request.
    :param params: query parameters every listing request carries (a sort order, a filter).
    :param page_size: records per page: the largest the API gives. A connection whose
        settings have a ``page_size`` asks for that many, if fewer.
    :param total: where the first answer says how many records the listing holds
        (``Page.total``: the engine plans its mapping worker from it).
    :param method: the listing's HTTP method (a search some APIs take by POST).
    :param deleted: where a change feed's answer lists the ids of records deleted since the
        cursor (vtiger's ``sync``: ``result.deleted``): each page's :attr:`Page.deleted`. A
        full read reports none: nothing read before it can have gone.

    .. versionadded:: deleted
    """

    path: str
    _: KW_ONLY
    records: Selector | None = None
    paginator: Paginator | None = None
    incremental: Incremental | None = None
    by_id: str | None = None
    record: Selector | None = None
    ids_param: str | Callable[[list[str]], Mapping[str, Any]] | None = None
    ids_per_request: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    page_size: int = 100
    total: Selector | None = None
    method: str = "GET"
    deleted: Selector | None = None

    def __post_init__(self) -> None:
        if self.ids_per_request is not None and self.ids_per_request < 1:
            raise ValueError(f"{self.path}: ids_per_request must be at least 1")
        spec = self.incremental
        if (
            spec is not None
            and spec.ordered
            and spec.since is None
            and isinstance(self.paginator, Positional)
        ):
            raise ValueError(
                f"{self.path}: an ordered listing paged by number or offset needs `since` "
                "(a record updated during the read would shift the pages and hide another); "
                "declare the filter, or Incremental(ordered=False)"
            )

    def item_path(self, native_id: str) -> str:
        """The path of one record (``by_id`` with the id filled in, escaped)."""
        if self.by_id is None:
            raise ConnectorError(f"{self.path}: no by_id path is declared")
        return self.by_id.format(id=quote(str(native_id), safe=""))

    def size(self, client: httpx.Client) -> int:
        """The page size to ask for: the connection's ``page_size`` setting, if it has one
        and it is smaller, else :attr:`page_size`."""
        wanted = getattr(getattr(client, "settings", None), "page_size", None)
        if isinstance(wanted, int) and not isinstance(wanted, bool) and wanted >= 1:
            return min(wanted, self.page_size)
        return self.page_size

    def fetch(
        self, client: httpx.Client, errors: ErrorMap, since: str | None, query: Mapping[str, Any]
    ) -> Iterator[Page]:
        """The ``fetch`` hook for this resource: every record, or those changed since the
        cursor ``since``, or only ``query["ids"]``, a page at a time with its cursor."""
        size = self.size(client)
        ids = query.get("ids")
        if ids is not None:
            yield from self._by_ids(client, errors, [str(i) for i in dict.fromkeys(ids)], size)
            return
        spec = self.incremental
        if spec is None:
            yield from plain_pages(self, client, errors, size, None)
            return
        read = spec.begin(since)
        anchored = (
            spec.ordered
            and spec.since is not None
            and (spec.keyset or isinstance(self.paginator, Positional))
        )
        if anchored:
            yield from anchored_pages(self, client, errors, size, read)
        else:
            yield from plain_pages(self, client, errors, size, read)

    def _by_ids(
        self, client: httpx.Client, errors: ErrorMap, ids: list[str], size: int
    ) -> Iterator[Page]:
        """Only ``ids``, without a cursor: such a read is no position in the change stream.
        Ids the API does not know are left out."""
        if not ids:
            yield Page([])
            return
        wanted = set(ids)
        id_field = self.incremental.id if self.incremental is not None else "id"
        if self.ids_param is None and self.by_id is not None:
            records: list[NativeRecord] = []
            for native_id in ids:
                _response, body = errors.read(client, self.item_path(native_id), missing_ok=True)
                found = select(body, self.record)
                if isinstance(found, dict):
                    records.append(found)
                if len(records) >= size:
                    yield Page(records)
                    records = []
            yield Page(records)
            return
        per_request, asked = size, size
        if self.ids_per_request is not None:
            per_request, asked = self.ids_per_request, self.page_size
        chunks = [[]] if self.ids_param is None else [
            ids[at : at + per_request] for at in range(0, len(ids), per_request)
        ]
        for chunk in chunks:
            extra: dict[str, Any] = {}
            if isinstance(self.ids_param, str):
                extra[self.ids_param] = ",".join(chunk)
            elif self.ids_param is not None:
                extra.update(self.ids_param(chunk))
            for page in plain_pages(self, client, errors, asked, None, extra):
                kept = [r for r in page.records if str(select(r, id_field)) in wanted]
                yield Page(kept)


@dataclass(frozen=True)
class Api:
    """A connector's resources by canonical entity, and the error map they share."""

    errors: ErrorMap
    resources: Mapping[str, Resource]

    def resource(self, entity: str) -> Resource:
        """The resource of ``entity``; a ConnectorError naming those there are otherwise."""
        try:
            return self.resources[entity]
        except KeyError:
            raise ConnectorError(
                f"{self.errors.system} has no resource for {entity!r}; it has: "
                f"{', '.join(self.resources)}"
            ) from None

    def fetch(
        self, client: httpx.Client, entity: str, since: str | None, query: Mapping[str, Any]
    ) -> Iterator[Page]:
        """The ``fetch`` hook: :meth:`Resource.fetch` of ``entity``'s resource."""
        return self.resource(entity).fetch(client, self.errors, since, query)
