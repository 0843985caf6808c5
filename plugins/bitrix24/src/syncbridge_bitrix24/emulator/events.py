"""The portal's events: ``event.bind`` / ``event.get`` / ``event.unbind``, and the notifications
it posts to the bound handlers.

As the real portal (``api-reference/events/``):

- ``event.bind`` needs an app's authorisation (an inbound webhook gets 403 ``WRONG_AUTH_TYPE``,
  checked by the transport, which knows the credential), a known event of a granted scope
  (``ERROR_EVENT_NOT_FOUND``), an http(s) handler whose host has a dot
  (``ERROR_UNSUPPORTED_PROTOCOL``, ``ERROR_WRONG_HANDLER_URL``), and refuses the same event,
  handler and user twice with ``ERROR_CORE`` "Unable to set event handler: Handler already
  binded"; it answers ``true``;
- ``event.get`` lists ``{event, handler, auth_type, offline}`` with ``auth_type`` as text;
- ``event.unbind`` removes every binding matching what it is given and answers ``{count}``;
- a notification is a form POST (PHP's ``http_build_query``) of ``event``,
  ``event_handler_id``, ``data[FIELDS][ID]`` (and ``ENTITY_TYPE_ID`` for smart invoices),
  ``ts`` and ``auth[...]`` with the app's ``application_token``, sent after the call that
  made the change has been answered, once: the portal does not resend a failed one.

One method call is one event per record, however many writes it takes (``crm.item.add``
inserts, then numbers the invoice): store writes are collected while a call runs
(:meth:`Events.collecting`) and sent when it ends. Offline bindings (``event_type=offline``)
are kept and listed, but the offline queue (``event.offline.*``) is not emulated.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from syncbridge.emulator import Record, Store
from syncbridge.emulator.webhooks import Delivery, WebhookSender
from syncbridge_bitrix24 import phpquery
from syncbridge_bitrix24.emulator.calls import Handler, MethodError, Reply

__all__ = ["APP_ONLY", "Binding", "Events"]

#: methods an inbound webhook may not call (``event-bind.md``: WRONG_AUTH_TYPE)
APP_ONLY = frozenset({"event.bind", "event.get", "event.unbind"})
WRONG_AUTH_TYPE = MethodError(
    "WRONG_AUTH_TYPE", "Current authorization type is denied for this method", 403
)

#: store table -> (the event names' stem, the record's id field, fixed data fields)
_TABLES: dict[str, tuple[str, str, dict[str, str]]] = {
    "contacts": ("ONCRMCONTACT", "ID", {}),
    "companies": ("ONCRMCOMPANY", "ID", {}),
    "products": ("ONCRMPRODUCT", "ID", {}),
    "currencies": ("ONCRMCURRENCY", "CURRENCY", {}),
    "measures": ("ONCRMMEASURE", "ID", {}),
    "invoices": ("ONCRMDYNAMICITEM", "id", {"ENTITY_TYPE_ID": "31"}),
}
_ACTIONS = {"create": "ADD", "update": "UPDATE", "delete": "DELETE"}
#: the events a ``crm`` app may bind (``events.md``); those of emulated tables are sent
CRM_EVENTS = frozenset(
    f"ONCRM{stem}{action}"
    for stem in (
        "LEAD",
        "DEAL",
        "COMPANY",
        "CONTACT",
        "QUOTE",
        "INVOICE",
        "CURRENCY",
        "PRODUCT",
        "PRODUCTSECTION",
        "PRODUCTPROPERTY",
        "ACTIVITY",
        "REQUISITE",
        "BANKDETAIL",
        "MEASURE",
        "DYNAMICITEM",
        "TIMELINECOMMENT",
    )
    for action in ("ADD", "UPDATE", "DELETE")
)
#: events of the app itself, bindable with any scope
APP_EVENTS = frozenset({"ONAPPUNINSTALL", "ONAPPINSTALL", "ONAPPUPDATE", "ONAPPTEST"})


@dataclass(frozen=True)
class Binding:
    """One registered handler."""

    id: int
    event: str
    handler: str
    auth_type: int = 0
    offline: bool = False

    def listed(self) -> dict[str, Any]:
        """As ``event.get`` lists it (``auth_type`` as text, ``offline`` as 0/1)."""
        return {
            "event": self.event,
            "handler": self.handler,
            "auth_type": str(self.auth_type),
            "offline": int(self.offline),
        }


class Events:
    """The bindings of the portal's one app, and the notifications of its CRM's changes.

    :param application_token: the app's token, sent as ``auth[application_token]``.
    :param member_id: the portal's id, ``auth[member_id]``.
    :param origin: ``scheme://host[:port]`` the portal is reached at (``auth[domain]`` and
        the endpoints are built from it, so that a connection to the emulator recognises it).
    :param tokens: fresh OAuth tokens of the user an event is delivered for.
    :param scopes: the app's scopes: a ``crm`` event needs ``crm``.
    """

    def __init__(
        self,
        store: Store,
        *,
        application_token: str,
        member_id: str,
        origin: Callable[[], str],
        tokens: Callable[[], dict[str, Any]],
        scopes: Callable[[], list[str]],
        sender: WebhookSender | None = None,
    ) -> None:
        self.application_token = application_token
        self.member_id = member_id
        self.origin = origin
        self.tokens = tokens
        self.scopes = scopes
        #: the portal's queue server: one attempt per notification, as the real one makes
        self.sender = sender or WebhookSender(retries=0)
        self.bindings: list[Binding] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._local = threading.local()
        store.listen(self._written)

    def methods(self) -> dict[str, Handler]:
        return {"event.bind": self.bind, "event.get": self.get, "event.unbind": self.unbind}

    # -- methods --------------------------------------------------------------------------
    def bind(self, params: dict[str, Any]) -> Reply:
        event = _text(params.get("event")).upper()
        if not event:
            raise MethodError("ERROR_ARGUMENT", "Argument 'EVENT' is null or empty")
        offline = self._offline(params)
        handler = "" if offline else _text(params.get("handler"))
        if not offline:
            if not handler:
                raise MethodError("ERROR_ARGUMENT", "Argument 'HANDLER' is null or empty")
            _check_handler(handler)
        if not self._known(event):
            raise MethodError("ERROR_EVENT_NOT_FOUND", "Event not found")
        auth_type = _int(params.get("auth_type"))
        with self._lock:
            for bound in self.bindings:
                if (bound.event, bound.handler, bound.auth_type, bound.offline) == (
                    event,
                    handler,
                    auth_type,
                    offline,
                ):
                    raise MethodError(
                        "ERROR_CORE", "Unable to set event handler: Handler already binded"
                    )
            self.bindings.append(Binding(next(self._ids), event, handler, auth_type, offline))
        return Reply(True)

    def get(self, _params: dict[str, Any]) -> Reply:
        with self._lock:
            return Reply([bound.listed() for bound in self.bindings])

    def unbind(self, params: dict[str, Any]) -> Reply:
        event = _text(params.get("event")).upper()
        if not event:
            raise MethodError("ERROR_ARGUMENT", "Argument 'EVENT' is null or empty")
        offline = self._offline(params)
        handler = _text(params.get("handler"))
        if not offline and not handler:
            raise MethodError("ERROR_ARGUMENT", "Argument 'HANDLER' is null or empty")
        # auth_type given, even empty, selects it (empty: the handlers without a user)
        auth_type = _int(params.get("auth_type")) if "auth_type" in params else None

        def matches(bound: Binding) -> bool:
            return (
                bound.event == event
                and bound.offline == offline
                and (offline or bound.handler == handler)
                and (auth_type is None or bound.auth_type == auth_type)
            )

        with self._lock:
            kept = [bound for bound in self.bindings if not matches(bound)]
            count = len(self.bindings) - len(kept)
            self.bindings = kept
        return Reply({"count": count})

    def _offline(self, params: dict[str, Any]) -> bool:
        kind = _text(params.get("event_type")).lower() or "online"
        if kind not in ("online", "offline"):
            raise MethodError("ERROR_ARGUMENT", "Value must be one of {online|offline}")
        return kind == "offline"

    def _known(self, event: str) -> bool:
        if event in APP_EVENTS:
            return True
        stem = event.split("_", 1)[0]  # ONCRMDYNAMICITEMADD_147: one smart process's event
        return stem in CRM_EVENTS and "crm" in self.scopes()

    # -- notifications --------------------------------------------------------------------
    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Hold back the events of this thread's writes until the block ends, one per
        record (a method call: ``Portal.call``); nested blocks send with the outermost."""
        pending: dict[tuple[str, Any], str] | None = getattr(self._local, "pending", None)
        if pending is not None:
            yield
            return
        self._local.pending = pending = {}
        try:
            yield
        finally:
            self._local.pending = None
            for (table, record_id), operation in pending.items():
                self._notify(table, operation, record_id)

    def _written(self, table: str, operation: str, record: Record) -> None:
        """The store's listener (under its lock: only queue work here)."""
        found = _TABLES.get(table)
        if found is None:
            return
        record_id = record.get(found[1])
        pending: dict[tuple[str, Any], str] | None = getattr(self._local, "pending", None)
        if pending is None:
            self._notify(table, operation, record_id)
            return
        key = (table, record_id)
        earlier = pending.get(key)
        # a record the call created is created, whatever else it did to it; one it deleted,
        # deleted. The first write of each record decides when its event is sent.
        if earlier is None or operation == "delete":
            pending[key] = operation

    def _notify(self, table: str, operation: str, record_id: Any) -> None:
        stem, _id_field, extra = _TABLES[table]
        event = stem + _ACTIONS[operation]
        with self._lock:
            targets = [b for b in self.bindings if b.event == event and not b.offline]
        for bound in targets:
            self.sender.send(
                Delivery(
                    url=bound.handler,
                    body=self.payload(bound, {"ID": str(record_id), **extra}).encode(),
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )
            )

    def payload(self, bound: Binding, fields: dict[str, str]) -> str:
        """The form the portal posts for ``bound``'s event about the record ``fields`` name
        (``crm/companies/events/on-crm-company-update.md``)."""
        origin = self.origin()
        tokens = self.tokens()
        return phpquery.encode(
            {
                "event": bound.event,
                "event_handler_id": str(bound.id),
                "data": {"FIELDS": fields},
                "ts": str(int(time.time())),
                "auth": {
                    "access_token": tokens["access_token"],
                    "expires_in": str(tokens["expires_in"]),
                    "scope": "crm",
                    "domain": httpx.URL(origin).netloc.decode("ascii"),
                    "server_endpoint": f"{origin}/rest/",
                    "status": "L",
                    "client_endpoint": f"{origin}/rest/",
                    "member_id": self.member_id,
                    "refresh_token": tokens["refresh_token"],
                    "application_token": self.application_token,
                },
            }
        )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _int(value: Any) -> int:
    try:
        return int(str(value or 0))
    except ValueError:
        return 0


def _check_handler(handler: str) -> None:
    """The portal's checks of a handler URL (``event-bind.md``, its error table)."""
    try:
        url = httpx.URL(handler)
    except httpx.InvalidURL:
        raise MethodError("ERROR_WRONG_HANDLER_URL", "Wrong handler URL") from None
    if url.scheme not in ("http", "https"):
        raise MethodError("ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol")
    if "." not in url.host:
        raise MethodError("ERROR_WRONG_HANDLER_URL", "Wrong handler URL")
