"""The Dinero API v1 emulator: token endpoint, contacts, products, invoices and payments.

Paths, auth, envelopes, error bodies and limits follow ``shared/apis/dinero`` (README and
``openapi.json``):

* ``POST /dineroapi/oauth/token`` (the path at ``authz.dinero.dk``): the password grant with
  the API key as username and password, the client authenticated by HTTP Basic; a bearer
  token of an hour, no refresh token. A refused grant is a 400 ``invalid_grant``.
* ``/v1/{organizationId}/...``: a bearer token; another organisation's id is a 403.
* 100 requests a minute per organisation, then 429 with the text ``API calls quota
  exceeded!``; error bodies ``{code, message, languageSpecificMessages, validationErrors}``
  with codes 40 (not found), 41 (unauthorised), 42 (validation), 43 (limit), 58 (the
  ``Timestamp`` is outdated).
* Every mutable record keeps a rowversion ``TimeStamp`` (16 hex digits); an invoice update,
  booking, deletion or payment naming an older one is refused with code 58.
* Webhooks (``/v1/{organizationId}/webhooks/...``): the events, the subscriptions, subscribe
  and unsubscribe; every create, update and delete of a contact, product or invoice (and the
  booking of an invoice) is posted to the Uri subscribed to its event by a
  :class:`~syncbridge.emulator.WebhookSender`, out of band, as a real system notifies. The spec
  documents none of the bodies: what is assumed is in :mod:`syncbridge_dinero.webhooks`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from syncbridge.describe import RateLimit
from syncbridge.emulator import (
    BadRequest,
    Delivery,
    Emulator,
    EmulatorOptions,
    Record,
    Table,
    WebhookSender,
    json_response,
    read_json,
)

from . import books, models, query

ORGANIZATION_ID = 48213
ORGANIZATION_NAME = "Nordlys Rådgivning ApS"
API_KEY = "dinero-emulator-api-key-7f3e"
CLIENT_ID = "syncbridge-dinero-emulator"
CLIENT_SECRET = "dinero-emulator-client-secret"
TOKEN_PATH = "/dineroapi/oauth/token"
RATE_LIMIT = RateLimit(requests=100, seconds=60)
TOKEN_LIFETIME = 3600

CONTACT_FILTERS = ("ExternalReference", "Name", "Email", "VatNumber", "EanNumber", "IsPerson",
                   "Phone")
PRODUCT_FILTERS = ("Name", "ProductNumber", "ExternalReference")
INVOICE_FILTERS = ("ExternalReference", "ContactGuid", "Description")

_CODES = {400: 42, 401: 41, 403: 41, 404: 40, 429: 43}

#: the emulated tables whose writes are notified: Dinero's entity in an event id, the guid
TABLE_EVENTS = {"contacts": ("contact", "ContactGuid"), "products": ("product", "ProductGuid"),
                "invoices": ("invoice", "Guid")}
#: ``GET /webhooks/events``: what a subscription can name (assumed, README A17)
WEBHOOK_EVENTS = {
    f"{entity}.{action}": f"{what} {done}"
    for entity, what in (("contact", "A contact was"), ("product", "A product was"),
                         ("invoice", "An invoice was"))
    for action, done in (("created", "created"), ("updated", "updated"),
                         ("deleted", "deleted"))
} | {"invoice.booked": "An invoice was booked"}
Handler = Callable[[Request], Any]


def _stamp(moment: datetime | None) -> str | None:
    """A read model's date-time: UTC, milliseconds, no zone (``2024-03-05T14:03:27.512``)."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


class DineroEmulator(Emulator):
    """One Dinero organisation (:data:`ORGANIZATION_ID`) reached by one API key.

    :param booked_every: every n-th seeded invoice is booked (and every second booked one
        paid in part); 0 seeds drafts only.
    :param limit: the organisation's rate limit, when a test wants a shorter window.
    :param webhooks: what posts the notifications (a test's, with fewer retries); by default
        a :class:`WebhookSender` of the emulator's own.
    """

    system = "dinero"
    title = "Dinero API v1"
    rate_limits = (RATE_LIMIT,)
    countries = ("DK",)
    clock_resolution = timedelta(milliseconds=1)

    def __init__(
        self,
        options: EmulatorOptions | None = None,
        *,
        booked_every: int = 3,
        limit: RateLimit | None = None,
        webhooks: WebhookSender | None = None,
    ) -> None:
        self.booked_every = booked_every
        self.tokens: dict[str, float] = {}
        self.grants = 0
        self._rowversion = 0x20A5E00
        self.webhooks = WebhookSender() if webhooks is None else webhooks
        #: ``EventId -> Uri``: one subscription per event (unsubscribing names the event alone)
        self.subscriptions: dict[str, str] = {}
        self._subscription_lock = threading.Lock()
        super().__init__(options, rate_limits=None if limit is None else (limit,))
        # seeded after the seed, so a booking is told from another update by the status before
        self._invoice_status = {row["Guid"]: row["Status"] for row in self.invoices.list()}
        self.store.listen(self._notify)

    # -- tables and ids -------------------------------------------------------------------
    @property
    def contacts(self) -> Table:
        return self.store.table("contacts")

    @property
    def products(self) -> Table:
        return self.store.table("products")

    @property
    def invoices(self) -> Table:
        return self.store.table("invoices")

    def next_timestamp(self) -> str:
        self._rowversion += 1
        return f"{self._rowversion:016X}"

    @staticmethod
    def find(table: Table, key: str, guid: str) -> Record | None:
        wanted = guid.lower()
        for row in table.list():
            if str(row[key]).lower() == wanted:
                return row
        return None

    def _found(self, table: Table, key: str, guid: str, what: str) -> Record:
        row = self.find(table, key, guid)
        if row is None:
            raise BadRequest(f"{what} with guid {guid} was not found", 404, code=40)
        return row

    # -- seed data ------------------------------------------------------------------------
    def populate(self) -> None:
        for index in range(1, self.options.records + 1):
            company = self.fake.company()
            self.contacts.insert(
                {
                    "ContactGuid": books.seeded_guid("contact", index),
                    "Name": company.name, "Street": company.address.street,
                    "ZipCode": company.address.postcode, "City": company.address.city,
                    "CountryKey": "DK", "Email": company.email, "Phone": company.phone,
                    "VatNumber": company.vat_number, "IsPerson": False, "IsMember": False,
                    "UseCvr": False,
                    "PaymentConditionType": "Netto", "PaymentConditionNumberOfDays": 8,
                }
            )
        for index in range(1, self.options.records + 1):
            person = self.fake.person()
            self.contacts.insert(
                {
                    "ContactGuid": books.seeded_guid("person", index),
                    "Name": person.full_name, "CountryKey": "DK", "Email": person.email,
                    "Phone": person.phone, "IsPerson": True, "IsMember": False,
                    "UseCvr": False,
                }
            )
        for index in range(1, self.options.records + 1):
            product = self.fake.product()
            self.products.insert(
                {
                    "ProductGuid": books.seeded_guid("product", index),
                    "ProductNumber": f"P-{index:04d}", "Name": product.name,
                    "BaseAmountValue": books.money(product.price), "Quantity": 1,
                    "AccountNumber": 1000, "Unit": "parts",
                }
            )
        for index in range(1, self.options.records + 1):
            contact = books.seeded_guid("contact", (index - 1) % max(self.options.records, 1) + 1)
            line = {
                "ProductGuid": None, "Description": f"Rådgivning {index}", "Comments": None,
                "Quantity": 1 + index % 4, "AccountNumber": 1000, "Unit": "hours",
                "Discount": 0, "LineType": "Product",
                "BaseAmountValue": books.money(650 + 25 * (index % 7)),
            }
            row = self._new_invoice(
                {
                    "Guid": books.seeded_guid("invoice", index), "ContactGuid": contact,
                    "Date": (date(2026, 1, 5) + timedelta(days=index % 300)).isoformat(),
                    "Description": "Faktura", "ProductLines": [line],
                }
            )
            if self.booked_every and index % self.booked_every == 0:
                booked = self._book(row, None)
                if index % (2 * self.booked_every) == 0:
                    total = books.invoice_totals(list(booked["ProductLines"]))["TotalInclVat"]
                    self._pay(booked, books.money(total / 2), booked["Date"], "Delbetaling")

    # -- auth -----------------------------------------------------------------------------
    def settings_for(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": base_url,
            "token_url": base_url + TOKEN_PATH,
            "organization_id": ORGANIZATION_ID,
            "api_key": API_KEY,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }

    def issue_token(self) -> str:
        """A valid access token, as the token endpoint would give it."""
        token = secrets.token_urlsafe(32)
        self.tokens[token] = time.time() + TOKEN_LIFETIME
        self.grants += 1
        return token

    async def token(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                client_id, secret = "", ""
        if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET):
            # RFC 6749 5.2: a client that authenticated with HTTP Basic gets a 401 challenge
            basic = header.lower().startswith("basic ")
            return json_response(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                401 if basic else 400,
                {"WWW-Authenticate": 'Basic realm="dineroapi"'} if basic else None,
            )
        if form.get("grant_type") != "password":
            return json_response(
                {"error": "unsupported_grant_type",
                 "error_description": f"grant_type {form.get('grant_type')!r}"}, 400
            )
        if form.get("username") != API_KEY or form.get("password") != API_KEY:
            return json_response(
                {"error": "invalid_grant",
                 "error_description": "The user name or password is incorrect."}, 400
            )
        token = self.issue_token()
        return json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME}
        )

    def _guard(self, handler: Handler, organisation: bool = True) -> Handler:
        async def guarded(request: Request) -> Response:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            expires = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            if expires is None or expires < time.time():
                return self.error(401, "Authorization has been denied for this request.")
            if organisation:
                org = request.path_params.get("org", "")
                if org != str(ORGANIZATION_ID):
                    return self.error(403, f"No access to organization {org}")
            result: Response = await handler(request)
            return result

        return guarded

    # -- what every answer looks like ------------------------------------------------------
    def error(self, status: int, message: str, **details: Any) -> Response:
        code = details.pop("code", _CODES.get(status, status))
        body = {
            "code": code,
            "message": message,
            "languageSpecificMessages": [{"property": "", "message": message}],
            "validationErrors": details.pop("validationErrors", {}),
        }
        return json_response(body, status)

    def rate_limit_key(self, request: Request) -> str:
        parts = request.url.path.split("/")
        return parts[2] if len(parts) > 2 and parts[2].isdigit() else "token"

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        limit = self.limiter.limits[0]
        return PlainTextResponse(
            f"API calls quota exceeded! maximum admitted {limit.requests} per "
            f"{limit.seconds:g}s.",
            429,
        )

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> Sequence[BaseRoute]:
        g = self._guard
        org = "/v1/{org}"
        return [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route("/v1/organizations", g(self.organizations, False), methods=["GET"]),
            Route(f"{org}/accounts/entry", g(self.accounts), methods=["GET"]),
            Route(f"{org}/vatTypes", g(self.vat_types), methods=["GET"]),
            Route(f"{org}/contacts", g(self.list_contacts), methods=["GET"]),
            Route(f"{org}/contacts", g(self.create_contact), methods=["POST"]),
            Route(f"{org}/contacts/{{guid}}", g(self.get_contact), methods=["GET"]),
            Route(f"{org}/contacts/{{guid}}", g(self.update_contact), methods=["PUT"]),
            Route(f"{org}/contacts/{{guid}}", g(self.delete_contact), methods=["DELETE"]),
            Route(f"{org}/products", g(self.list_products), methods=["GET"]),
            Route(f"{org}/products", g(self.create_product), methods=["POST"]),
            Route(f"{org}/products/{{guid}}", g(self.get_product), methods=["GET"]),
            Route(f"{org}/products/{{guid}}", g(self.update_product), methods=["PUT"]),
            Route(f"{org}/products/{{guid}}", g(self.delete_product), methods=["DELETE"]),
            Route(f"{org}/invoices", g(self.list_invoices), methods=["GET"]),
            Route(f"{org}/invoices", g(self.create_invoice), methods=["POST"]),
            Route(f"{org}/invoices/{{guid}}", g(self.get_invoice), methods=["GET"]),
            Route(f"{org}/invoices/{{guid}}", g(self.delete_invoice), methods=["DELETE"]),
            Route("/v1.2/{org}/invoices/{guid}", g(self.update_invoice), methods=["PUT"]),
            Route(f"{org}/invoices/{{guid}}/book", g(self.book_invoice), methods=["POST"]),
            Route(f"{org}/invoices/{{guid}}/payments", g(self.add_payment), methods=["POST"]),
            Route("/v2/{org}/invoices/{guid}/payments", g(self.payments), methods=["GET"]),
            Route(f"{org}/webhooks/events", g(self.webhook_events), methods=["GET"]),
            Route(f"{org}/webhooks/subscriptions", g(self.webhook_subscriptions),
                  methods=["GET"]),
            Route(f"{org}/webhooks/subscribe", g(self.subscribe), methods=["POST"]),
            Route(f"{org}/webhooks/unsubscribe", g(self.unsubscribe), methods=["DELETE"]),
        ]

    # -- reference --------------------------------------------------------------------------
    async def organizations(self, request: Request) -> Response:
        rows = [
            {
                "Name": ORGANIZATION_NAME, "Id": ORGANIZATION_ID, "Type": "Default",
                "IsPro": True, "IsPayingPro": True, "IsVatFree": False, "Email": None,
                "Phone": None, "Street": None, "City": "København", "ZipCode": "1799",
                "AttPerson": None, "IsTaxFreeUnion": False, "VatNumber": None,
                "CountryKey": "DK", "Website": None,
            }
        ]
        return json_response(query.pick_fields(rows, request.query_params.get("fields"),
                                               "id,name,isPro"))

    async def accounts(self, request: Request) -> Response:
        rows = [
            {
                "AccountNumber": number, "PublicStandardNumber": None, "Name": name,
                "VatCode": code, "Category": None, "CategoryName": None, "IsHidden": False,
                "IsDefaultSalesAccount": number == 1000,
            }
            for number, (name, code) in books.ACCOUNTS.items()
        ]
        fields = request.query_params.get("fields")
        return json_response(query.pick_fields(rows, fields, "AccountNumber,Name"))

    async def vat_types(self, request: Request) -> Response:
        return json_response(
            [{"VatCode": code, "Name": name, "VatRate": rate}
             for code, (name, rate) in books.VAT_TYPES.items()]
        )

    # -- listings ---------------------------------------------------------------------------
    def _listing(
        self,
        request: Request,
        table: Table,
        render: Callable[[Record], dict[str, Any]],
        filterable: Sequence[str],
        default_fields: str,
        order: Callable[[dict[str, Any]], Any] | None = None,
    ) -> Response:
        conditions = query.parse_filter(request.query_params.get("queryFilter"), filterable)
        since = query.changes_since(request)
        deleted = query.bool_param(request, "deletedOnly")
        if deleted:
            rows = [
                {**render(tomb.record), "DeletedAt": _stamp(tomb.deleted_at)}
                for tomb in table.deleted_since(None)
                if since is None or tomb.deleted_at >= since
            ]
        else:
            rows = [
                render(row) for row in table.list()
                if since is None or row["updated_at"] >= since
            ]
        rows = [row for row in rows if query.matches(row, conditions)]
        statuses = query.status_filter(request)
        if statuses is not None:
            rows = [row for row in rows if str(row.get("Status")).lower() in statuses]
        if order is not None:
            rows.sort(key=order, reverse=True)
        items, pagination = query.page_of(request, rows)
        fields = request.query_params.get("fields")
        return json_response(
            {"Collection": query.pick_fields(items, fields, default_fields),
             "Pagination": pagination}
        )

    # -- contacts ---------------------------------------------------------------------------
    def render_contact(self, row: Record) -> dict[str, Any]:
        body = {name: row.get(name) for name in models.CONTACT_CREATE.props}
        return {
            **body,
            "ContactGuid": row["ContactGuid"],
            "CreatedAt": _stamp(row["created_at"]), "UpdatedAt": _stamp(row["updated_at"]),
            "DeletedAt": None, "IsDebitor": True, "IsCreditor": False,
            "CompanyStatus": None, "VatRegionKey": "Denmark",
        }

    async def list_contacts(self, request: Request) -> Response:
        return self._listing(request, self.contacts, self.render_contact, CONTACT_FILTERS,
                             "name,contactGuid")

    async def create_contact(self, request: Request) -> Response:
        body = models.bind(models.CONTACT_CREATE, await read_json(request))
        guid = str(body.get("ContactGuid") or uuid.uuid4())
        if self.find(self.contacts, "ContactGuid", guid) is not None:
            raise BadRequest(f"A contact with guid {guid} already exists", 400, code=42)
        self.contacts.insert({**body, "ContactGuid": guid})
        return json_response({"ContactGuid": guid})

    async def get_contact(self, request: Request) -> Response:
        row = self._found(self.contacts, "ContactGuid", request.path_params["guid"], "Contact")
        return json_response(self.render_contact(row))

    async def update_contact(self, request: Request) -> Response:
        row = self._found(self.contacts, "ContactGuid", request.path_params["guid"], "Contact")
        body = models.bind(models.CONTACT_UPDATE, await read_json(request))
        self.contacts.replace(int(row["id"]), {**body, "ContactGuid": row["ContactGuid"]})
        return Response(status_code=200)

    async def delete_contact(self, request: Request) -> Response:
        row = self._found(self.contacts, "ContactGuid", request.path_params["guid"], "Contact")
        self.contacts.delete(int(row["id"]))
        return Response(status_code=200)

    # -- products ---------------------------------------------------------------------------
    def render_product(self, row: Record) -> dict[str, Any]:
        price = books.money(row["BaseAmountValue"])
        quantity = row["Quantity"]
        rate = books.vat_rate(int(row["AccountNumber"]))
        return {
            **{name: row.get(name) for name in models.PRODUCT.props},
            "ProductGuid": row["ProductGuid"],
            "CreatedAt": _stamp(row["created_at"]), "UpdatedAt": _stamp(row["updated_at"]),
            "DeletedAt": None,
            "BaseAmountValue": price,
            "BaseAmountValueInclVat": books.money(price * (1 + rate)),
            "TotalAmount": books.money(price * books.money(quantity)),
            "TotalAmountInclVat": books.money(price * books.money(quantity) * (1 + rate)),
        }

    async def list_products(self, request: Request) -> Response:
        return self._listing(request, self.products, self.render_product, PRODUCT_FILTERS,
                             "Name,ProductGuid")

    async def create_product(self, request: Request) -> Response:
        body = models.bind(models.PRODUCT, await read_json(request))
        self._account(body, "AccountNumber")
        guid = str(uuid.uuid4())
        self.products.insert({**body, "ProductGuid": guid})
        return json_response({"ProductGuid": guid})

    async def get_product(self, request: Request) -> Response:
        row = self._found(self.products, "ProductGuid", request.path_params["guid"], "Product")
        return json_response(self.render_product(row))

    async def update_product(self, request: Request) -> Response:
        row = self._found(self.products, "ProductGuid", request.path_params["guid"], "Product")
        body = models.bind(models.PRODUCT, await read_json(request))
        self._account(body, "AccountNumber")
        self.products.replace(int(row["id"]), {**body, "ProductGuid": row["ProductGuid"]})
        return Response(status_code=200)

    async def delete_product(self, request: Request) -> Response:
        row = self._found(self.products, "ProductGuid", request.path_params["guid"], "Product")
        self.products.delete(int(row["id"]))
        return Response(status_code=200)

    @staticmethod
    def _account(body: dict[str, Any], name: str, where: str = "") -> None:
        if int(body[name]) not in books.SALES_ACCOUNTS:
            raise BadRequest(
                "Validation Error", 400, code=42,
                validationErrors={f"{where}{name}": f"Account {body[name]} is not a sales "
                                  "account of this organization"},
            )

    # -- invoices ---------------------------------------------------------------------------
    def _check_invoice(self, body: dict[str, Any]) -> None:
        errors: dict[str, str] = {}
        for index, line in enumerate(body["ProductLines"]):
            where = f"ProductLines[{index}]."
            line.setdefault("LineType", "Product")
            if line.get("LineType") is None:
                line["LineType"] = "Product"
            if line["LineType"] == "Product":
                if not line.get("Unit"):
                    errors[f"{where}Unit"] = "Unit is required on a product line"
                if not line.get("ProductGuid") and not line.get("Description"):
                    errors[f"{where}Description"] = "Description is required without ProductGuid"
                if line.get("ProductGuid") and self.find(
                    self.products, "ProductGuid", line["ProductGuid"]
                ) is None:
                    errors[f"{where}ProductGuid"] = f"Product {line['ProductGuid']} not found"
                if int(line["AccountNumber"]) not in books.SALES_ACCOUNTS:
                    errors[f"{where}AccountNumber"] = (
                        f"Account {line['AccountNumber']} is not a sales account"
                    )
        contact = body.get("ContactGuid")
        if contact and self.find(self.contacts, "ContactGuid", contact) is None:
            errors["ContactGuid"] = f"Contact {contact} not found"
        if errors:
            raise BadRequest("Validation Error", 400, code=42, validationErrors=errors)

    def _new_invoice(self, body: dict[str, Any]) -> Record:
        guid = str(body.get("Guid") or uuid.uuid4())
        return self.invoices.insert(
            {
                **body,
                "Guid": guid,
                "Currency": body.get("Currency") or "DKK",
                "Language": body.get("Language") or "da-DK",
                "Date": body.get("Date") or self.store.clock.now().date().isoformat(),
                "PaymentConditionType": body.get("PaymentConditionType") or "Netto",
                "PaymentConditionNumberOfDays": body.get("PaymentConditionNumberOfDays") or 8,
                "Status": "Draft", "Number": 0, "TimeStamp": self.next_timestamp(),
                "Payments": [],
            }
        )

    def render_invoice(self, row: Record) -> dict[str, Any]:
        lines = [
            {
                "AccountName": books.ACCOUNTS.get(int(line["AccountNumber"]), ("", ""))[0],
                "BaseAmountValue": books.money(line["BaseAmountValue"]),
                "ProductGuid": line.get("ProductGuid"),
                "Description": line.get("Description") or "",
                "Comments": line.get("Comments"), "Quantity": line["Quantity"],
                "AccountNumber": int(line["AccountNumber"]), "Unit": line.get("Unit"),
                "Discount": line["Discount"], "LineType": line.get("LineType") or "Product",
                **{k: v for k, v in books.line_totals(line).items() if k not in ("Vat", "Rate")},
            }
            for line in row["ProductLines"]
        ]
        totals = books.invoice_totals(list(row["ProductLines"]))
        paid = sum((books.money(p["Amount"]) for p in row["Payments"]), books.money(0))
        contact = self.find(self.contacts, "ContactGuid", row.get("ContactGuid") or "")
        status = row["Status"]
        payment_status = status
        if status == "Booked" and paid:
            payment_status = "Paid" if paid == totals["TotalInclVat"] else (
                "OverPaid" if paid > totals["TotalInclVat"] else "Booked")
        due = date.fromisoformat(row["Date"]) + timedelta(
            days=int(row["PaymentConditionNumberOfDays"])
        )
        return {
            "PaymentDate": due.isoformat(), "PaymentStatus": payment_status,
            "PaymentConditionNumberOfDays": int(row["PaymentConditionNumberOfDays"]),
            "PaymentConditionType": row["PaymentConditionType"], "FikCode": None,
            "DepositAccountNumber": books.DEPOSIT_ACCOUNT, "MailOutStatus": "NotSent",
            "LatestMailOutType": None, "IsSentToDebtCollection": False,
            "IsMobilePayInvoiceEnabled": bool(row.get("IsMobilePayInvoiceEnabled")),
            "IsPensoPayEnabled": bool(row.get("IsPensoPayEnabled")),
            "Status": status, "ContactGuid": row.get("ContactGuid"), "Guid": row["Guid"],
            "TimeStamp": row["TimeStamp"],
            "CreatedAt": _stamp(row["created_at"]), "UpdatedAt": _stamp(row["updated_at"]),
            "DeletedAt": None, "Number": row["Number"],
            "ContactName": contact["Name"] if contact else None,
            "ShowLinesInclVat": bool(row.get("ShowLinesInclVat")),
            **totals,
            "TotalLines": [
                {"Type": "SubTotal", "TotalAmount": totals["TotalExclVat"], "Position": 0,
                 "Label": "Subtotal"},
                {"Type": "Vat", "TotalAmount": totals["TotalVat"], "Position": 1,
                 "Label": "Moms (25%)"},
                {"Type": "Total", "TotalAmount": totals["TotalInclVat"], "Position": 2,
                 "Label": "Total"},
            ],
            "InvoiceTemplateId": row.get("InvoiceTemplateId"), "Currency": row["Currency"],
            "Language": row["Language"], "ExternalReference": row.get("ExternalReference"),
            "Description": row.get("Description"), "Comment": row.get("Comment"),
            "Date": row["Date"], "ProductLines": lines, "Address": row.get("Address"),
        }

    def render_invoice_row(self, row: Record) -> dict[str, Any]:
        """A ``SalesVoucherReadListModel`` row."""
        full = self.render_invoice(row)
        return {
            "Number": full["Number"], "Guid": full["Guid"],
            "ExternalReference": full["ExternalReference"], "Date": full["Date"],
            "PaymentDate": full["PaymentDate"], "Description": full["Description"],
            "Status": full["PaymentStatus"], "Type": "Invoice",
            "ContactName": full["ContactName"], "ContactGuid": full["ContactGuid"],
            "TotalInclVat": full["TotalInclVat"], "TotalExclVat": full["TotalExclVat"],
            "TotalInclVatInDkk": full["TotalInclVat"], "TotalExclVatInDkk": full["TotalExclVat"],
            "MailOutStatus": full["MailOutStatus"], "LatestMailOutType": None,
            "Currency": full["Currency"], "CreatedAt": full["CreatedAt"],
            "UpdatedAt": full["UpdatedAt"], "DeletedAt": None,
        }

    async def list_invoices(self, request: Request) -> Response:
        # the default sort, VoucherNumber,VoucherDate descending (drafts, number 0, last)
        return self._listing(request, self.invoices, self.render_invoice_row, INVOICE_FILTERS,
                             "Guid,ContactName,Date,Description",
                             order=lambda row: (row["Number"], row["Date"] or ""))

    async def create_invoice(self, request: Request) -> Response:
        body = models.bind(models.INVOICE_CREATE, await read_json(request))
        self._check_invoice(body)
        if body.get("Guid") and self.find(self.invoices, "Guid", body["Guid"]) is not None:
            raise BadRequest(f"An invoice with guid {body['Guid']} already exists", 400, code=42)
        row = self._new_invoice(body)
        return json_response({"Guid": row["Guid"], "TimeStamp": row["TimeStamp"]})

    async def get_invoice(self, request: Request) -> Response:
        row = self._found(self.invoices, "Guid", request.path_params["guid"], "Invoice")
        return json_response(self.render_invoice(row))

    @staticmethod
    def _fresh(row: Record, timestamp: str | None) -> None:
        if timestamp is not None and timestamp != row["TimeStamp"]:
            raise BadRequest(
                "Timestamp outdated: the entity was changed by someone else. Fetch it again "
                "and retry with its current Timestamp.", 400, code=58,
            )

    async def update_invoice(self, request: Request) -> Response:
        row = self._found(self.invoices, "Guid", request.path_params["guid"], "Invoice")
        body = models.bind(models.INVOICE_UPDATE, await read_json(request))
        self._fresh(row, body.pop("Timestamp"))
        if row["Status"] != "Draft":
            raise BadRequest("A booked invoice cannot be updated; credit it instead", 400,
                             code=42)
        self._check_invoice(body)
        body.pop("Guid", None)
        kept = {k: row[k] for k in ("Guid", "Status", "Number", "Payments")}
        fresh = {**body, **kept, "TimeStamp": self.next_timestamp()}
        for name, default in (("Currency", "DKK"), ("Language", "da-DK"),
                              ("PaymentConditionType", "Netto"),
                              ("PaymentConditionNumberOfDays", 8)):
            fresh[name] = fresh.get(name) or default
        fresh["Date"] = fresh.get("Date") or row["Date"]
        stored = self.invoices.replace(int(row["id"]), fresh)
        assert stored is not None
        return json_response({"Guid": stored["Guid"], "TimeStamp": stored["TimeStamp"]})

    def _book(self, row: Record, number: int | None) -> Record:
        if row["Status"] != "Draft":
            raise BadRequest("The invoice is already booked", 400, code=42)
        if not row.get("ContactGuid"):
            raise BadRequest("Validation Error", 400, code=42,
                             validationErrors={"ContactGuid": "A contact is required to book"})
        used = [int(r["Number"]) for r in self.invoices.list() if r["Status"] != "Draft"]
        chosen = number if number else max(used, default=0) + 1
        stored = self.invoices.update(
            int(row["id"]),
            {"Status": "Booked", "Number": chosen, "TimeStamp": self.next_timestamp()},
        )
        assert stored is not None
        return stored

    async def book_invoice(self, request: Request) -> Response:
        row = self._found(self.invoices, "Guid", request.path_params["guid"], "Invoice")
        body = models.bind(models.BOOK, await read_json(request))
        self._fresh(row, body["Timestamp"])
        return json_response(self.render_invoice(self._book(row, body.get("Number"))))

    async def delete_invoice(self, request: Request) -> Response:
        row = self._found(self.invoices, "Guid", request.path_params["guid"], "Invoice")
        raw = await request.body()
        if raw.strip():
            body = models.bind(models.TIMESTAMP, await read_json(request))
            self._fresh(row, body.get("Timestamp"))
        if row["Status"] != "Draft":
            raise BadRequest("A booked invoice cannot be deleted", 400, code=42)
        self.invoices.delete(int(row["id"]))
        return Response(status_code=200)

    # -- payments ---------------------------------------------------------------------------
    def _pay(self, row: Record, amount: Any, when: str | None, text: str,
             reference: str | None = None) -> Record:
        payment = {
            "Guid": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "DepositAccountNumber": books.DEPOSIT_ACCOUNT, "Currency": row["Currency"],
            "ExchangeRate": 100, "PaymentClass": "Payment", "RelatedVoucherId": row["Guid"],
            "ExternalReference": reference,
            "PaymentDate": when or self.store.clock.now().date().isoformat(),
            "Description": text, "Amount": books.money(amount),
        }
        stored = self.invoices.update(
            int(row["id"]),
            {"Payments": [*row["Payments"], payment], "TimeStamp": self.next_timestamp()},
        )
        assert stored is not None
        return stored

    async def add_payment(self, request: Request) -> Response:
        row = self._found(self.invoices, "Guid", request.path_params["guid"], "Invoice")
        body = models.bind(models.PAYMENT, await read_json(request))
        self._fresh(row, body["Timestamp"])
        if row["Status"] == "Draft":
            raise BadRequest("Payments can only be registered on booked invoices", 400, code=42)
        if not body["Amount"]:
            raise BadRequest("Validation Error", 400, code=42,
                             validationErrors={"Amount": "Amount must not be 0"})
        stored = self._pay(row, body["Amount"], body.get("PaymentDate"), body["Description"],
                           body.get("ExternalReference"))
        return json_response(
            {"Guid": stored["Payments"][-1]["Guid"], "TimeStamp": stored["TimeStamp"],
             "RelatedVoucherGuid": stored["Guid"]}
        )

    async def payments(self, request: Request) -> Response:
        row = self._found(self.invoices, "Guid", request.path_params["guid"], "Invoice")
        total = books.invoice_totals(list(row["ProductLines"]))["TotalInclVat"]
        paid = sum((books.money(p["Amount"]) for p in row["Payments"]), books.money(0))
        return json_response(
            {
                "Payments": list(row["Payments"]),
                "RemainingAmount": total - paid, "PaidAmount": paid,
                "InvoiceTotalIncludingReminderExpenses": total,
                "RemainderAsFeeAvailable": False,
            }
        )

    # -- webhooks ---------------------------------------------------------------------------
    async def webhook_events(self, request: Request) -> Response:
        """What a subscription can name: a client picks its events from here, never from a
        list of its own (the real list is not published)."""
        return json_response(
            [{"EventId": event, "Description": text} for event, text in WEBHOOK_EVENTS.items()]
        )

    async def webhook_subscriptions(self, request: Request) -> Response:
        """The organisation's subscriptions, which a client reads to subscribe only once."""
        with self._subscription_lock:
            rows = [{"EventId": event, "Uri": uri} for event, uri in self.subscriptions.items()]
        return json_response(rows)

    @staticmethod
    def _event(body: dict[str, Any]) -> str:
        """The bound body's ``EventId``, refused like any validation error when Dinero has
        no such event (a typo must not subscribe to nothing silently)."""
        event = str(body["EventId"])
        if event not in WEBHOOK_EVENTS:
            raise BadRequest(
                "Validation Error", 400, code=42,
                validationErrors={"EventId": f"Unknown event {event!r}; GET "
                                  f"/v1/{ORGANIZATION_ID}/webhooks/events lists them"},
            )
        return event

    async def subscribe(self, request: Request) -> Response:
        """Subscribe a Uri to an event; the event's earlier Uri, if any, is replaced."""
        body = models.bind(models.SUBSCRIBE, await read_json(request))
        event = self._event(body)
        with self._subscription_lock:
            self.subscriptions[event] = str(body["Uri"])
        return Response(status_code=200)

    async def unsubscribe(self, request: Request) -> Response:
        """End the event's subscription; an event not subscribed is already so (200)."""
        body = models.bind(models.UNSUBSCRIBE, await read_json(request))
        event = self._event(body)
        with self._subscription_lock:
            self.subscriptions.pop(event, None)
        return Response(status_code=200)

    def _notify(self, table: str, operation: str, row: Record) -> None:
        """The store's listener: queue a notification to the Uri subscribed to the write's
        event. Runs under the store's lock, so it only queues; the sender posts."""
        known = TABLE_EVENTS.get(table)
        if known is None:
            return
        entity, key = known
        guid = str(row[key])
        action = {"create": "created", "update": "updated", "delete": "deleted"}[operation]
        if table == "invoices":
            before = self._invoice_status.get(guid)
            if operation == "delete":
                self._invoice_status.pop(guid, None)
            else:
                self._invoice_status[guid] = row["Status"]
                if before == "Draft" and row["Status"] == "Booked":
                    action = "booked"
        event = f"{entity}.{action}"
        with self._subscription_lock:
            uri = self.subscriptions.get(event)
        if uri is None:
            return
        moment = row["updated_at"] if operation != "delete" else self.store.clock.last
        body = {
            "OrganizationId": ORGANIZATION_ID, "EventId": event, "EntityGuid": guid,
            "OccurredAt": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None,
        }
        self.webhooks.send(
            Delivery(url=uri, body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json"})
        )


def create_app(options: EmulatorOptions) -> DineroEmulator:
    """The entry point ``syncbridge emulate dinero`` serves."""
    return DineroEmulator(options)
