"""Fatture in Cloud's webhooks: reading its notifications (``webhook``) and subscribing to
them (``subscribe``).

What Fatture in Cloud sends (docs: webhooks/subscriptions, webhooks/notifications):

- **A verification GET** to the sink right after a subscription is created (or its sink
  changed, or ``/verify`` asked): a random challenge in the ``x-fic-verification-challenge``
  header (``verification_method: header``, the default) or query parameter (``query``), to
  be answered ``200 {"verification": "<challenge>"}``. Until then the subscription sends
  nothing.
- **CloudEvents notifications**, POSTs in binary mode (attributes in ``ce-id``, ``ce-type``,
  ``ce-time``, ``ce-subject: company:<id>``, ``ce-source``, ``ce-specversion``; body
  ``{"data": {"ids": [...]}}``) or structured mode (``application/cloudevents+json``, the
  attributes in the body beside ``data``). The body names the records only, never their
  data: a notification is a nudge, the run reads the records as any run does.
- **A welcome event** (``it.fattureincloud.webhooks.subscriptions.welcome``) once verified.

Every one of them carries ``Authorization: Bearer <JWT>``, an ES256 token signed by Fatture
in Cloud (:mod:`.signing`): the only proof a request is Fatture in Cloud's. It is checked
first; then its claims against the request: ``aud`` must name the endpoint the request
reached, by path and query (a token sent to another endpoint is not replayed here),
``jti`` must be the ``ce-id`` and ``sub`` the ``ce-subject`` (the headers were not altered),
``aid`` this connection's app when ``webhook_app_id`` is set. The token does not cover the
body or ``ce-type``: an altered body under a genuine token is not detectable, but its
``ce-id`` is, and the receiver acts on an id once only.

A genuine notification of something the connector does not sync (suppliers, received
documents, an e-mail sent) is read as a notice without changes, never refused: Fatture in
Cloud takes any 4xx as a failed delivery and expires subscriptions that keep failing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
from cryptography.hazmat.primitives.asymmetric import ec

from syncbridge import AuthError, Client, ConnectorError
from syncbridge.rest import select
from syncbridge.webhooks import Change, Notice, WebhookRefused, WebhookRequest
from syncbridge_fattureincloud.api import fic
from syncbridge_fattureincloud.settings import FicSettings
from syncbridge_fattureincloud.signing import BadToken, load_public_key, verify

__all__ = ["CHALLENGE", "PREFIX", "RESOURCES", "event_types", "read", "subscribe"]

log = logging.getLogger(__name__)

#: every event type starts so
PREFIX = "it.fattureincloud.webhooks."
#: the verification challenge's header and query parameter
CHALLENGE = "x-fic-verification-challenge"
WELCOME = PREFIX + "subscriptions.welcome"
#: the event resource of each entity the connector syncs (``<PREFIX><resource>.<action>``)
RESOURCES: dict[str, str] = {
    "company": "entities.clients",
    "product": "products",
    "quote": "issued_documents.quotes",
    "order": "issued_documents.orders",
    "invoice": "issued_documents.invoices",
}
#: the actions subscribed to: what changes a record's data
ACTIONS = ("create", "update", "delete")
#: the entity an event resource's ids belong to, when reading (an e-invoice's status is
#: its invoice's: the SDI locking it matters to the sync)
_ENTITY_OF = {resource: entity for entity, resource in RESOURCES.items()} | {
    "issued_documents.e_invoices": "invoice",
}
#: actions that change no data the connector reads
_NO_CHANGE = frozenset({"email_sent"})
_CLOUDEVENTS_JSON = "application/cloudevents+json"


def event_types(entities: list[str]) -> list[str]:
    """The event types of ``entities`` that Fatture in Cloud notifies (the rest: polling)."""
    return [
        f"{PREFIX}{RESOURCES[entity]}.{action}"
        for entity in entities
        if entity in RESOURCES
        for action in ACTIONS
    ]


# -- reading ------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _key(text: str) -> ec.EllipticCurvePublicKey:
    return load_public_key(text)


def _endpoint(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """What of a URL identifies the endpoint: its path (no trailing ``/``) and its query
    without the challenge a query-mode verification appends. Scheme and host are left out:
    a receiver behind a TLS-terminating proxy sees ``http://internal-host/...`` where the
    sink, and so the token's ``aud``, says ``https://hooks.example.com/...``; the path
    (``/hooks/<tenant>/<connection>``) is what tells one endpoint from another."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    return parts.path.rstrip("/") or "/", tuple(sorted(kv for kv in query if kv[0] != CHALLENGE))


def _authenticate(settings: FicSettings, request: WebhookRequest) -> dict[str, Any]:
    """The claims of the request's token, checked for signature, issuer, lifetime, audience
    and app; :class:`WebhookRefused` saying which failed."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise WebhookRefused(
            "no Authorization: Bearer token; Fatture in Cloud signs every webhook request"
        )
    try:
        claims = verify(token.strip(), _key(settings.webhook_public_key))
    except BadToken as bad:
        raise WebhookRefused(f"the Authorization token is not Fatture in Cloud's: {bad}") from None
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    reached = _endpoint(request.url)
    if not any(isinstance(aud, str) and _endpoint(aud) == reached for aud in audiences):
        # the URLs are left out: a webhook URL's path may be its secret
        raise WebhookRefused(
            "the Authorization token was issued for another endpoint (aud), not the URL "
            "this request reached"
        )
    app = settings.webhook_app_id
    if app is not None and claims.get("aid") != app:
        raise WebhookRefused(
            f"the Authorization token was issued for app {claims.get('aid')!r}, not this "
            f"connection's app {app}"
        )
    return claims


def _company(subject: object, settings: FicSettings) -> None:
    """Refuse a subject that is not this connection's company."""
    kind, _, number = str(subject).partition(":")
    if kind != "company" or not number.isdigit():
        raise WebhookRefused(f"the subject {subject!r} is not company:<id>", 400)
    if int(number) != settings.company_id:
        raise WebhookRefused(
            f"the notification is about company {number}, this connection syncs company "
            f"{settings.company_id}"
        )


def _verification(settings: FicSettings, request: WebhookRequest) -> Notice:
    challenge = request.headers.get(CHALLENGE) or request.query.get(CHALLENGE)
    if not challenge:
        raise WebhookRefused(
            f"a GET without {CHALLENGE} is not a Fatture in Cloud verification request", 400
        )
    claims = _authenticate(settings, request)
    if claims.get("sub") is not None:
        _company(claims["sub"], settings)
    return Notice(
        event_id=f"verification:{claims.get('jti') or challenge}",
        reply={"verification": challenge},
    )


def _attributes(request: WebhookRequest) -> tuple[dict[str, Any], Any]:
    """The CloudEvents attributes and the ``data`` of a notification, binary or structured."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        body = orjson.loads(request.body) if request.body.strip() else None
    except orjson.JSONDecodeError:
        raise WebhookRefused("the body is not JSON", 400) from None
    if content_type == _CLOUDEVENTS_JSON:
        if not isinstance(body, dict):
            raise WebhookRefused("the structured CloudEvent is not a JSON object", 400)
        return {name: body.get(name) for name in ("id", "type", "subject", "time")}, body.get(
            "data"
        )
    attributes = {name: request.headers.get(f"ce-{name}") for name in ("id", "type", "subject")}
    attributes["time"] = request.headers.get("ce-time")
    return attributes, select(body, "data") if isinstance(body, dict) else None


def _sent_at(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise WebhookRefused(f"the event time {value!r} is not RFC 3339", 400) from None


def _changes(event_type: str, data: Any) -> tuple[Change, ...]:
    """What a notification of ``event_type`` with ``data`` says changed."""
    if event_type == WELCOME or not event_type.startswith(PREFIX):
        return ()
    resource, _, action = event_type[len(PREFIX) :].rpartition(".")
    entity = _ENTITY_OF.get(resource)
    if entity is None or action in _NO_CHANGE:
        return ()
    ids = select(data, "ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not all(
        isinstance(native_id, int | str) and not isinstance(native_id, bool) for native_id in ids
    ):
        raise WebhookRefused('the body is not {"data": {"ids": [...]}}', 400)
    deleted = action == "delete"
    unique = dict.fromkeys(str(native_id) for native_id in ids)
    return tuple(Change(entity, native_id, deleted=deleted) for native_id in unique)


def read(settings: FicSettings, request: WebhookRequest) -> Notice:
    """The ``webhook`` hook: a verification answered, a notification read (see the module
    docstring for what is checked, in that order)."""
    if request.method.upper() == "GET":
        return _verification(settings, request)
    claims = _authenticate(settings, request)  # first: nothing unsigned is even parsed
    attributes, data = _attributes(request)
    for name in ("id", "type", "subject"):
        if not attributes.get(name):
            raise WebhookRefused(f"not a CloudEvents notification: no {name}", 400)
    if claims.get("jti") != attributes["id"]:
        raise WebhookRefused("the event id does not match the token's jti: it was altered")
    if claims.get("sub") != attributes["subject"]:
        raise WebhookRefused("the event subject does not match the token's sub: it was altered")
    _company(attributes["subject"], settings)
    return Notice(
        event_id=str(attributes["id"]),
        changes=_changes(str(attributes["type"]), data),
        sent_at=_sent_at(attributes.get("time")),
    )


# -- subscribing --------------------------------------------------------------------------------
def subscribe(client: Client, url: str, entities: list[str]) -> list[str]:
    """The ``subscribe`` hook: one subscription of this app for ``url``, covering the event
    types of ``entities``.

    Idempotent: a subscription already there for ``url`` is kept, its types widened with
    ``PUT`` when some are missing (a change that keeps the sink needs no new verification),
    and a new verification asked (``POST .../verify``) when it never passed. Fatture in
    Cloud allows one subscription per app and event type in a company: types another of the
    app's subscriptions holds come back as warnings, which are logged.
    """
    wanted = event_types(entities)
    if not wanted:
        return []
    context = fic(client)
    base = context.path("/subscriptions")
    listed = context.errors.get(client, base)
    existing = next(
        (
            item
            for item in (select(listed, "data") or [])
            if isinstance(item, dict) and item.get("sink") == url and item.get("id")
        ),
        None,
    )
    if existing is None:
        return [_create(client, base, url, wanted)]
    subscription_id = str(existing["id"])
    held = [kind for kind in existing.get("types") or [] if isinstance(kind, str)]
    missing = [kind for kind in wanted if kind not in held]
    if missing:
        body = _send(
            client, "PUT", f"{base}/{subscription_id}", {"data": {"types": held + missing}}
        )
        _warn(subscription_id, body)
    if not existing.get("verified"):
        # its verification failed or never came: Fatture in Cloud sends a new one
        _send(
            client,
            "POST",
            f"{base}/{subscription_id}/verify",
            {"data": {"verification_method": "header"}},
        )
    return [subscription_id]


def _send(client: Client, method: str, path: str, body: dict[str, Any]) -> Any:
    """One subscription request's decoded answer; a refusal says which request it was."""
    try:
        return fic(client).errors.send(client, method, path, json=body)[1]
    except AuthError:
        raise
    except ConnectorError as error:
        raise ConnectorError(f"Fatture in Cloud answered {method} {path} with {error}") from None


def _create(client: Client, base: str, url: str, types: list[str]) -> str:
    """A new subscription (Fatture in Cloud sends its verification GET before answering)."""
    sent = {
        "data": {
            "sink": url,
            "types": types,
            "verification_method": "header",
            "config": {"mapping": "binary"},
        }
    }
    body = _send(client, "POST", base, sent)
    subscription = select(body, "data")
    if not isinstance(subscription, dict) or not subscription.get("id"):
        raise ConnectorError("Fatture in Cloud answered the new subscription without its id")
    subscription_id = str(subscription["id"])
    _warn(subscription_id, body)
    if not subscription.get("verified"):
        log.warning(
            "fattureincloud: subscription %s is not verified yet: its sink did not answer the "
            "verification; subscribing again asks for a new one",
            subscription_id,
        )
    return subscription_id


def _warn(subscription_id: str, body: Any) -> None:
    """Log the types Fatture in Cloud did not take (held by another of the app's
    subscriptions in this company, or unknown)."""
    for warning in select(body, "warnings") or []:
        log.warning("fattureincloud: subscription %s: %s", subscription_id, warning)
