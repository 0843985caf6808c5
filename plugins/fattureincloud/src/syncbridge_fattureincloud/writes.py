"""Writing to Fatture in Cloud: one ``POST``/``PUT`` ``{"data": {...}}`` per record (the API has
no batch endpoint), deletes, and what a write needs that a mapping cannot know.

The spec allows no ``null`` in request bodies, so creates leave empty fields out and updates
send ``""`` for a string field that was cleared (other empty fields are left as they are).
Updates of documents never send ``payments_list``: payments are recorded in Fatture in Cloud
(by the user or the bank reconciliation) and replacing them would erase them. Invoice writes
ask ``options.fix_payments``, so that the instalments follow a changed total instead of the
write being refused.

A document names its client, payment method and VAT types by id, but the spec requires the
client's and the payment method's ``name`` too, and a line may carry only a VAT percentage;
:class:`Resolver` looks these up once per ``upsert`` call.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from syncbridge.errors import ConnectorError
from syncbridge.http import Client, json_of
from syncbridge.records import NativeRecord, UpsertItem, UpsertResult
from syncbridge_fattureincloud import documents, mapping
from syncbridge_fattureincloud.api import company_path, error_message, failure, get_json

#: entity -> company-relative endpoint of the writable entities
ENDPOINTS = {
    "company": "/entities/clients",
    "product": "/products",
    "quote": "/issued_documents",
    "order": "/issued_documents",
    "invoice": "/issued_documents",
}
#: client fields copied into a document's ``entity`` (the spec requires its ``name``)
_ENTITY_FIELDS = (
    "id",
    "name",
    "vat_number",
    "tax_code",
    "address_street",
    "address_postal_code",
    "address_city",
    "address_province",
    "country",
    "country_iso",
)


def clean(record: NativeRecord, create: bool, clearable: frozenset[str]) -> NativeRecord:
    """The body's ``data``: no nulls (see the module docstring)."""
    out: NativeRecord = {}
    for key, value in record.items():
        if value is not None:
            out[key] = value
        elif not create and key in clearable:
            out[key] = ""
    return out


class Resolver:
    """Looks up, once per upsert call, the names and ids a document write needs."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._clients: dict[int, NativeRecord] = {}
        self._methods: dict[int, NativeRecord] | None = None
        self._vat_types: list[NativeRecord] | None = None

    def entity(self, client_id: int) -> NativeRecord:
        if client_id not in self._clients:
            path = company_path(self.client, f"/entities/clients/{client_id}")
            response = self.client.get(path)
            if response.status_code == 404:
                raise ValueError(f"client {client_id} does not exist in Fatture in Cloud")
            if response.status_code != 200:
                raise failure(response, f"GET {path}")
            data = json_of(response)["data"]
            self._clients[client_id] = {
                key: data[key] for key in _ENTITY_FIELDS if data.get(key) is not None
            }
        return self._clients[client_id]

    def payment_method(self, method_id: int) -> NativeRecord:
        if self._methods is None:
            body = get_json(self.client, company_path(self.client, "/info/payment_methods"))
            self._methods = {int(m["id"]): m for m in body.get("data") or []}
        found = self._methods.get(method_id)
        if found is None:
            raise ValueError(f"payment method {method_id} does not exist in Fatture in Cloud")
        return {"id": method_id, "name": found.get("name") or str(method_id)}

    def _vats(self) -> list[NativeRecord]:
        if self._vat_types is None:
            body = get_json(self.client, company_path(self.client, "/info/vat_types"))
            self._vat_types = list(body.get("data") or [])
        return self._vat_types

    def vat_type(self, vat_id: int) -> NativeRecord:
        """``{"id", "value"}``: a product's ``default_vat`` must carry its value (spec)."""
        for vat in self._vats():
            if vat.get("id") == vat_id:
                return {"id": vat_id, "value": vat.get("value")}
        raise ValueError(f"VAT type {vat_id} does not exist in Fatture in Cloud")

    def vat_id(self, value: float) -> int:
        """The VAT type of a percentage; 0% is refused: it needs its nature (N1-N7)."""
        if value == 0:
            raise ValueError(
                "a 0% line needs a linked VAT type (the exemption nature decides which)"
            )
        for vat in self._vats():
            if vat.get("value") == value and not vat.get("is_disabled"):
                return int(vat["id"])
        raise ValueError(f"Fatture in Cloud has no VAT type of {value:g}%")

    def document(self, native: NativeRecord) -> NativeRecord:
        """Fill the entity, payment method and VAT ids of a mapped document."""
        out = dict(native)
        entity = out.get("entity") or {}
        out["entity"] = {**self.entity(int(entity["id"])), **entity}
        if isinstance(out.get("payment_method"), dict):
            out["payment_method"] = self.payment_method(int(out["payment_method"]["id"]))
        items = []
        for item in out.get("items_list") or []:
            vat = item.get("vat")
            if isinstance(vat, dict) and vat.get("id") is None and vat.get("value") is not None:
                item = {**item, "vat": {"id": self.vat_id(float(vat["value"]))}}
            items.append(item)
        out["items_list"] = items
        return out


def _body(entity: str, item: UpsertItem, resolver: Resolver) -> dict[str, Any]:
    if entity in documents.FIELDS:
        data = clean(resolver.document(item.record), item.is_create, documents.CLEARABLE)
        if not item.is_create:
            data.pop("payments_list", None)
        body: dict[str, Any] = {"data": data}
        if entity == "invoice":
            # the instalments must add up to the new total: let Fatture in Cloud adjust them
            body["options"] = {"fix_payments": True}
        return body
    data = clean(item.record, item.is_create, mapping.CLEARABLE.get(entity, frozenset()))
    vat = data.get("default_vat")
    if isinstance(vat, dict) and vat.get("id") is not None and vat.get("value") is None:
        data["default_vat"] = resolver.vat_type(int(vat["id"]))
    return {"data": data}


def upsert_items(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """POST creates and PUT updates, one request each; a refused record is reported, not raised.

    Authentication failures and an exhausted quota stop the entity (raised): every further
    request would fail the same way.
    """
    if entity not in ENDPOINTS:
        raise ConnectorError(f"fattureincloud cannot write {entity!r} (read-only)")
    path = company_path(client, ENDPOINTS[entity])
    resolver = Resolver(client)
    for item in items:
        try:
            body = _body(entity, item, resolver)
        except ValueError as error:
            yield UpsertResult.failed(item.key, str(error), item.id)
            continue
        if item.is_create:
            response = client.post(path, json=body)
        else:
            response = client.put(f"{path}/{item.id}", json=body)
        if response.status_code == 200:
            stored = json_of(response).get("data") or {}
            yield UpsertResult(key=item.key, id=str(stored.get("id", item.id)), record=stored)
        elif response.status_code == 401 or (
            response.status_code == 403 and response.headers.get("Retry-After")
        ):
            raise failure(response, f"{'POST' if item.is_create else 'PUT'} {path}")
        else:
            yield UpsertResult.failed(
                item.key, f"HTTP {response.status_code}: {error_message(response)}", item.id
            )


def delete_ids(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    """DELETE each record; one already gone counts as deleted."""
    if entity not in ENDPOINTS:
        raise ConnectorError(f"fattureincloud cannot delete {entity!r} (read-only)")
    path = company_path(client, ENDPOINTS[entity])
    for native_id in ids:
        response = client.delete(f"{path}/{native_id}")
        if response.status_code in (200, 204, 404):
            yield UpsertResult(key=native_id, id=native_id)
        elif response.status_code == 401:
            raise failure(response, f"DELETE {path}/{native_id}")
        else:
            yield UpsertResult.failed(
                native_id, f"HTTP {response.status_code}: {error_message(response)}", native_id
            )
