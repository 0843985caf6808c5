"""Catalog categories: ids in the CRM, descriptions in the canonical product.

``CatalogCategories`` has no search and no list of records, only ``GET /CatalogCategories``
(all ids) and ``GET /CatalogCategories/{id}`` (A11), so every description costs one request
and the connection keeps what it learnt in a cache of id <-> description. It asks only for
what it needs: a read asks for the categories its Catalog items name (an idle or small run
reads a category or two, not the whole list); a write that names a description the cache
does not know lists the ids once and reads those it has not seen, to find it before creating
it with ``POST /CatalogCategories``. A category added in the CRM meanwhile is an id not seen
yet, read when an item names it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from syncbridge.errors import ConnectorError
from syncbridge.http import Client
from syncbridge_crmincloud import api

_RESOURCE = "crmincloud.categories"


def _fold(description: str) -> str:
    return " ".join(description.split()).casefold()


class Categories:
    """The connection's category cache (get it with :func:`categories`)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._by_id: dict[int, str] = {}
        self._by_name: dict[str, int] = {}
        #: every id ``GET /CatalogCategories`` listed has been read
        self._listed = False

    def _list(self) -> None:
        ids = api.get_json(self.client, "/CatalogCategories")
        if not isinstance(ids, list):
            raise ConnectorError("/CatalogCategories: expected a JSON array of ids")
        for raw in ids:
            category_id = int(raw)
            if category_id not in self._by_id:
                self._read(category_id)
        self._listed = True

    def _read(self, category_id: int) -> str | None:
        record = api.get_record(self.client, f"/CatalogCategories/{category_id}")
        if record is None:
            return None
        description = str(record.get("description") or "").strip()
        self._by_id[category_id] = description
        self._by_name.setdefault(_fold(description), category_id)
        return description

    def descriptions(self, ids: Iterable[int]) -> dict[int, str | None]:
        """The description of each id (None for an id the CRM does not know); one request
        per id not read before on this connection."""
        with self._lock:
            return {
                category_id: self._by_id[category_id]
                if category_id in self._by_id
                else self._read(category_id)
                for category_id in ids
            }

    def id_for(self, description: str) -> int:
        """The id of the category with this description, created if the CRM lacks it."""
        key = _fold(description)
        with self._lock:
            if key not in self._by_name and not self._listed:
                self._list()
            if key in self._by_name:
                return self._by_name[key]
            answer = api.post_json(self.client, "/CatalogCategories", {"description": description})
            try:
                category_id = int(answer)
            except (TypeError, ValueError):
                raise ConnectorError(
                    f"/CatalogCategories: expected the new category's id, got {answer!r}"
                ) from None
            self._by_id[category_id] = description
            self._by_name[key] = category_id
            return category_id


def categories(client: Client) -> Categories:
    """The category cache of ``client``'s connection."""
    return client.resource(_RESOURCE, lambda: Categories(client))
