"""The endpoints of the emulated registries (clients, products) and issued documents.

They are written against :class:`Backend`, the few things they need from the emulator (its
tables, the document numbering and the scope check), so that :mod:`.app` stays the
wiring: authentication, quotas, errors and routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from syncbridge.emulator import BadRequest, Table, json_response, read_json
from syncbridge_fattureincloud.emulator.access import scope_of
from syncbridge_fattureincloud.emulator.documents import BASIC as DOCUMENT_BASIC
from syncbridge_fattureincloud.emulator.documents import Numbering, build, render_document
from syncbridge_fattureincloud.emulator.query import (
    ListingCache,
    fieldset,
    listing,
    render_time,
    select,
    sort_records,
)
from syncbridge_fattureincloud.emulator.schema import (
    CLIENT,
    DOCUMENT,
    DOCUMENT_TYPES,
    PRODUCT,
    Invalid,
    Obj,
    validate_body,
)

Endpoint = Callable[[Request], Awaitable[Response]]


class Backend(Protocol):
    """What the endpoints need from the emulator."""

    def table(self, company_id: int, name: str) -> Table: ...

    def tables(self, company_id: int) -> dict[str, Table]: ...

    def numbering(self, company_id: int) -> Numbering: ...

    def require(self, request: Request, scope: str, write: bool = False) -> None: ...

    @property
    def listings(self) -> ListingCache:
        """Listings rebuilt only when their table changes."""
        ...


def _company(request: Request) -> int:
    return int(request.path_params["company_id"])


def found(backend: Backend, request: Request, name: str) -> tuple[Table, Mapping[str, Any]]:
    """The table and the record the path names, or 404."""
    table = backend.table(_company(request), name)
    row = table.get(int(request.path_params["item_id"]))
    if row is None:
        raise BadRequest("Risorsa non trovata.", 404)
    return table, row


def render_registry(row: Mapping[str, Any], basic: tuple[str, ...], fs: str) -> dict[str, Any]:
    """A stored client or product as the API shows it (``fs``: the fieldset).

    Keys the spec gives no ``null`` (an object, an enum without null) are left out when empty.
    """
    out = {
        "id": row.get("id"),
        **row,
        "created_at": render_time(row.get("created_at")),
        "updated_at": render_time(row.get("updated_at")),
    }
    if "default_payment_terms_type" in out or "default_payment_terms" in out:
        out["default_payment_terms_type"] = out.get("default_payment_terms_type") or "standard"
    for key in ("default_payment_method", "type"):
        if out.get(key) is None:  # no null in the spec (an object; an enum without null)
            out.pop(key, None)
    if fs == "basic":
        out = {key: out[key] for key in basic if key in out}
    return out


@dataclass(frozen=True)
class Registry:
    """A company resource with plain CRUD: clients and products."""

    table: str
    path: str
    schema: Obj
    kind: str
    scope: str
    basic: tuple[str, ...]
    defaults: Mapping[str, Any]


CLIENTS = Registry(
    "clients",
    "entities/clients",
    CLIENT,
    "client",
    "entity.clients",
    (
        "id",
        "code",
        "name",
        "type",
        "vat_number",
        "tax_code",
        "address_city",
        "address_province",
        "country",
        "email",
        "phone",
        "created_at",
        "updated_at",
    ),
    {"country": "Italia", "default_payment_terms_type": "standard", "e_invoice": False},
)
PRODUCTS = Registry(
    "products",
    "products",
    PRODUCT,
    "product",
    "products",
    (
        "id",
        "name",
        "code",
        "net_price",
        "gross_price",
        "measure",
        "category",
        "created_at",
        "updated_at",
    ),
    {},
)


class RegistryEndpoints:
    """List, create, get, modify and delete one registry."""

    def __init__(self, backend: Backend, registry: Registry) -> None:
        self.backend = backend
        self.registry = registry

    def _with_vat(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        """A ``default_vat`` naming a VAT type by id is stored as that whole VAT type."""
        vat = data.get("default_vat")
        if isinstance(vat, dict) and vat.get("id") is not None:
            stored = self.backend.table(_company(request), "vat_types").get(int(vat["id"]))
            if stored is None:
                raise Invalid({"data.default_vat.id": [f"L'aliquota IVA {vat['id']} non esiste."]})
            data = {
                **data,
                "default_vat": {
                    k: v for k, v in stored.items() if k not in ("created_at", "updated_at")
                },
            }
        return data

    def _render(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return render_registry(row, self.registry.basic, "detailed")

    async def list(self, request: Request) -> Response:
        registry = self.registry
        self.backend.require(request, registry.scope)
        fs = fieldset(request)
        table = self.backend.table(_company(request), registry.table)
        q, sort = request.query_params.get("q"), request.query_params.get("sort")

        def build() -> list[dict[str, Any]]:
            return sort_records([self._render(row) for row in table.list()], sort)

        rows = select(self.backend.listings.get((id(table), table.revision, sort), build), q, sort)
        body = listing(request, rows, registry.path)
        if fs == "basic":
            body["data"] = [{k: row[k] for k in registry.basic if k in row} for row in body["data"]]
        return json_response(body)

    async def create(self, request: Request) -> Response:
        registry = self.registry
        self.backend.require(request, registry.scope, write=True)
        body = validate_body(await read_json(request), registry.schema, registry.kind)
        table = self.backend.table(_company(request), registry.table)
        row = table.insert({**registry.defaults, **self._with_vat(request, body.data)})
        return json_response({"data": self._render(row)})

    async def get(self, request: Request) -> Response:
        self.backend.require(request, self.registry.scope)
        _table, row = found(self.backend, request, self.registry.table)
        return json_response({"data": self._render(row)})

    async def modify(self, request: Request) -> Response:
        registry = self.registry
        self.backend.require(request, registry.scope, write=True)
        table, row = found(self.backend, request, registry.table)
        body = validate_body(await read_json(request), registry.schema, registry.kind)
        stored = table.update(int(row["id"]), self._with_vat(request, body.data))
        assert stored is not None
        return json_response({"data": self._render(stored)})

    async def delete(self, request: Request) -> Response:
        self.backend.require(request, self.registry.scope, write=True)
        table, row = found(self.backend, request, self.registry.table)
        table.delete(int(row["id"]))
        return Response(status_code=200)


class DocumentEndpoints:
    """``/issued_documents``: documents with totals, numbering, payments and locking."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def list(self, request: Request) -> Response:
        doc_type = request.query_params.get("type")
        if doc_type is None:
            raise Invalid({"type": ["Il parametro type è obbligatorio."]})
        if doc_type not in DOCUMENT_TYPES:
            raise Invalid({"type": ["Il valore selezionato per type non è valido."]})
        self.backend.require(request, scope_of(doc_type))
        fs = fieldset(request)
        table = self.backend.table(int(request.path_params["company_id"]), "documents")
        q, sort = request.query_params.get("q"), request.query_params.get("sort")

        def build() -> list[dict[str, Any]]:
            rows = [render_document(row)
                    for row in table.list(lambda r: r.get("type") == doc_type)]
            return sort_records(rows, sort)

        listing_key = (id(table), table.revision, doc_type, sort)
        rows = select(self.backend.listings.get(listing_key, build), q, sort)
        body = listing(request, rows, "issued_documents")
        if fs == "basic":
            body["data"] = [{k: row[k] for k in DOCUMENT_BASIC if k in row} for row in body["data"]]
        return json_response(body)

    async def create(self, request: Request) -> Response:
        body = validate_body(await read_json(request), DOCUMENT, "document", with_options=True)
        doc_type = body.data.get("type") or "invoice"
        self.backend.require(request, scope_of(doc_type), write=True)
        company_id = int(request.path_params["company_id"])
        tables = self.backend.tables(company_id)
        doc = build(body.data, body.options, current=None, tables=tables, today=date.today())
        numbering = self.backend.numbering(company_id)
        if doc.get("number") is None:
            doc["number"] = numbering.next(doc)
        elif numbering.taken(doc):
            raise BadRequest(f"Il numero {doc['number']}{doc['numeration']} è già utilizzato.", 409)
        row = tables["documents"].insert(doc)
        numbering.add(row)
        return json_response({"data": render_document(row)})

    async def get(self, request: Request) -> Response:
        _table, row = found(self.backend, request, "documents")
        self.backend.require(request, scope_of(str(row["type"])))
        return json_response({"data": render_document(row)})

    async def modify(self, request: Request) -> Response:
        table, row = found(self.backend, request, "documents")
        body = validate_body(await read_json(request), DOCUMENT, "document", with_options=True)
        self.backend.require(request, scope_of(str(row["type"])), write=True)
        if row.get("locked"):
            raise BadRequest("Il documento è bloccato e non può essere modificato.", 409)
        if body.data.get("type", row["type"]) != row["type"]:
            raise Invalid({"data.type": ["Il tipo di un documento non può essere cambiato."]})
        company_id = int(request.path_params["company_id"])
        doc = build(
            body.data,
            body.options,
            current=row,
            tables=self.backend.tables(company_id),
            today=date.today(),
        )
        numbering = self.backend.numbering(company_id)
        numbering.remove(row)
        if numbering.taken(doc):
            numbering.add(row)
            raise BadRequest(f"Il numero {doc['number']}{doc['numeration']} è già utilizzato.", 409)
        stored = table.replace(int(row["id"]), doc)
        assert stored is not None
        numbering.add(stored)
        return json_response({"data": render_document(stored)})

    async def delete(self, request: Request) -> Response:
        table, row = found(self.backend, request, "documents")
        self.backend.require(request, scope_of(str(row["type"])), write=True)
        if row.get("locked"):
            raise BadRequest("Il documento è bloccato e non può essere eliminato.", 409)
        table.delete(int(row["id"]))
        self.backend.numbering(int(request.path_params["company_id"])).remove(row)
        return Response(status_code=200)
