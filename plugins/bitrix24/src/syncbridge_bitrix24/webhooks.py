"""Bitrix24 events: reading the notifications a portal posts, and binding them (``event.bind``).

A portal tells an app about a change by POSTing a form to each handler bound to the event
(``api-reference/events/index.md``)::

    event=ONCRMCOMPANYUPDATE&event_handler_id=735&data[FIELDS][ID]=2917&ts=1743165490
    &auth[domain]=example.bitrix24.de&auth[member_id]=...&auth[application_token]=...

It carries the record's id only, never its fields: the notification is a nudge, and the run it
starts reads the record as any run does. There is no signature. What proves the sender is the
portal is ``auth[application_token]``, a secret the portal hands the app on installation (or
shows on an outgoing webhook's form), compared here with ``settings.application_token``
(``api-reference/events/safe-event-handlers.md``). ``auth[domain]`` then says which portal the
event is about, and must be the connection's own.

Bitrix24 gives a notification no id and does not resend a failed one (the queue server logs
the failure, "no second chances": ``events/index.md``), so the id of a :class:`Notice` is a
digest of what identifies the event: its name, handler, data, ``ts`` (the second the queue sent
it) and portal. The OAuth tokens the ``auth`` block may also carry are left out: they are
secrets, and they are the only part that could differ between two copies of the same event.
Two updates of one record in the same second therefore read as one notice; the run it starts
reads the record after both.

Binding needs an application's authorisation: through an inbound webhook ``event.bind`` answers
``WRONG_AUTH_TYPE`` (``event-bind.md``), and events are set up in the portal's UI as an
*outgoing webhook* instead. :func:`subscribe_events` returns None for such a connection, as the
hook's contract asks of a system with no subscription API.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from syncbridge.errors import ConnectorError
from syncbridge.http import Client
from syncbridge.settings import ConnectorSettings
from syncbridge.webhooks import (
    Change,
    Notice,
    WebhookRefused,
    WebhookRequest,
    body_digest,
    same_secret,
)
from syncbridge_bitrix24 import api, phpquery
from syncbridge_bitrix24.entities import INVOICE_TYPE
from syncbridge_bitrix24.settings import settings_of

__all__ = ["EVENTS", "read_event", "subscribe_events"]

#: the events bound for each entity that has any (``api-reference/events/events.md``);
#: smart invoices share the events of every smart process, told apart by
#: ``data[FIELDS][ENTITY_TYPE_ID]`` (``crm/universal/events/index.md``). VAT rates have none:
#: polling covers them.
EVENTS: dict[str, tuple[str, str, str]] = {
    "contact": ("ONCRMCONTACTADD", "ONCRMCONTACTUPDATE", "ONCRMCONTACTDELETE"),
    "company": ("ONCRMCOMPANYADD", "ONCRMCOMPANYUPDATE", "ONCRMCOMPANYDELETE"),
    "product": ("ONCRMPRODUCTADD", "ONCRMPRODUCTUPDATE", "ONCRMPRODUCTDELETE"),
    "invoice": ("ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE", "ONCRMDYNAMICITEMDELETE"),
    "currency": ("ONCRMCURRENCYADD", "ONCRMCURRENCYUPDATE", "ONCRMCURRENCYDELETE"),
    "unit": ("ONCRMMEASUREADD", "ONCRMMEASUREUPDATE", "ONCRMMEASUREDELETE"),
}
#: event name -> (entity, whether it reports a deletion)
_ENTITY_OF: dict[str, tuple[str, bool]] = {
    event: (entity, event.endswith("DELETE"))
    for entity, events in EVENTS.items()
    for event in events
}
#: ``auth`` keys left out of the event's id: OAuth tokens of whichever user caused the event
#: (secrets, and fresh for every delivery) and the application token (a secret)
_NOT_IDENTIFYING = frozenset(
    f"auth[{key}]"
    for key in ("access_token", "refresh_token", "expires_in", "expires", "application_token")
)
_FORM = "application/x-www-form-urlencoded"
NOT_AN_EVENT = "not a Bitrix24 event"


# -- reading ------------------------------------------------------------------------------
def read_event(settings: ConnectorSettings, request: WebhookRequest) -> Notice:
    """Verify one notification of the portal and say which record it names.

    Checked in this order, each refusal saying what is wrong and never a token: the body is
    the portal's form; it carries this connection's application token; it is about this
    connection's portal; it names an event (and, for an entity's event, the record's id) and a
    valid ``ts``. An event of something the connector does not map (a deal, another smart
    process, ``ONAPPTEST``) is genuine but changes nothing: a notice without changes.
    """
    config = settings_of(settings)
    if config.application_token is None:
        raise WebhookRefused(
            "settings.application_token is not set: copy the application token of the app or "
            "outgoing webhook into it (as ${BITRIX24_APPLICATION_TOKEN}) to accept its events"
        )
    form = _form(request)
    auth = form.get("auth")
    auth = auth if isinstance(auth, Mapping) else {}
    given = auth.get("application_token")
    if not isinstance(given, str) or not given:
        raise WebhookRefused(f"{NOT_AN_EVENT}: auth[application_token] is missing")
    if not same_secret(given, config.application_token.get_secret_value()):
        raise WebhookRefused(
            "auth[application_token] is not this connection's application token "
            "(settings.application_token)"
        )
    domain = str(auth.get("domain") or "").strip().lower()
    if domain != config.domain:
        said = f"portal {domain[:100]!r}" if domain else "no portal (auth[domain] is missing)"
        raise WebhookRefused(
            f"the event is about {said}, not this connection's {config.domain!r}", status=403
        )
    event = form.get("event")
    if not isinstance(event, str) or not event.strip():
        raise WebhookRefused(f"{NOT_AN_EVENT}: the event name is missing", status=400)
    return Notice(
        event_id=_event_id(request.body),
        changes=_changes(event.strip().upper(), form.get("data")),
        sent_at=_sent_at(form.get("ts")),
    )


def _form(request: WebhookRequest) -> dict[str, Any]:
    """The POSTed form as PHP reads it (``auth[domain]`` -> ``{"auth": {"domain": ..}}``)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method.upper() != "POST" or kind != _FORM:
        raise WebhookRefused(
            f"{NOT_AN_EVENT}: expected a POST of {_FORM}, got a {request.method.upper()} of "
            f"{kind[:60] or 'no content type'}",  # the sender's text: kept short
            status=400,
        )
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRefused(f"{NOT_AN_EVENT}: the form is not UTF-8", status=400) from None
    return phpquery.decode(text)


def _changes(event: str, data: Any) -> tuple[Change, ...]:
    known = _ENTITY_OF.get(event)
    if known is None:
        return ()
    entity, deleted = known
    fields = data.get("FIELDS") if isinstance(data, Mapping) else None
    fields = fields if isinstance(fields, Mapping) else {}
    raw_id = fields.get("ID")
    record_id = raw_id.strip() if isinstance(raw_id, str) else ""
    if not record_id:
        raise WebhookRefused(f"{NOT_AN_EVENT}: {event} without data[FIELDS][ID]", status=400)
    if entity == "invoice" and str(fields.get("ENTITY_TYPE_ID") or "") != str(INVOICE_TYPE):
        return ()  # an item of another smart process
    return (Change(entity, record_id, deleted=deleted),)


def _sent_at(ts: Any) -> datetime | None:
    """``ts``: the Unix second the portal's queue sent the event (as text)."""
    if ts is None or ts == "":
        return None
    try:
        return datetime.fromtimestamp(int(str(ts)), UTC)
    except (ValueError, OverflowError, OSError):
        raise WebhookRefused(f"{NOT_AN_EVENT}: ts is not a Unix time", status=400) from None


def _event_id(body: bytes) -> str:
    """The digest of the form without its tokens, field order and spelling aside (``%5B``
    or ``[``): the same event, resent or replayed, is the same id."""
    pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    kept = sorted((key, value) for key, value in pairs if key not in _NOT_IDENTIFYING)
    return body_digest(urlencode(kept).encode())


# -- binding ------------------------------------------------------------------------------
def subscribe_events(client: Client, url: str, entities: list[str]) -> list[str] | None:
    """Bind ``url`` to the events of ``entities``; the bound event names (the ids).

    Idempotent: the handlers already bound (``event.get``) are kept, and a bind the portal
    answers with "Handler already binded" (another process got there first, or a resent POST
    whose first answer was lost) counts as bound. None with an inbound webhook: binding needs
    an app, see the module's docstring.
    """
    settings = settings_of(client)
    if settings.uses_webhook:
        return None
    wanted = list(dict.fromkeys(event for entity in entities for event in EVENTS.get(entity, ())))
    if not wanted:
        return []
    bound = _bound_events(client, url)
    for event in wanted:
        if event in bound:
            continue
        try:
            # POST: the handler URL (which may hold a secret path) stays out of request logs
            api.call(client, "event.bind", {"event": event, "handler": url}, post=True)
        except ConnectorError as error:
            if "Handler already binded" not in str(error):
                raise
        bound.add(event)
    return wanted


def _bound_events(client: Client, url: str) -> set[str]:
    """The online events bound to ``url`` by this app, on behalf of any user."""
    reply = api.call(client, "event.get")
    rows = reply.result if isinstance(reply.result, list) else []
    return {
        str(row.get("event") or "").upper()
        for row in rows
        if isinstance(row, Mapping)
        and row.get("handler") == url
        and str(row.get("offline") or "0") in ("0", "")
    }
