"""The ``/Api/R3`` endpoints: contacts, addresses, cards, products, to-dos, categories, schemas.

Lists carry numeric ids and the English contact ``Type``; details carry labels (the
localized ``Type``, status and user names). Every write stamps the record; an address
write also touches its contact, whose ``UpdatedAt`` is what incremental reads follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from syncbridge.emulator import Store, json_response
from syncbridge.emulator.store import CREATED, UPDATED, Record
from syncbridge_minicrm.emulator import tenant
from syncbridge_minicrm.emulator.render import (
    ApiError,
    api_root,
    envelope,
    page_of,
    parse_since,
    stamp,
)

#: list filters each search understands besides ``Page`` and ``UpdatedSince``
CONTACT_FILTERS = frozenset(
    {"Name", "Email", "Phone", "Type", "MainContactId", "Query", "ReferenceId"}
)
PROJECT_FILTERS = frozenset({"CategoryId", "MainContactId", "StatusId", "Deleted"})


def _id(raw: str, what: str = "Id") -> int:
    if not raw.isdigit():
        raise ApiError(f'Nem megfelelő paraméter: "{what}"')
    return int(raw)


def _int_field(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ApiError(f"Érvénytelen érték a(z) {key} mezőben: '{value}'")
    return int(value)


def _unknown(body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for key in body:
        if key not in allowed and key != "Id":
            raise ApiError(f"Ismeretlen mező: '{key}'")


def _body(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or not raw:
        raise ApiError('Nem megfelelő paraméter: "Data (JSON)"')
    return raw


def _since_filter(request: Request, rows: list[Record]) -> list[Record]:
    raw = request.query_params.get("UpdatedSince")
    if raw is None:
        return rows
    since = parse_since(raw)
    # MiniCRM compares whole seconds: a record stamped within the second asked for is in
    return [row for row in rows if row[UPDATED].replace(microsecond=0) >= since]


def _unknown_params(request: Request, allowed: frozenset[str]) -> None:
    for key in request.query_params:
        if key not in allowed and key not in ("Page", "UpdatedSince"):
            raise ApiError(f"Ismeretlen mező: '{key}'")


class R3:
    """The R3 handlers, over the emulator's store (mixed into the emulator)."""

    store: Store

    # -- contacts -------------------------------------------------------------------------
    def contact_name(self, row: Record) -> str:
        if row.get("Type") == "Business":
            return str(row.get("Name") or "")
        return " ".join(p for p in (row.get("LastName"), row.get("FirstName")) if p)

    def contact_row(self, request: Request, row: Record) -> dict[str, Any]:
        return {
            "Id": row["id"],
            "Name": self.contact_name(row),
            "Url": f"{api_root(request)}/Api/R3/Contact/{row['id']}",
            "Type": row["Type"],
            "Email": row.get("Email", ""),
            "Phone": row.get("Phone", ""),
            "BusinessId": row.get("BusinessId"),
        }

    def contact_detail(self, request: Request, row: Record) -> dict[str, Any]:
        fields = tenant.BUSINESS_FIELDS if row["Type"] == "Business" else tenant.PERSON_FIELDS
        detail: dict[str, Any] = {"Id": row["id"]}
        for key in sorted(fields):
            default: Any = [] if key == "Tags" else 0 if key == "Deleted" else ""
            detail[key] = row.get(key, default)
        if row["Type"] == "Person":
            detail["BusinessId"] = row.get("BusinessId")
        detail.update(
            {
                "Type": tenant.TYPE_LABELS[row["Type"]],
                "CreatedBy": tenant.USERS[tenant.API_USER],
                "CreatedAt": stamp(row[CREATED]),
                "UpdatedBy": tenant.USERS[tenant.API_USER],
                "UpdatedAt": stamp(row[UPDATED]),
                "Url": f"{api_root(request)}/Api/R3/Contact/{row['id']}",
            }
        )
        return detail

    async def contact_search(self, request: Request) -> Response:
        _unknown_params(request, CONTACT_FILTERS)
        params = request.query_params
        rows = self.store.table("contact").list()
        rows = _since_filter(request, rows)
        if "Type" in params:
            if params["Type"] not in tenant.TYPE_LABELS:
                raise ApiError(f"Érvénytelen érték a(z) Type mezőben: '{params['Type']}'")
            rows = [row for row in rows if row["Type"] == params["Type"]]
        if "MainContactId" in params:
            main = _id(params["MainContactId"], "MainContactId")
            rows = [row for row in rows if row.get("BusinessId") == main]
        for key in ("Email", "Phone", "ReferenceId"):
            if key in params:
                rows = [row for row in rows if str(row.get(key, "")) == params[key]]
        if "Name" in params:
            rows = [row for row in rows if self.contact_name(row) == params["Name"]]
        if "Query" in params:
            needle = params["Query"].casefold()
            rows = [
                row
                for row in rows
                if needle in " ".join(str(v) for v in row.values() if isinstance(v, str)).casefold()
            ]
        return envelope((self.contact_row(request, row) for row in rows), page_of(request))

    def contact_or_404(self, raw_id: str) -> Record:
        row = self.store.table("contact").get(_id(raw_id))
        if row is None:
            raise ApiError(f"A kapcsolattartó nem található. (Id: {raw_id})", status=404)
        return row

    async def contact_get(self, request: Request, raw_id: str) -> Response:
        return json_response(self.contact_detail(request, self.contact_or_404(raw_id)))

    def _business(self, business_id: int | None) -> None:
        if business_id is None:
            return
        row = self.store.table("contact").get(business_id)
        if row is None or row["Type"] != "Business":
            raise ApiError(f"A megadott cég nem található. (BusinessId: {business_id})")

    async def contact_create(self, request: Request, raw: Any) -> Response:
        body = _body(raw)
        kind = body.get("Type")
        if kind not in tenant.TYPE_LABELS:
            raise ApiError(f"Érvénytelen érték a(z) Type mezőben: '{kind}'")
        _unknown(body, tenant.BUSINESS_FIELDS if kind == "Business" else tenant.PERSON_FIELDS)
        if kind == "Business" and not str(body.get("Name") or "").strip():
            raise ApiError('Kötelező mező: "Name"')
        if kind == "Person" and not (body.get("FirstName") or body.get("LastName")):
            raise ApiError('Kötelező mező: "FirstName" vagy "LastName"')
        record = {key: value for key, value in body.items() if key != "Id"}
        if kind == "Person":
            record["BusinessId"] = _int_field(body, "BusinessId")
            self._business(record["BusinessId"])
        row = self.store.table("contact").insert(record)
        return json_response({"Id": row["id"]})

    async def contact_update(self, request: Request, raw_id: str, raw: Any) -> Response:
        current = self.contact_or_404(raw_id)
        body = _body(raw)
        kind = current["Type"]
        if "Type" in body and body["Type"] not in (kind, tenant.TYPE_LABELS[kind]):
            raise ApiError("A kapcsolattartó típusa nem módosítható.")
        _unknown(body, tenant.BUSINESS_FIELDS if kind == "Business" else tenant.PERSON_FIELDS)
        changes = {key: value for key, value in body.items() if key not in ("Id", "Type")}
        if kind == "Person" and "BusinessId" in changes:
            business = _int_field(changes, "BusinessId")
            if current.get("BusinessId") not in (None, business):
                raise ApiError("A kapcsolattartó nem helyezhető át másik céghez.")
            self._business(business)
            changes["BusinessId"] = business
        if kind == "Business" and "Name" in changes and not str(changes["Name"] or "").strip():
            raise ApiError('Kötelező mező: "Name"')
        self.store.table("contact").update(current["id"], changes)
        return json_response({"Id": current["id"]})

    async def purge_person(self, request: Request, raw_id: str) -> Response:
        row = self.contact_or_404(raw_id)
        if row["Type"] != "Person":
            raise ApiError("Cég nem törölhető az API-n keresztül.")
        if any(p.get("ContactId") == row["id"] for p in self.store.table("project").list()):
            raise ApiError("A személy egy adatlap fő kapcsolattartója, nem törölhető.")
        self.store.table("contact").delete(row["id"])
        return json_response({"Message": "Successfully deleted"})

    # -- addresses ------------------------------------------------------------------------
    def address_view(self, row: Record) -> dict[str, Any]:
        view = {key: row.get(key, "") for key in sorted(tenant.ADDRESS_FIELDS)}
        view["Default"] = int(row.get("Default") or 0)
        return {
            "Id": row["id"],
            **view,
            "CreatedBy": tenant.USERS[tenant.API_USER],
            "CreatedAt": stamp(row[CREATED]),
            "UpdatedBy": tenant.USERS[tenant.API_USER],
            "UpdatedAt": stamp(row[UPDATED]),
        }

    def _touch(self, contact_id: int) -> None:
        self.store.table("contact").update(contact_id, {})

    def _clean_address(self, body: Mapping[str, Any], current: Record | None) -> dict[str, Any]:
        _unknown(body, tenant.ADDRESS_FIELDS)
        merged = {**(current or {}), **body}
        contact_id = _int_field(merged, "ContactId")
        if contact_id is None:
            raise ApiError('Kötelező mező: "ContactId"')
        if self.store.table("contact").get(contact_id) is None:
            raise ApiError(f"A kapcsolattartó nem található. (Id: {contact_id})", status=404)
        if not str(merged.get("Name") or "").strip():
            raise ApiError('Kötelező mező: "Name"')
        kind = merged.get("Type") or tenant.ADDRESS_TYPES[0]
        if kind not in tenant.ADDRESS_TYPES:
            raise ApiError(f"Érvénytelen érték a(z) Type mezőben: '{kind}'")
        fields = {k: v for k, v in merged.items() if k in tenant.ADDRESS_FIELDS}
        return {**fields, "ContactId": contact_id, "Type": kind}

    async def address_create(self, request: Request, raw: Any) -> Response:
        body = _body(raw)
        if body.get("Id"):
            return await self.address_update(request, str(body["Id"]), body)
        row = self.store.table("address").insert(self._clean_address(body, None))
        self._touch(row["ContactId"])
        return json_response({"Id": row["id"]})

    def address_or_404(self, raw_id: str) -> Record:
        row = self.store.table("address").get(_id(raw_id))
        if row is None:
            raise ApiError(f"A cím nem található. (Id: {raw_id})", status=404)
        return row

    async def address_update(self, request: Request, raw_id: str, raw: Any) -> Response:
        current = self.address_or_404(raw_id)
        body = {key: value for key, value in _body(raw).items() if key != "Id"}
        record = self._clean_address(body, current)
        if record["ContactId"] != current["ContactId"]:
            raise ApiError("A cím nem helyezhető át másik kapcsolattartóhoz.")
        self.store.table("address").replace(current["id"], record)
        self._touch(record["ContactId"])
        return json_response({"Id": current["id"]})

    async def address_get(self, request: Request, raw_id: str) -> Response:
        return json_response(self.address_view(self.address_or_404(raw_id)))

    async def address_list(self, request: Request, raw_contact: str) -> Response:
        contact = self.contact_or_404(raw_contact)
        rows = self.store.table("address").list(lambda row: row["ContactId"] == contact["id"])
        structured = request.query_params.get("Structured") == "1"
        if not rows:
            return json_response({"Count": 0, "Results": []})
        results = {
            str(row["id"]): self.address_view(row) if structured else row["Name"] for row in rows
        }
        return json_response({"Count": len(rows), "Results": results})

    # -- cards ----------------------------------------------------------------------------
    def project_row(self, request: Request, row: Record) -> dict[str, Any]:
        contact = self.store.table("contact").get(row["ContactId"]) or {}
        business = (
            contact.get("BusinessId") if contact.get("Type") == "Person" else contact.get("id")
        )
        return {
            "Id": row["id"],
            "Name": row.get("Name", ""),
            "Url": f"{api_root(request)}/Api/R3/Project/{row['id']}",
            "ContactId": row["ContactId"],
            "StatusId": row["StatusId"],
            "UserId": row.get("UserId", tenant.API_USER),
            "Deleted": int(row.get("Deleted") or 0),
            "BusinessId": business,
        }

    async def project_search(self, request: Request) -> Response:
        _unknown_params(request, PROJECT_FILTERS)
        params = request.query_params
        rows = _since_filter(request, self.store.table("project").list())
        deleted = params.get("Deleted") == "1"
        rows = [row for row in rows if bool(row.get("Deleted")) == deleted]
        for key in ("CategoryId", "StatusId"):
            if key in params:
                wanted = self._enum(key, params[key], row_category=params.get("CategoryId"))
                rows = [row for row in rows if row[key] == wanted]
        if "MainContactId" in params:
            main = _id(params["MainContactId"], "MainContactId")
            rows = [row for row in rows if row["ContactId"] == main]
        return envelope((self.project_row(request, row) for row in rows), page_of(request))

    def _enum(self, key: str, value: Any, row_category: Any = None) -> int:
        """A dropdown value given as its id or its label, as the id; ApiError otherwise."""
        if key == "CategoryId":
            choices = tenant.CATEGORIES
        elif key == "UserId":
            choices = tenant.USERS
        else:
            category = int(row_category) if str(row_category or "").isdigit() else None
            if category is None or category not in tenant.STATUSES:
                choices = {k: v for s in tenant.STATUSES.values() for k, v in s.items()}
            else:
                choices = tenant.STATUSES[category]
        text = str(value).strip()
        if text.isdigit() and int(text) in choices:
            return int(text)
        for number, label in choices.items():
            if label == text:
                return number
        raise ApiError(f"Érvénytelen érték a(z) {key} mezőben: '{value}'")

    def project_or_404(self, raw_id: str) -> Record:
        row = self.store.table("project").get(_id(raw_id))
        if row is None:
            raise ApiError(f"Az adatlap nem található. (Id: {raw_id})", status=404)
        return row

    async def project_get(self, request: Request, raw_id: str) -> Response:
        row = self.project_or_404(raw_id)
        detail = self.project_row(request, row)
        category = row["CategoryId"]
        detail.update(
            {
                "CategoryId": category,
                "StatusId": tenant.STATUSES[category][row["StatusId"]],
                "UserId": tenant.USERS[row.get("UserId", tenant.API_USER)],
                "StatusUpdatedAt": stamp(row[UPDATED]),
                "IsPrivate": int(row.get("IsPrivate") or 0),
                "Invited": [],
                "SatisfactionRating": "",
                "CreatedBy": tenant.USERS[tenant.API_USER],
                "CreatedAt": stamp(row[CREATED]),
                "UpdatedBy": tenant.USERS[tenant.API_USER],
                "UpdatedAt": stamp(row[UPDATED]),
                "ProjectHash": f"{row['id']:08x}",
                "ProjectEmail": f"adatlap-{row['id']}@r3.minicrm.hu",
            }
        )
        return json_response(detail)

    async def project_save(self, request: Request, raw_id: str | None, raw: Any) -> Response:
        body = _body(raw)
        _unknown(body, tenant.PROJECT_FIELDS)
        table = self.store.table("project")
        current: Record | None = self.project_or_404(raw_id) if raw_id is not None else None
        merged: dict[str, Any] = {**(current or {}), **body}
        for required in ("CategoryId", "ContactId"):
            if merged.get(required) in (None, ""):
                raise ApiError(f'Kötelező mező: "{required}"')
        category = self._enum("CategoryId", merged["CategoryId"])
        contact_id = _int_field(merged, "ContactId")
        if contact_id is None or self.store.table("contact").get(contact_id) is None:
            raise ApiError(f"A kapcsolattartó nem található. (Id: {merged['ContactId']})")
        status = merged.get("StatusId")
        status_id = (
            self._enum("StatusId", status, category)
            if status not in (None, "")
            else next(iter(tenant.STATUSES[category]))
        )
        user = merged.get("UserId")
        try:
            user_id = self._enum("UserId", user) if user not in (None, "") else tenant.API_USER
        except ApiError:
            user_id = tenant.API_USER  # an unknown user is accepted: the card gets an owner
        record = {
            **{k: v for k, v in merged.items() if k in tenant.PROJECT_FIELDS},
            "CategoryId": category,
            "ContactId": contact_id,
            "StatusId": status_id,
            "UserId": user_id,
            "Deleted": int(merged.get("Deleted") or 0),
        }
        if current is None:
            row = table.insert(record)
        else:
            row = table.replace(current["id"], record) or current
        return json_response({"Id": row["id"]})

    # -- to-dos, products, categories, schemas --------------------------------------------
    async def todo_list(self, request: Request, raw_project: str) -> Response:
        project = self.project_or_404(raw_project)
        wanted = request.query_params.get("Status", "Open")
        rows = [
            {
                "Id": row["id"],
                "ProjectId": row["ProjectId"],
                "Comment": row.get("Comment", ""),
                "Status": row.get("Status", "Open"),
                "Deadline": row.get("Deadline", ""),
            }
            for row in self.store.table("todo").list()
            if row["ProjectId"] == project["id"]
            and (wanted == "All" or row.get("Status", "Open") == wanted)
        ]
        return json_response({"Count": len(rows), "Results": rows})

    async def todo_create(self, request: Request, raw: Any) -> Response:
        body = _body(raw)
        project_id = _int_field(body, "ProjectId")
        if project_id is None:
            raise ApiError('Kötelező mező: "ProjectId"')
        self.project_or_404(str(project_id))
        row = self.store.table("todo").insert({**body, "ProjectId": project_id, "Status": "Open"})
        return json_response({"Id": row["id"]})

    async def product_save(self, request: Request, raw_id: str | None, raw: Any) -> Response:
        body = _body(raw)
        table = self.store.table("product")
        current: Record | None = None
        if raw_id is not None:
            current = table.get(_id(raw_id))
            if current is None:
                raise ApiError(f"A termék nem található. (Id: {raw_id})", status=404)
        elif body.get("SKU"):
            same = table.list(lambda row: row.get("SKU") == body["SKU"])
            current = same[0] if same else None  # an existing SKU updates that product
        if current is None and not str(body.get("Name") or "").strip():
            raise ApiError('Kötelező mező: "Name"')
        defaults = {"CurrencyCode": "HUF", "VAT": "27%", "Deleted": 0}
        record = {**defaults, **(current or {}), **{k: v for k, v in body.items() if k != "Id"}}
        row = table.insert(record) if current is None else table.replace(current["id"], record)
        assert row is not None
        return json_response({"Id": row["id"]})

    async def categories(self, request: Request) -> Response:
        return json_response({str(key): name for key, name in tenant.CATEGORIES.items()})

    async def schema(self, request: Request, kind: str, raw_category: str | None) -> Response:
        if kind == "Project":
            if raw_category is None or _id(raw_category, "CategoryId") not in tenant.STATUSES:
                raise ApiError(f"A modul nem található. (CategoryId: {raw_category})", status=404)
            return json_response(tenant.project_schema(int(raw_category)))
        if kind not in tenant.SCHEMAS or raw_category is not None:
            raise ApiError(f"Ismeretlen típus: '{kind}'", status=404)
        return json_response(tenant.SCHEMAS[kind])
