"""Fatture in Cloud's webhooks, emulated: the subscriptions API and the notifications.

As documented (webhooks/subscriptions, webhooks/notifications, webhooks/event-types):

- ``/c/{company_id}/subscriptions`` (list, create), ``/{subscription_id}`` (get, modify,
  delete) and ``/{subscription_id}/verify``. Ids are ``SUB<n>``. A subscription belongs to
  the company and the app that created it; an app may hold each event type once per
  company, a type already held elsewhere (or unknown) is left out with a warning, as the
  docs say. Group types (``...issued_documents.all.create``, ``...entities.all.delete``)
  are exploded into their types. Subscribing to a type needs read access to its scope
  families (``entity.clients``, ``issued_documents.invoices``...), else 403; the endpoints
  themselves need no scope (the spec's security lists none).
- **Verification**: creating a subscription (or changing its sink, or ``/verify``) sends
  the sink a GET with a random ``x-fic-verification-challenge`` (header, or query with
  ``verification_method: query``); the subscription is verified when the answer is ``200``
  with ``{"verification": "<challenge>"}``. Done before the create is answered, so the
  answer's ``verified`` says how it went. A retry through ``/verify`` is allowed every
  ``verify_interval`` seconds (10 minutes), five attempts in all; then the subscription
  is gone. A verified subscription gets the welcome event.
- **Notifications**: every create, update and delete of a company's clients, products and
  issued documents (a store listener) is posted to each verified subscription covering its
  type, as a CloudEvent in binary mode (``ce-*`` headers, ``{"data": {"ids": [id]}}``) or
  structured mode, with ``Authorization: Bearer <ES256 JWT>`` signed by the emulator's own
  key (:attr:`Webhooks.public_key` is what a connection verifies with). Delivery follows
  the documented policy (:class:`FicWebhookSender`).

One departure: the real service refuses a sink that is not HTTPS; the emulator also takes
``http://`` to a loopback host, so that tests and the demo can receive on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import itertools
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from syncbridge.emulator import BadRequest, Delivery, WebhookSender, json_response, read_json
from syncbridge_fattureincloud.emulator.access import Access
from syncbridge_fattureincloud.emulator.schema import Arr, Enum, Invalid, Obj, check
from syncbridge_fattureincloud.mapping import ROME
from syncbridge_fattureincloud.signing import ISSUER, public_key_text, sign

__all__ = ["EVENT_TYPES", "FicWebhookSender", "Notification", "Subscription", "Webhooks"]

PREFIX = "it.fattureincloud.webhooks."
CHALLENGE = "x-fic-verification-challenge"
USER_AGENT = "FattureInCloud/API-WEBHOOK"
WELCOME = PREFIX + "subscriptions.welcome"
#: seconds a token lives (docs: "3 hours from now")
TOKEN_LIFETIME = 3 * 3600
MAX_VERIFICATIONS = 5

_DOCUMENT_KINDS = (
    "invoices",
    "quotes",
    "proformas",
    "receipts",
    "delivery_notes",
    "credit_notes",
    "orders",
    "work_reports",
    "supplier_orders",
    "self_supplier_invoices",
    "self_own_invoices",
)
_CRUD = ("create", "update", "delete")


def _scopes(resource: str) -> tuple[str, ...]:
    """The scope families an event resource needs (docs: the event types' Scopes column)."""
    if resource.startswith("issued_documents."):
        kind = resource.split(".", 1)[1]
        if kind == "e_invoices":
            return ("issued_documents.invoices", "issued_documents.credit_notes")
        if kind.startswith("self_"):
            return ("issued_documents.self_invoices",)
        return (resource,)
    if resource.startswith("entities."):
        return ("entity." + resource.split(".", 1)[1],)
    if resource.startswith("received_documents"):
        return ("received_documents",)
    return {"archive_documents": ("archive",)}.get(resource, (resource,))


def _event_types() -> dict[str, tuple[str, ...]]:
    """Every event type of the spec's EventType enum (groups aside), with its scopes."""
    found: dict[str, tuple[str, ...]] = {}
    for kind in _DOCUMENT_KINDS:
        for action in (*_CRUD, "email_sent"):
            found[f"{PREFIX}issued_documents.{kind}.{action}"] = _scopes(
                f"issued_documents.{kind}"
            )
    for resource in ("received_documents", "receipts", "taxes", "archive_documents", "cashbook"):
        for action in _CRUD:
            found[f"{PREFIX}{resource}.{action}"] = _scopes(resource)
    for action in (*_CRUD, "stock_update"):
        found[f"{PREFIX}products.{action}"] = (
            ("products", "stock") if action == "stock_update" else ("products",)
        )
    for resource in ("entities.clients", "entities.suppliers"):
        for action in _CRUD:
            found[f"{PREFIX}{resource}.{action}"] = _scopes(resource)
    found[f"{PREFIX}issued_documents.e_invoices.status_update"] = _scopes(
        "issued_documents.e_invoices"
    )
    found[f"{PREFIX}received_documents.e_invoices.receive"] = ("received_documents",)
    return found


#: event type -> the scope families subscribing to it needs
EVENT_TYPES = _event_types()
#: group type -> its event types (docs: "Group Types")
GROUPS: dict[str, tuple[str, ...]] = {
    **{
        f"{PREFIX}issued_documents.all.{action}": tuple(
            f"{PREFIX}issued_documents.{kind}.{action}" for kind in _DOCUMENT_KINDS
        )
        for action in (*_CRUD, "email_sent")
    },
    **{
        f"{PREFIX}entities.all.{action}": (
            f"{PREFIX}entities.clients.{action}",
            f"{PREFIX}entities.suppliers.{action}",
        )
        for action in _CRUD
    },
}
_METHOD = Enum(("header", "query"))
_SUBSCRIPTION = Obj(
    {
        "id": "str",
        "sink": "str",
        "verified": "bool",
        "types": Arr("str"),
        "config": Obj({"mapping": Enum(("binary", "structured"))}),
        "verification_method": _METHOD,
    }
)
_VERIFY = Obj({"id": "str", "verification_method": _METHOD})


@dataclass
class Subscription:
    """One app's subscription in one company."""

    id: str
    company_id: int
    app: str
    sink: str
    types: list[str]
    mapping: str = "binary"
    verified: bool = False
    attempts: int = 0
    last_attempt: float = 0.0

    def render(self) -> dict[str, Any]:
        """As the API shows it (the verification method is not stored, as documented)."""
        return {
            "id": self.id,
            "sink": self.sink,
            "verified": self.verified,
            "types": list(self.types),
            "config": {"mapping": self.mapping},
        }


@dataclass
class Notification(Delivery):
    """A delivery that knows its subscription (a ``410 Gone`` answer deletes it)."""

    subscription_id: str = ""
    event_id: str = ""
    event_type: str = ""


class FicWebhookSender(WebhookSender):
    """Delivery as documented (webhooks/notifications, "What should I answer?"): 200, 201,
    202, 204 and 102 are delivered; a 5xx or no answer is retried, four attempts in all,
    with a growing interval; any other status is final; ``410 Gone`` deletes the
    subscription."""

    def __init__(self, webhooks: Webhooks, *, backoff: float = 0.2) -> None:
        super().__init__(retries=3, backoff=backoff)
        self.webhooks = webhooks

    def settled(self, status: int | None) -> bool:
        return status is not None and status < 500

    def delivered(self, delivery: Delivery) -> None:
        if delivery.status == 410 and isinstance(delivery, Notification):
            self.webhooks.gone(delivery.subscription_id)


def _loopback(host: str | None) -> bool:
    if host in ("localhost", None):
        return host is not None
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Webhooks:
    """The subscriptions of every company, their endpoints, and the notifications.

    :param apps: the Fatture in Cloud application id of each app (``Access.app``): the
        tokens' ``aid``.
    :param verify_interval: seconds between two ``/verify`` requests of a subscription.
    """

    def __init__(
        self,
        apps: Mapping[str, int],
        *,
        verify_interval: float = 600.0,
        backoff: float = 0.2,
    ) -> None:
        self.apps = dict(apps)
        self.verify_interval = verify_interval
        #: the emulator's signing key (generated: no private key is kept in the code)
        self.key = ec.generate_private_key(ec.SECP256R1())
        #: what a connection to this emulator verifies tokens with (``webhook_public_key``)
        self.public_key = public_key_text(self.key)
        self.sender = FicWebhookSender(self, backoff=backoff)
        self.subscriptions: dict[str, Subscription] = {}
        self._ids = itertools.count(1)
        self._events = itertools.count(100)
        self._lock = threading.RLock()

    # -- tokens and notifications ---------------------------------------------------------
    def app_id(self, app: str) -> int:
        return self.apps.get(app, 90_000 + sum(app.encode()) % 10_000)

    def token(self, company_id: int, app: str, sink: str, jti: str) -> str:
        """The ``Authorization`` JWT of one request to ``sink``."""
        now = int(time.time())
        claims = {
            "jti": jti,
            "iss": ISSUER,
            "exp": now + TOKEN_LIFETIME,
            "sub": f"company:{company_id}",
            "aud": [sink],
            "iat": now,
            "aid": self.app_id(app),
        }
        return sign(self.key, claims)

    def notification(
        self,
        company_id: int,
        app: str,
        sink: str,
        event_type: str,
        ids: Iterable[int],
        *,
        mapping: str = "binary",
        subscription_id: str = "",
    ) -> Notification:
        """A signed notification as Fatture in Cloud sends it (not sent)."""
        event_id = f"{next(self._events)}:{uuid.uuid4()}"
        attributes = {
            "id": event_id,
            "source": ISSUER,
            "specversion": "1.0",
            "type": event_type,
            "subject": f"company:{company_id}",
            "time": datetime.now(ROME).isoformat(timespec="seconds"),
        }
        data = {"ids": list(ids)}
        headers = {
            "User-Agent": USER_AGENT,
            "Authorization": f"Bearer {self.token(company_id, app, sink, event_id)}",
        }
        if mapping == "structured":
            headers["Content-Type"] = "application/cloudevents+json"
            body = orjson.dumps({**attributes, "datacontenttype": "application/json", "data": data})
        else:
            headers["Content-Type"] = "application/json"
            headers.update({f"ce-{name}": value for name, value in attributes.items()})
            body = orjson.dumps({"data": data})
        return Notification(
            url=sink,
            body=body,
            headers=headers,
            subscription_id=subscription_id,
            event_id=event_id,
            event_type=event_type,
        )

    def listen(self, table: str, operation: str, row: Mapping[str, Any]) -> None:
        """The store listener: notify the subscriptions covering this write."""
        company, _, name = table.partition("/")
        if not company.isdigit():
            return
        if name == "clients":
            resource = "entities.clients"
        elif name == "products":
            resource = "products"
        elif name == "documents" and row.get("type"):
            resource = f"issued_documents.{row['type']}s"
        else:
            return
        event_type = f"{PREFIX}{resource}.{operation}"
        with self._lock:
            targets = [
                s
                for s in self.subscriptions.values()
                if s.company_id == int(company) and s.verified and event_type in s.types
            ]
        for subscription in targets:
            self.sender.send(
                self.notification(
                    subscription.company_id,
                    subscription.app,
                    subscription.sink,
                    event_type,
                    [int(row["id"])],
                    mapping=subscription.mapping,
                    subscription_id=subscription.id,
                )
            )

    def gone(self, subscription_id: str) -> None:
        """A sink answered ``410 Gone``: its subscription is deleted at once."""
        with self._lock:
            self.subscriptions.pop(subscription_id, None)

    def verify(self, subscription: Subscription, method: str) -> bool:
        """Send the verification GET and record its outcome (a blocking request: called
        in a worker thread)."""
        challenge = secrets.token_hex(32)
        token = self.token(
            subscription.company_id, subscription.app, subscription.sink, str(uuid.uuid4())
        )
        headers = {"User-Agent": USER_AGENT, "Authorization": f"Bearer {token}"}
        url = subscription.sink
        if method == "query":
            url += ("&" if "?" in url else "?") + urlencode({CHALLENGE: challenge})
        else:
            headers[CHALLENGE] = challenge
        try:
            response = self.sender.request("GET", url, headers=headers)
            answer = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            answer = None
        verified = isinstance(answer, dict) and answer.get("verification") == challenge
        with self._lock:
            subscription.attempts += 1
            subscription.last_attempt = time.monotonic()
            subscription.verified = verified
            if not verified and subscription.attempts >= MAX_VERIFICATIONS:
                self.subscriptions.pop(subscription.id, None)  # lost forever, as documented
        if verified:
            self.sender.send(
                self.notification(
                    subscription.company_id,
                    subscription.app,
                    subscription.sink,
                    WELCOME,
                    [],
                    mapping=subscription.mapping,
                    subscription_id=subscription.id,
                )
            )
        return verified

    # -- the endpoints ----------------------------------------------------------------------
    def _types(
        self, request: Request, given: list[str], company_id: int, app: str, keep: str | None
    ) -> tuple[list[str], list[str]]:
        """The event types a request asks for, exploded and checked: (types, warnings)."""
        access: Access = request.state.access
        wanted: list[str] = []
        warnings: list[str] = []
        for name in given:
            for event_type in GROUPS.get(name, (name,)):
                if event_type not in EVENT_TYPES:
                    warnings.append(f"The '{event_type}' event type does not exist")
                elif event_type not in wanted:
                    wanted.append(event_type)
        for event_type in wanted:
            for family in EVENT_TYPES[event_type]:
                if access.scopes is not None and not {f"{family}:r", f"{family}:a"} & access.scopes:
                    raise BadRequest(
                        f"Permessi insufficienti: è richiesto lo scope {family}:r "
                        f"per il tipo {event_type}.",
                        403,
                    )
        with self._lock:
            held = {
                event_type
                for s in self.subscriptions.values()
                if s.company_id == company_id and s.app == app and s.id != keep
                for event_type in s.types
            }
        taken = []
        for event_type in wanted:
            if event_type in held:
                warnings.append(
                    f"The '{event_type}' event is already registered for this application"
                )
            else:
                taken.append(event_type)
        return taken, warnings

    @staticmethod
    def _data(payload: Any, schema: Obj) -> dict[str, Any]:
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
            raise Invalid({"data": ["Il campo data è obbligatorio."]})
        errors: dict[str, list[str]] = {}
        check(payload["data"], schema, "data", errors)
        if errors:
            raise Invalid(errors)
        data: dict[str, Any] = payload["data"]
        return data

    @staticmethod
    def _sink(value: Any) -> str:
        parts = urlsplit(str(value))
        if parts.scheme == "https" and parts.hostname:
            return str(value)
        if parts.scheme == "http" and _loopback(parts.hostname):
            return str(value)  # the emulator's one departure (see the module docstring)
        raise Invalid({"data.sink": ["Il campo data.sink deve essere un URL HTTPS."]})

    def _found(self, request: Request) -> Subscription:
        company_id = int(request.path_params["company_id"])
        access: Access = request.state.access
        with self._lock:
            found = self.subscriptions.get(str(request.path_params["subscription_id"]))
        if found is None or found.company_id != company_id or found.app != access.app:
            raise BadRequest("Sottoscrizione non trovata.", 404)
        return found

    async def list(self, request: Request) -> Response:
        company_id = int(request.path_params["company_id"])
        access: Access = request.state.access
        with self._lock:
            mine = [
                s.render()
                for s in self.subscriptions.values()
                if s.company_id == company_id and s.app == access.app
            ]
        return json_response({"data": mine})

    async def get(self, request: Request) -> Response:
        return json_response({"data": self._found(request).render()})

    async def create(self, request: Request) -> Response:
        company_id = int(request.path_params["company_id"])
        access: Access = request.state.access
        data = self._data(await read_json(request), _SUBSCRIPTION)
        missing = {
            f"data.{name}": [f"Il campo data.{name} è obbligatorio."]
            for name in ("sink", "types")
            if not data.get(name)
        }
        if missing:
            raise Invalid(missing)
        sink = self._sink(data["sink"])
        types, warnings = self._types(request, data["types"], company_id, access.app, None)
        if not types:
            raise Invalid(
                {"data.types": ["Nessun tipo di evento valido."]},
                "I dati inviati non sono validi.",
                extra={"warnings": warnings},
            )
        with self._lock:
            subscription = Subscription(
                id=f"SUB{next(self._ids)}",
                company_id=company_id,
                app=access.app,
                sink=sink,
                types=types,
                mapping=(data.get("config") or {}).get("mapping") or "binary",
            )
            self.subscriptions[subscription.id] = subscription
        method = data.get("verification_method") or "header"
        await run_in_threadpool(self.verify, subscription, method)
        return json_response({"data": subscription.render(), "warnings": warnings or None})

    async def modify(self, request: Request) -> Response:
        subscription = self._found(request)
        data = self._data(await read_json(request), _SUBSCRIPTION)
        warnings: list[str] = []
        new_sink = None
        if data.get("sink") and data["sink"] != subscription.sink:
            new_sink = self._sink(data["sink"])
        types = None
        if data.get("types") is not None:
            types, warnings = self._types(
                request, data["types"], subscription.company_id, subscription.app, subscription.id
            )
        mapping = (data.get("config") or {}).get("mapping")
        with self._lock:  # the store listener reads subscriptions from the writers' threads
            if types is not None:
                subscription.types = types
            if mapping:
                subscription.mapping = mapping
            if new_sink is not None:
                # "the subscription is invalidated, and you will receive a new Verification
                # Event" (docs: Modify the subscription)
                subscription.sink, subscription.verified = new_sink, False
                subscription.attempts = 0
        if new_sink is not None:
            method = data.get("verification_method") or "header"
            await run_in_threadpool(self.verify, subscription, method)
        return json_response({"data": subscription.render(), "warnings": warnings or None})

    async def delete(self, request: Request) -> Response:
        subscription = self._found(request)
        self.gone(subscription.id)
        return Response(status_code=200)

    async def verify_again(self, request: Request) -> Response:
        subscription = self._found(request)
        payload = await read_json(request) if (await request.body()).strip() else {"data": {}}
        data = self._data(payload, _VERIFY)
        wait = subscription.last_attempt + self.verify_interval - time.monotonic()
        if wait > 0:
            raise BadRequest(
                "È possibile richiedere una nuova verifica ogni 10 minuti.", 429
            )
        await run_in_threadpool(
            self.verify, subscription, data.get("verification_method") or "header"
        )
        return Response(status_code=200)
