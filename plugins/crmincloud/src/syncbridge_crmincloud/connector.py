"""The ``crmincloud`` connector: the hook implementations syncbridge calls.

Reads page through ``SearchByODataCriteria`` anchored on ``lastModifiedDate``
(:func:`syncbridge_crmincloud.api.pages_since`); writes are one ``CreateOrUpdate`` per record
(the API has no batch endpoint), followed by a ``Get`` so the engine hashes the record as
the CRM stored it. Creates carry the engine's idempotency key in a custom field, which is
what :func:`lookup` searches after a crash. VAT rates (``TaxValue``) have neither search nor
timestamps: they are read in full, one ``GET`` per code, and never written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

import httpx

from syncbridge import hookspecs
from syncbridge.credentials import Credentials
from syncbridge.describe import Capability, ConnectorInfo, EntityInfo, RateLimit
from syncbridge.errors import AuthError, ConnectorError
from syncbridge.http import Client
from syncbridge.models import CanonicalRecord
from syncbridge.records import CheckResult, NativeRecord, Page, UpsertItem, UpsertResult
from syncbridge.settings import ConnectorSettings
from syncbridge_crmincloud import api, mapping
from syncbridge_crmincloud.auth import CrmInCloudAuth, error_message
from syncbridge_crmincloud.categories import categories
from syncbridge_crmincloud.settings import CrmInCloudSettings

hookimpl = hookspecs.hookimpl

#: no limit is published; public integrations pace themselves at 40-45 calls a minute, so
#: the client stays at the low end of that (README, "Rate limits")
RATE_LIMITS = (RateLimit(requests=40, seconds=60),)

_WRITABLE = frozenset(
    {
        Capability.READ,
        Capability.INCREMENTAL,
        Capability.CREATE,
        Capability.UPDATE,
        Capability.DELETE,
        Capability.LOOKUP,
    }
)

_VAT_RATES = "/TaxValue"


def _version() -> str:
    try:
        return version("syncbridge-crmincloud")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0"


def _settings(client: Client) -> CrmInCloudSettings:
    settings = client.settings
    if not isinstance(settings, CrmInCloudSettings):
        raise ConnectorError(
            f"the crmincloud connector needs CrmInCloudSettings, got {type(settings).__name__}"
        )
    return settings


def _endpoints(entity: str) -> api.Endpoints:
    try:
        return api.ENDPOINTS[entity]
    except KeyError:
        raise ConnectorError(f"crmincloud cannot write or search {entity!r}") from None


def _entity_info(entity: str, source: str, notes: str = "") -> EntityInfo:
    return EntityInfo(
        name=entity,
        capabilities=_WRITABLE,
        source=source,
        batch_size=1,
        page_size=CrmInCloudSettings.model_fields["page_size"].default,
        fields=mapping.FIELDS[entity],
        notes=notes,
    )


@hookimpl
def describe() -> ConnectorInfo:
    no_source = "no such entity in any public source of the CRM in Cloud API"
    return ConnectorInfo(
        name="crmincloud",
        title="CRM in Cloud (TeamSystem)",
        version=_version(),
        settings=CrmInCloudSettings,
        entities={
            "company": _entity_info("company", "Company"),
            "contact": _entity_info("contact", "Contact", "companyId -> company_id"),
            "product": _entity_info(
                "product", "Catalog", "category by CatalogCategories description"
            ),
            "vat_rate": EntityInfo(
                name="vat_rate",
                capabilities=frozenset({Capability.READ}),
                source="TaxValue",
                batch_size=1,
                page_size=CrmInCloudSettings.model_fields["page_size"].default,
                fields=mapping.FIELDS["vat_rate"],
                id_field="taxCode",
                notes="read in full (no search, no timestamps); id = taxCode",
            ),
            "quote": _entity_info(
                "quote", "Quote", "entity assumed by the API's naming pattern (README A9)"
            ),
        },
        unsupported={
            "order": "orders are not an entity of CRM in Cloud: an order is generated in the "
            "invoicing system when a quote is moved to accepted",
            "invoice": f"{no_source}; invoices live in the invoicing system",
            "payment": f"{no_source}; payments live in the invoicing system",
            "currency": f"{no_source} (quotes carry an ISO currency code instead)",
            "payment_method": no_source,
            "unit": f"{no_source} (Catalog items carry no unit of measure field)",
        },
        rate_limits=RATE_LIMITS,
        max_concurrency=2,
    )


@hookimpl
def auth(settings: ConnectorSettings, credentials: Credentials) -> httpx.Auth | None:
    if not isinstance(settings, CrmInCloudSettings):
        raise ConnectorError(
            f"the crmincloud connector needs CrmInCloudSettings, got {type(settings).__name__}"
        )
    return CrmInCloudAuth(settings)


@hookimpl
def check(client: Client) -> CheckResult:
    settings = _settings(client)
    who = settings.username or "the API key"
    try:
        response = client.get("/Auth/Me")
    except AuthError as error:
        return CheckResult(ok=False, reason=str(error), account=settings.username or "")
    except (ConnectorError, httpx.HTTPError) as error:
        return CheckResult(
            ok=False, reason=f"cannot reach {settings.base_url}: {error}", account=who
        )
    if response.status_code in (401, 403):
        return CheckResult(
            ok=False,
            reason=f"CRM in Cloud refused {who} (HTTP {response.status_code}: "
            f"{error_message(response)}); check the credentials in the connection settings",
            account=settings.username or "",
        )
    if response.status_code >= 400:
        return CheckResult(
            ok=False,
            reason=f"Auth/Me failed with HTTP {response.status_code}: {error_message(response)}",
        )
    me = api.decode(response)
    me = me if isinstance(me, dict) else {}
    name = str(me.get("name") or me.get("userName") or settings.username or "").strip()
    email = str(me.get("email") or "").strip()
    account = f"{name} <{email}>" if name and email and email != name else name or email
    return CheckResult(ok=True, account=account, details={"user_id": me.get("id")})


# -- reads ---------------------------------------------------------------------------------------


def _with_categories(client: Client, records: list[NativeRecord]) -> list[NativeRecord]:
    """Catalog records with :data:`~syncbridge_crmincloud.mapping.CATEGORY_KEY` filled in."""
    ids = {int(r["category"]) for r in records if r.get("category") not in (None, 0, "")}
    names = categories(client).descriptions(sorted(ids)) if ids else {}
    enriched = []
    for record in records:
        raw = record.get("category")
        name = names.get(int(raw)) if raw not in (None, 0, "") else None
        enriched.append({**record, mapping.CATEGORY_KEY: name})
    return enriched


def _prepared(client: Client, entity: str, records: list[NativeRecord]) -> list[NativeRecord]:
    return _with_categories(client, records) if entity == "product" else records


def _vat_rates(client: Client, page_size: int) -> Iterator[Page]:
    codes = api.get_json(client, _VAT_RATES)
    if not isinstance(codes, list):
        raise ConnectorError(f"{_VAT_RATES}: expected a JSON array of tax codes")
    for start in range(0, len(codes), page_size):
        records = []
        for code in codes[start : start + page_size]:
            record = api.get_record(client, f"{_VAT_RATES}/{code}")
            if record is not None:
                records.append(record)
        yield Page(records)


def _by_ids(client: Client, entity: str, ids: list[str]) -> Iterator[Page]:
    if entity == "vat_rate":
        paths = [f"{_VAT_RATES}/{code}" for code in ids]
    else:
        paths = [_endpoints(entity).get.format(id=int(rid)) for rid in ids]
    records = [record for path in paths if (record := api.get_record(client, path)) is not None]
    yield Page(_prepared(client, entity, records))


@hookimpl
def fetch(
    client: Client, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    settings = _settings(client)
    ids = query.get("ids")
    if ids:
        return _by_ids(client, entity, [str(rid) for rid in ids])
    if entity == "vat_rate":
        return _vat_rates(client, settings.page_size)
    endpoints = _endpoints(entity)
    return (
        Page(_prepared(client, entity, records), cursor=cursor)
        for records, cursor in api.pages_since(client, endpoints, since, settings.page_size)
    )


# -- writes --------------------------------------------------------------------------------------


def _stored(client: Client, entity: str, record_id: int) -> NativeRecord:
    endpoints = _endpoints(entity)
    record = api.get_record(client, endpoints.get.format(id=record_id))
    if record is None:
        raise api.ApiError(404, f"{endpoints.entity} {record_id} was saved but cannot be read")
    return _prepared(client, entity, [record])[0]


def _body(client: Client, entity: str, item: UpsertItem, key_field: str | None) -> NativeRecord:
    """The JSON object to send for ``item``: a new record, or the stored one with changes."""
    changes = dict(item.record)
    changes.pop("id", None)
    if entity == "product" and mapping.CATEGORY_KEY in changes:
        description = changes.pop(mapping.CATEGORY_KEY)
        changes["category"] = categories(client).id_for(description) if description else None
    if item.is_create:
        if key_field is not None:
            changes[key_field] = item.key
        if entity == "product":
            changes.setdefault("active", 1)
        return changes
    assert item.id is not None
    endpoints = _endpoints(entity)
    current = api.get_record(client, endpoints.get.format(id=int(item.id)))
    if current is None:
        raise api.ApiError(404, f"there is no {endpoints.entity} with id {item.id} to update")
    current.pop(mapping.CATEGORY_KEY, None)
    return {**mapping.merge_for_update(current, changes), "id": int(item.id)}


def _upsert(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    settings = _settings(client)
    endpoints = _endpoints(entity)
    for item in items:
        try:
            body = _body(client, entity, item, settings.key_field)
            record_id = api.save(client, endpoints, body)
            stored = _stored(client, entity, record_id)
        except api.ApiError as error:
            yield UpsertResult.failed(item.key, error.message, id=item.id)
            continue
        except ValueError as error:  # an id that is not a number, a price too precise
            yield UpsertResult.failed(item.key, str(error), id=item.id)
            continue
        yield UpsertResult(key=item.key, id=str(record_id), record=stored)


@hookimpl
def upsert(client: Client, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    if entity == "vat_rate":
        raise ConnectorError(
            "crmincloud does not write VAT rates: create the TaxValue in the CRM (Setup) "
            "and the sync links it by value"
        )
    return _upsert(client, entity, items)


@hookimpl
def lookup(client: Client, entity: str, keys: list[str]) -> dict[str, str]:
    key_field = _settings(client).key_field
    if key_field is None or entity not in api.ENDPOINTS:
        return {}
    endpoints = _endpoints(entity)
    found: dict[str, str] = {}
    for key in keys:
        records = api.search(client, endpoints, f"{key_field} eq {api.odata_string(key)}", top=2)
        ids = sorted(int(record["id"]) for record in records if record.get("id"))
        if ids:
            found[key] = str(ids[0])
    return found


def _delete(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    endpoints = _endpoints(entity)
    for rid in ids:
        try:
            response = client.delete(endpoints.delete.format(id=int(rid)))
            if response.status_code != 404:  # already gone is what was asked
                api.checked(response)
        except api.ApiError as error:
            yield UpsertResult.failed(rid, error.message, id=rid)
            continue
        except ValueError:
            yield UpsertResult.failed(rid, f"{rid!r} is not a CRM in Cloud id", id=rid)
            continue
        yield UpsertResult(key=rid, id=rid)


@hookimpl
def delete(client: Client, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    if entity == "vat_rate":
        raise ConnectorError("crmincloud does not delete VAT rates")
    return _delete(client, entity, ids)


# the hook's name is fixed by the contract, shadowing the builtin in this module only
@hookimpl
def map(
    entity: str, record: NativeRecord | CanonicalRecord, direction: Literal["in", "out"]
) -> CanonicalRecord | NativeRecord:
    if entity not in mapping.FIELDS:
        raise ConnectorError(f"crmincloud has no entity {entity!r}")
    if direction == "in":
        if not isinstance(record, dict):
            raise TypeError(f"map(in) needs a native dict, got {type(record).__name__}")
        return mapping.map_in(entity, record)
    if direction == "out":
        if not isinstance(record, CanonicalRecord):
            raise TypeError(f"map(out) needs a canonical record, got {type(record).__name__}")
        return mapping.map_out(entity, record)
    raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")
