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

from syncbridge import Client, ConnectorError, UpsertItem
from syncbridge_crmincloud.api import ERRORS, bare_id, encode

_RESOURCE = "crmincloud.categories"
PATH = "/CatalogCategories"


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
        listed = ERRORS.get(self.client, PATH)
        ids = [bare_id(raw) for raw in listed] if isinstance(listed, list) else [None]
        if None in ids:
            raise ConnectorError(f"{ERRORS.system} answered GET {PATH} without a list of ids")
        for category_id in (found["id"] for found in ids if found is not None):
            if category_id not in self._by_id:
                self._read(category_id)
        self._listed = True

    def _read(self, category_id: int) -> str | None:
        _response, record = ERRORS.read(self.client, f"{PATH}/{category_id}", missing_ok=True)
        if not isinstance(record, dict):
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
        """The id of the category with this description, created if the CRM lacks it.

        A ConnectorError when that cannot be done: the record naming it fails, not the
        others. A create whose outcome is unknown (no answer) sends the next caller to the
        list again, where the category is found if it was made.
        """
        key = _fold(description)
        with self._lock:
            if key not in self._by_name and not self._listed:
                self._list()
            if key in self._by_name:
                return self._by_name[key]
            item = UpsertItem(key=f"category:{key}", record={"description": description})
            result = ERRORS.write(
                self.client,
                item,
                "POST",
                PATH,
                content=encode(item.record),
                headers={"Content-Type": "application/json"},
                record=bare_id,
            )
            if not result.ok or result.id is None:
                self._listed = False
                raise ConnectorError(f"category {description!r} cannot be created: {result.error}")
            category_id = int(result.id)
            self._by_id[category_id] = description
            self._by_name[key] = category_id
            return category_id


def categories(client: Client) -> Categories:
    """The category cache of ``client``'s connection."""
    return client.resource(_RESOURCE, lambda: Categories(client))
