"""Intuit's webhook notifications, read for the ``webhook`` hook.

QuickBooks Online posts ``{"eventNotifications": [{"realmId": ..., "dataChangeEvent":
{"entities": [{"name", "id", "operation", "lastUpdated"}]}}]}`` to the one endpoint an app
configures in Intuit's developer dashboard, signed with the header ``intuit-signature``: the
base64 HMAC-SHA256 of the raw body under the app's *Verifier Token*. There is no subscription
API (so :func:`subscribe` in the connector returns None), and no notification id.

What follows from that:

* The signature is checked first, over the body byte for byte, before anything in it is
  believed; the token is compared in constant time and never quoted in a refusal.
* The token is the app's, not the company's: one app's notifications name every company
  connected to it. The ``realmId`` is what tells this connection's apart, so a notification
  that names only other companies is refused, and other companies' entries beside this one's
  are skipped.
* A notification says which records changed, never what they hold: the receiver starts runs,
  which read the records as any run does. So a customer names both canonical parties (whether
  it is a company or a contact is only known once it is read), and an entity name the
  connector does not sync (``Vendor``, ``Bill``) is ignored.
* Without a notification id, the body is the id (:func:`~syncbridge.webhooks.body_digest`):
  Intuit's retry of a notification is the same body, and is recognised as seen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from syncbridge.webhooks import (
    Change,
    Notice,
    WebhookRefused,
    WebhookRequest,
    body_digest,
    hmac_sha256_base64,
    same_secret,
)
from syncbridge_quickbooks.entities import ENTITIES, TAX_RATE
from syncbridge_quickbooks.settings import QuickBooksSettings

#: the header Intuit signs a notification in
SIGNATURE_HEADER = "intuit-signature"


def _notified() -> dict[str, tuple[str, ...]]:
    """Name in a notification -> the canonical entities it holds, from :data:`ENTITIES`.

    Derived rather than listed so that an entity the connector starts to sync is notified
    too. Beside the objects themselves: a changed ``TaxRate`` changes the rate of the tax
    codes (``vat_rate``) that carry it, and Intuit's webhooks call ``CompanyCurrency``
    ``Currency``.
    """
    found: dict[str, list[str]] = {}
    for entity, qbo in ENTITIES.items():
        found.setdefault(qbo.name, []).append(entity)
    found.setdefault(TAX_RATE.name, []).append("vat_rate")
    found.setdefault("Currency", []).append("currency")
    return {name: tuple(entities) for name, entities in found.items()}


#: QuickBooks object name -> canonical entities (``Customer`` -> company and contact)
NOTIFIED: dict[str, tuple[str, ...]] = _notified()


def read_notification(settings: QuickBooksSettings, request: WebhookRequest) -> Notice:
    """Verify ``request`` as Intuit signs it, and name what changed in this company.

    :raises WebhookRefused: no verifier token set, no or a wrong signature, a body that is not
        Intuit's format (400), or a notification only about other companies.
    """
    token = settings.webhook_verifier_token
    if token is None:
        raise WebhookRefused(
            "this connection has no webhook_verifier_token: set it to the Verifier Token of "
            "your app's webhooks (Intuit developer dashboard) to receive notifications"
        )
    realm = settings.realm_id
    if not realm:  # the settings refuse a token without realm_id; kept for a direct caller
        raise WebhookRefused("this connection has no realm_id: set it to receive notifications")
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        raise WebhookRefused(f"no {SIGNATURE_HEADER} header: not a notification from Intuit")
    expected = hmac_sha256_base64(token.get_secret_value(), request.body)
    if not same_secret(signature.strip(), expected):
        raise WebhookRefused(
            f"{SIGNATURE_HEADER} does not match the body under this connection's "
            "webhook_verifier_token: not signed by Intuit for this app, or altered on the way"
        )
    notifications = _notifications(request.body)
    ours = [item for item in notifications if item[0] == realm]
    if notifications and not ours:
        others = ", ".join(sorted({item[0] for item in notifications}))
        raise WebhookRefused(f"notification for realm {others}, this connection is realm {realm}")
    changes: dict[tuple[str, str], Change] = {}
    latest: datetime | None = None
    for _realm, entities in ours:
        for entry in entities:
            for change in _changes(entry):
                # a later entry about the same record wins: created then deleted is deleted
                changes.pop((change.entity, change.record_id), None)
                changes[(change.entity, change.record_id)] = change
            when = _instant(entry.get("lastUpdated"))
            if when is not None and (latest is None or when > latest):
                latest = when
    return Notice(
        event_id=body_digest(request.body), changes=tuple(changes.values()), sent_at=latest
    )


def _changes(entry: Mapping[str, Any]) -> list[Change]:
    """The canonical changes one entity entry names (none for an object not synced).

    ``Delete`` is a deleted transaction or a name-list object made inactive, which the
    connector's reads report as deleted too. ``Merge`` names the record merged into; the one
    merged away (``deletedId``) is gone.
    """
    entities = NOTIFIED.get(str(entry["name"]), ())
    id = str(entry["id"])
    operation = str(entry.get("operation") or "")
    found = [Change(entity, id, deleted=operation == "Delete") for entity in entities]
    merged_away = entry.get("deletedId")
    if operation == "Merge" and merged_away not in (None, ""):
        found += [Change(entity, str(merged_away), deleted=True) for entity in entities]
    return found


def _notifications(body: bytes) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """(realmId, entity entries) of each event notification; a malformed body is refused
    with 400 (it passed the signature, so it is Intuit's, but not a format this reads)."""

    def malformed(why: str) -> WebhookRefused:
        return WebhookRefused(f"the body is not an Intuit notification: {why}", status=400)

    try:
        payload = json.loads(body)
    except ValueError:
        raise malformed("not JSON") from None
    items = payload.get("eventNotifications") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise malformed("no eventNotifications list")
    found: list[tuple[str, list[Mapping[str, Any]]]] = []
    for item in items:
        event = item.get("dataChangeEvent") if isinstance(item, dict) else None
        if not isinstance(item, dict) or item.get("realmId") in (None, ""):
            raise malformed("an event notification without realmId")
        entities = event.get("entities") if isinstance(event, dict) else None
        if not isinstance(entities, list):
            raise malformed("an event notification without dataChangeEvent.entities")
        for entry in entities:
            if not isinstance(entry, dict) or any(
                entry.get(key) in (None, "") for key in ("name", "id")
            ):
                raise malformed("an entity without name or id")
        found.append((str(item["realmId"]), entities))
    return found


def _instant(value: Any) -> datetime | None:
    """``lastUpdated`` as an aware instant (``...Z`` or ``...-0700``; naive is UTC), or None
    when it is missing or unreadable: it only dates the notice, it proves nothing."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
