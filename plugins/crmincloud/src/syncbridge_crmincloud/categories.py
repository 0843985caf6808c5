"""Catalog categories: ids in the CRM, descriptions in the canonical product.

``CatalogCategories`` has no search, only ``GET /CatalogCategories`` (all ids) and
``GET /CatalogCategories/{id}``, so the connection keeps one cache of id <-> description,
filled once and refreshed when a Catalog item names an id it has not seen (a category added
in the CRM meanwhile). A description the CRM does not have yet is created with
``POST /CatalogCategories`` when a product that needs it is written.
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
        self._loaded = False

    def _load(self) -> None:
        ids = api.get_json(self.client, "/CatalogCategories")
        if not isinstance(ids, list):
            raise ConnectorError("/CatalogCategories: expected a JSON array of ids")
        for raw in ids:
            category_id = int(raw)
            if category_id not in self._by_id:
                self._fetch(category_id)
        self._loaded = True

    def _fetch(self, category_id: int) -> str | None:
        record = api.get_record(self.client, f"/CatalogCategories/{category_id}")
        if record is None:
            return None
        description = str(record.get("description") or "").strip()
        self._by_id[category_id] = description
        self._by_name.setdefault(_fold(description), category_id)
        return description

    def descriptions(self, ids: Iterable[int]) -> dict[int, str | None]:
        """The description of each id (None for an id the CRM does not know)."""
        with self._lock:
            if not self._loaded:
                self._load()
            found: dict[int, str | None] = {}
            for category_id in ids:
                if category_id in self._by_id:
                    found[category_id] = self._by_id[category_id]
                else:
                    found[category_id] = self._fetch(category_id)
            return found

    def id_for(self, description: str) -> int:
        """The id of the category with this description, created if the CRM lacks it."""
        with self._lock:
            if not self._loaded:
                self._load()
            key = _fold(description)
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
