"""Dinero's webhook subscriptions (the ``subscribe`` hook) and its notifications (``webhook``).

What is documented: the official spec (``openapi.json``, tag ``Webhooks``) has four
operations, all answered "200 OK" without a documented body:

* ``GET /v1/{organizationId}/webhooks/events``: "available webhook events to subscribe to";
* ``GET /v1/{organizationId}/webhooks/subscriptions``: "active webhook subscriptions";
* ``POST /v1/{organizationId}/webhooks/subscribe``: ``SubscribeToWebhookModel {Uri, EventId}``;
* ``DELETE /v1/{organizationId}/webhooks/unsubscribe``: ``UnsubscribeFromWebhookModel
  {EventId}``.

What is not: no public source found (developer.dinero.dk, the spec, published clients;
``toggl-dinero`` makes no webhook calls) documents the event ids, the bodies of the two
listings, or the notification Dinero posts, nor any signature. So this module assumes the
smallest thing that fits the spec's own names (README of the plugin, "Assumptions" 17-20):

* an event is ``{"EventId": "contact.created", ...}`` (a bare string is read too); events
  are ``<entity>.<action>``, where the entity is ``contact``, ``product`` or ``invoice``;
* a subscription is ``{"EventId", "Uri"}``; as unsubscribing names the event alone, an
  organisation has one subscription per event, and subscribing it again replaces its Uri;
* a notification is a JSON ``POST`` naming the organisation, the event and the entity's guid:
  ``{"OrganizationId": 48213, "EventId": "contact.updated", "EntityGuid": "...",
  "OccurredAt": "..."}`` (property names matched case-insensitively, as Dinero binds them);
* as Dinero documents no signature, the subscriber authenticates notifications itself: the
  subscribed Uri carries the connection's ``webhook_token`` in its query (``?token=...``) and
  a notification without exactly that token is refused. Anyone who learns the Uri can forge
  a notification, so the token is long, secret, and only ever a nudge: a notification starts
  a run, which reads the changes from the API as any run does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from syncbridge import ConnectorError
from syncbridge.webhooks import (
    Change,
    Notice,
    WebhookRefused,
    WebhookRequest,
    body_digest,
    same_secret,
)
from syncbridge_dinero import api
from syncbridge_dinero.settings import DineroSettings, settings_of

#: the query parameter of the subscribed Uri that carries ``webhook_token``
TOKEN_PARAM = "token"

#: Dinero's entity in an event id -> the canonical entities its records are. A Dinero contact
#: is a company or a person (``IsPerson``) and a notification names only its guid, so a
#: contact's event names both: the run of each reads which one changed.
EVENT_ENTITIES: dict[str, tuple[str, ...]] = {
    "contact": ("company", "contact"),
    "product": ("product",),
    "invoice": ("invoice",),
}
#: the action of an event id that says the record is gone
DELETED = "deleted"


def events_path(org: int) -> str:
    return f"/v1/{org}/webhooks/events"


def subscriptions_path(org: int) -> str:
    return f"/v1/{org}/webhooks/subscriptions"


def subscribe_path(org: int) -> str:
    return f"/v1/{org}/webhooks/subscribe"


def unsubscribe_path(org: int) -> str:
    return f"/v1/{org}/webhooks/unsubscribe"


# -- subscribing -----------------------------------------------------------------------------
def with_token(url: str, token: str) -> str:
    """``url`` with ``token`` as its ``token`` query parameter (replacing one it had): the
    Uri Dinero is given, so that every notification it posts carries the token back."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k != TOKEN_PARAM]
    query.append((TOKEN_PARAM, token))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _get(row: Mapping[str, Any], name: str) -> Any:
    """``row[name]`` matched case-insensitively (Dinero echoes and binds names that way)."""
    wanted = name.lower()
    return next((value for key, value in row.items() if str(key).lower() == wanted), None)


def _event_ids(body: Any) -> list[str]:
    """The event ids of ``GET /webhooks/events``: objects with ``EventId``, or strings."""
    rows = body if isinstance(body, list) else []
    found = []
    for row in rows:
        value = _get(row, "EventId") if isinstance(row, dict) else row
        if isinstance(value, str) and value:
            found.append(value)
    return found


def _subscribed(body: Any) -> dict[str, str]:
    """``EventId -> Uri`` of ``GET /webhooks/subscriptions``."""
    rows = body if isinstance(body, list) else []
    found: dict[str, str] = {}
    for row in rows:
        if isinstance(row, dict):
            event, uri = _get(row, "EventId"), _get(row, "Uri")
            if isinstance(event, str) and isinstance(uri, str):
                found[event] = uri
    return found


def _prefixes(entities: Iterable[str]) -> set[str]:
    """The Dinero entities of event ids that notify of changes to ``entities``."""
    return {prefix for prefix, names in EVENT_ENTITIES.items() if set(names) & set(entities)}


def subscribe(client: httpx.Client, url: str, entities: list[str]) -> list[str]:
    """Subscribe ``url`` (with the token added) to every event Dinero lists for ``entities``.

    Idempotent: an event already subscribed with that very Uri is left alone (Dinero keeps
    one subscription per event, so subscribing it again would only rewrite it). Returns the
    ids of the events ``url`` is now subscribed to, in Dinero's order: Dinero's subscriptions
    have no id of their own, an event id is what ``unsubscribe`` names. Entities no event
    covers (payments: they are read from their invoices) are left to polling.
    """
    settings = settings_of(client)
    token = _token(settings)
    if token is None:
        raise ConnectorError(
            "dinero: set webhook_token in the connection's settings before subscribing: "
            "Dinero signs no notification, the token in the subscribed URL is what tells "
            "one genuine"
        )
    org = settings.organization_id
    prefixes = _prefixes(entities)
    wanted = [
        event for event in _event_ids(api.ERRORS.get(client, events_path(org)))
        if event.partition(".")[0].lower() in prefixes
    ]
    target = with_token(url, token)
    current = _subscribed(api.ERRORS.get(client, subscriptions_path(org)))
    for event in wanted:
        if current.get(event) == target:
            continue
        api.ERRORS.send(
            client, "POST", subscribe_path(org),
            content=api.encode({"Uri": target, "EventId": event}), headers=api.JSON_HEADERS,
        )
    return wanted


# -- receiving -------------------------------------------------------------------------------
def _token(settings: DineroSettings) -> str | None:
    return None if settings.webhook_token is None else settings.webhook_token.get_secret_value()


def _malformed(why: str) -> WebhookRefused:
    return WebhookRefused(f"dinero: not a Dinero notification: {why}", status=400)


def read(settings: DineroSettings, request: WebhookRequest) -> Notice:
    """Verify a notification and say what it names (see the module docstring).

    Checked in this order, each refusal naming what is wrong and never the token: the
    connection has a ``webhook_token`` (without one nothing can be told genuine); the
    request's ``token`` is that token (401); the body is a notification (400); it is about
    this connection's organisation (403). Its ``Id``, if it has one, is the notification's
    id; otherwise the body's digest is (the same body posted again is the same event).
    """
    expected = _token(settings)
    if expected is None:
        raise WebhookRefused(
            "dinero: this connection has no webhook_token, so no notification can be told "
            "genuine: set webhook_token in its settings and subscribe again"
        )
    given = request.query.get(TOKEN_PARAM)
    if given is None:
        raise WebhookRefused(
            "dinero: the notification carries no token (?token=...): it was not sent to a "
            "URL this connection subscribed"
        )
    if not same_secret(given, expected):
        raise WebhookRefused("dinero: the notification's token is not this connection's "
                             "webhook_token")
    try:
        body = json.loads(request.body)
    except ValueError:
        raise _malformed("the body is not JSON") from None
    if not isinstance(body, dict):
        raise _malformed("the body is not a JSON object")
    org, event, guid = (_get(body, name) for name in ("OrganizationId", "EventId", "EntityGuid"))
    if isinstance(org, bool) or not isinstance(org, int | str) or not str(org).isdigit():
        raise _malformed("OrganizationId is missing or not a number")
    if int(org) != settings.organization_id:
        raise WebhookRefused(
            f"dinero: the notification is about organisation {int(org)}, this connection "
            f"is organization_id {settings.organization_id}", status=403,
        )
    if not isinstance(event, str) or "." not in event:
        raise _malformed("EventId is missing or not <entity>.<action>")
    if not isinstance(guid, str) or not _is_guid(guid):
        raise _malformed("EntityGuid is missing or not a GUID")
    entity, _, action = event.lower().partition(".")
    deleted = action == DELETED
    changes = tuple(Change(name, guid, deleted) for name in EVENT_ENTITIES.get(entity, ()))
    given_id = _get(body, "Id")
    event_id = given_id if isinstance(given_id, str) and given_id else body_digest(request.body)
    return Notice(event_id=event_id, changes=changes)


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
