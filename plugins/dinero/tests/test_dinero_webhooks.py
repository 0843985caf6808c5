"""Dinero's webhooks end to end over real HTTP: the connector subscribes a loopback receiver
(:class:`~syncbridge.testing.webhooks.Catcher`) through the emulator's webhook endpoints, the
emulator posts a notification for each write, and the connector's ``webhook`` hook reads it.

Dinero documents the four endpoints but no bodies, events, notification or signature (see
:mod:`syncbridge_dinero.webhooks`): these tests pin the assumed shapes, that a notification
is only believed with the subscription's token, and that the token is never told. The
emulator's answers are checked against the spec as in every test (the ``serve`` fixture).
``toggl-dinero`` makes no webhook calls, so there is nothing of it to run here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from dinero_spec import SpecValidator
from dinero_testkit import ORG, Serve, Served

from syncbridge import ConnectorError
from syncbridge.connection import Connection
from syncbridge.emulator import WebhookSender
from syncbridge.errors import ConfigError
from syncbridge.testing.exchanges import Exchange
from syncbridge.testing.webhooks import Catcher
from syncbridge.webhooks import Change, Notice, body_digest
from syncbridge_dinero.emulator import seeded_guid
from syncbridge_dinero.webhooks import unsubscribe_path, with_token

TOKEN = "dinero-hook-token-5f0c2a9e71"
OTHER_TOKEN = "another-hook-token-b83d4e11"
CONTACT_EVENTS = ["contact.created", "contact.updated", "contact.deleted"]
CONTACT = {"Name": "Fjordgården ApS", "CountryKey": "DK", "IsPerson": False,
           "IsMember": False, "UseCvr": False}


@pytest.fixture
def sender() -> Iterator[WebhookSender]:
    """The emulator's sender, retrying nothing: a refused delivery is seen at once."""
    sender = WebhookSender(retries=0, backoff=0.01)
    yield sender
    sender.close()


@pytest.fixture
def dinero(serve: Serve, sender: WebhookSender) -> Served:
    return serve(records=3, webhooks=sender)


@pytest.fixture
def connection(dinero: Served) -> Connection:
    return dinero.connect(webhook_token=TOKEN)


@pytest.fixture
def catcher(connection: Connection) -> Iterator[Catcher]:
    with Catcher(connection) as catcher:
        yield catcher


def subscribe_posts(dinero: Served) -> list[dict[str, Any]]:
    return [json.loads(e.body) for e in dinero.recorder.exchanges
            if e.method == "POST" and e.path == f"/v1/{ORG}/webhooks/subscribe"]


def post(catcher: Catcher, body: bytes, token: str | None = TOKEN) -> httpx.Response:
    """A notification posted to the receiver as Dinero would, with ``token`` in the query."""
    url = catcher.url if token is None else with_token(catcher.url, token)
    return httpx.post(url, content=body, headers={"Content-Type": "application/json"})


def notification(**overrides: Any) -> bytes:
    body = {"OrganizationId": ORG, "EventId": "contact.updated",
            "EntityGuid": seeded_guid("contact", 1), **overrides}
    return json.dumps(body).encode()


# -- subscribing -----------------------------------------------------------------------------
def test_subscribing_names_each_event_of_the_entities_with_the_token(
    dinero: Served, connection: Connection, catcher: Catcher
) -> None:
    ids = connection.subscribe(catcher.url, ["company", "contact", "invoice", "payment"])
    invoice_events = ["invoice.created", "invoice.updated", "invoice.deleted", "invoice.booked"]
    assert ids == CONTACT_EVENTS + invoice_events  # payments: no event, polling reads them
    uri = f"{catcher.url}?token={TOKEN}"
    assert dinero.emulator.subscriptions == dict.fromkeys(ids, uri)
    assert subscribe_posts(dinero) == [{"Uri": uri, "EventId": event} for event in ids]
    assert dinero.log and TOKEN not in repr(dinero.log)  # the request log keeps no bodies


def test_subscribing_twice_subscribes_once(
    dinero: Served, connection: Connection, catcher: Catcher
) -> None:
    first = connection.subscribe(catcher.url, ["contact"])
    again = connection.subscribe(catcher.url, ["company", "contact"])
    assert first == again == CONTACT_EVENTS
    assert len(subscribe_posts(dinero)) == 3
    # and another URL takes the events over: Dinero keeps one subscription per event
    assert connection.subscribe(catcher.url + "/moved", ["contact"]) == CONTACT_EVENTS
    assert len(subscribe_posts(dinero)) == 6
    assert set(dinero.emulator.subscriptions.values()) == {f"{catcher.url}/moved?token={TOKEN}"}


def test_a_url_with_a_query_keeps_it_and_gets_the_token(
    dinero: Served, connection: Connection, catcher: Catcher
) -> None:
    connection.subscribe(catcher.url + "?conn=dinero&token=stale", ["product"])
    assert set(dinero.emulator.subscriptions.values()) == {
        f"{catcher.url}?conn=dinero&token={TOKEN}"
    }


def test_subscribing_without_a_token_is_refused_before_any_request(dinero: Served) -> None:
    connection = dinero.connect()
    with pytest.raises(ConnectorError) as refused:
        connection.subscribe("http://127.0.0.1:9/hooks", ["contact"])
    assert str(refused.value) == (
        "dinero: set webhook_token in the connection's settings before subscribing: Dinero "
        "signs no notification, the token in the subscribed URL is what tells one genuine"
    )
    assert not [e for e in dinero.recorder.exchanges if "/webhooks/" in e.path]


def test_a_subscription_dinero_refuses_says_why_without_the_token(
    dinero: Served, connection: Connection
) -> None:
    with pytest.raises(ConnectorError) as refused:
        connection.subscribe("ftp://example.com/hooks", ["contact"])
    message = str(refused.value)
    assert "code 42: Validation Error (Uri: must be an absolute http or https URI)" in message
    assert TOKEN not in message
    assert dinero.emulator.subscriptions == {}


# -- notifications from the emulator -----------------------------------------------------------
def test_a_contact_created_updated_and_deleted_reaches_the_receiver_as_its_changes(
    dinero: Served, connection: Connection, catcher: Catcher, sender: WebhookSender
) -> None:
    connection.subscribe(catcher.url, ["company"])
    with dinero.client() as http:
        guid = http.post(f"/v1/{ORG}/contacts", json=CONTACT).json()["ContactGuid"]
        created = catcher.wait_notice(1)
        assert http.put(f"/v1/{ORG}/contacts/{guid}",
                        json={**CONTACT, "City": "Aarhus"}).status_code == 200
        updated = catcher.wait_notice(2)
        assert http.delete(f"/v1/{ORG}/contacts/{guid}").status_code == 200
        deleted = catcher.wait_notice(3)
    bodies = [json.loads(request.body) for request in catcher.requests]
    assert [(b["OrganizationId"], b["EventId"], b["EntityGuid"]) for b in bodies] == [
        (ORG, event, guid) for event in CONTACT_EVENTS
    ]
    # a Dinero contact is a company or a person: its notification nudges both entities
    both = (Change("company", guid), Change("contact", guid))
    gone = (Change("company", guid, deleted=True), Change("contact", guid, deleted=True))
    assert [created, updated, deleted] == [
        Notice(event_id=body_digest(request.body), changes=changes)
        for request, changes in zip(catcher.requests, (both, both, gone), strict=True)
    ]
    assert len({created.event_id, updated.event_id, deleted.event_id}) == 3
    assert all(request.query == {"token": TOKEN} for request in catcher.requests)
    sender.drain()
    assert [d.status for d in sender.deliveries] == [200, 200, 200]


def test_only_subscribed_events_are_sent_and_a_booking_is_its_own(
    dinero: Served, connection: Connection, catcher: Catcher, sender: WebhookSender
) -> None:
    connection.subscribe(catcher.url, ["invoice"])
    line = {"Description": "Rådgivning", "Quantity": 2, "BaseAmountValue": 700,
            "AccountNumber": 1000, "Unit": "hours", "Discount": 0}
    with dinero.client() as http:
        http.post(f"/v1/{ORG}/contacts", json=CONTACT)  # no subscription: not sent
        made = http.post(f"/v1/{ORG}/invoices", json={
            "ContactGuid": seeded_guid("contact", 1), "ProductLines": [line]}).json()
        catcher.wait_notice(1)
        booked = http.post(f"/v1/{ORG}/invoices/{made['Guid']}/book",
                           json={"Timestamp": made["TimeStamp"]})
        assert booked.status_code == 200, booked.text
        notice = catcher.wait_notice(2)
    sender.drain()
    assert [json.loads(r.body)["EventId"] for r in catcher.requests] == [
        "invoice.created", "invoice.booked"
    ]
    assert notice.changes == (Change("invoice", made["Guid"]),)
    assert len(sender.deliveries) == 2


def test_after_unsubscribing_an_event_is_no_longer_sent(
    dinero: Served, connection: Connection, catcher: Catcher, sender: WebhookSender
) -> None:
    connection.subscribe(catcher.url, ["product"])
    with dinero.client() as http:
        gone = http.request("DELETE", unsubscribe_path(ORG),
                            json={"EventId": "product.created"})
        assert gone.status_code == 200 and gone.content == b""
        listed = http.get(f"/v1/{ORG}/webhooks/subscriptions").json()
        http.post(f"/v1/{ORG}/products", json={"Name": "Kursus", "BaseAmountValue": 500,
                                               "Quantity": 1, "AccountNumber": 1000,
                                               "Unit": "session"})
    sender.drain()
    assert [row["EventId"] for row in listed] == ["product.updated", "product.deleted"]
    assert catcher.requests == [] and sender.deliveries == []


# -- refusals ---------------------------------------------------------------------------------
def test_a_notification_with_another_token_is_refused_without_telling_either(
    dinero: Served, catcher: Catcher, sender: WebhookSender
) -> None:
    # subscribed by a connection with another token: the receiver's connection refuses it
    dinero.connect(webhook_token=OTHER_TOKEN).subscribe(catcher.url, ["contact"])
    with dinero.client() as http:
        http.post(f"/v1/{ORG}/contacts", json=CONTACT)
    sender.drain()
    assert catcher.refused == [
        "dinero: the notification's token is not this connection's webhook_token"
    ]
    assert catcher.notices == []
    assert [d.status for d in sender.deliveries] == [401]


@pytest.mark.parametrize(
    ("body", "token", "status", "message"),
    [
        (notification(), None, 401, "dinero: the notification carries no token (?token=...): "
         "it was not sent to a URL this connection subscribed"),
        (notification(), TOKEN.upper(), 401,
         "dinero: the notification's token is not this connection's webhook_token"),
        (notification(OrganizationId=99999), TOKEN, 403,
         f"dinero: the notification is about organisation 99999, this connection is "
         f"organization_id {ORG}"),
        (b"EventId=contact.updated", TOKEN, 400,
         "dinero: not a Dinero notification: the body is not JSON"),
        (b"[]", TOKEN, 400, "dinero: not a Dinero notification: the body is not a JSON object"),
        (notification(OrganizationId=None), TOKEN, 400,
         "dinero: not a Dinero notification: OrganizationId is missing or not a number"),
        (notification(EventId="contactupdated"), TOKEN, 400,
         "dinero: not a Dinero notification: EventId is missing or not <entity>.<action>"),
        (notification(EntityGuid="7"), TOKEN, 400,
         "dinero: not a Dinero notification: EntityGuid is missing or not a GUID"),
    ],
    ids=["no-token", "wrong-token", "other-organisation", "not-json", "not-an-object",
         "no-organisation", "bad-event", "bad-guid"],
)
def test_what_is_not_this_connections_notification_is_refused(
    catcher: Catcher, body: bytes, token: str | None, status: int, message: str
) -> None:
    answer = post(catcher, body, token)
    assert (answer.status_code, answer.json()) == (status, {"error": message})
    assert catcher.refused == [message] and catcher.notices == []
    assert TOKEN not in message and TOKEN.upper() not in message


def test_a_connection_without_a_token_believes_no_notification(dinero: Served) -> None:
    with Catcher(dinero.connect()) as catcher:
        answer = post(catcher, notification())
    assert answer.status_code == 401
    assert answer.json() == {"error": "dinero: this connection has no webhook_token, so no "
                             "notification can be told genuine: set webhook_token in its "
                             "settings and subscribe again"}


def test_the_token_is_never_in_a_message_or_the_settings_shown(
    dinero: Served, connection: Connection
) -> None:
    assert TOKEN not in repr(connection.settings) and TOKEN not in str(connection.settings)
    with pytest.raises(ConfigError) as short:
        dinero.connect(webhook_token="tiny-secret")
    assert str(short.value) == (
        "connections.dinero.settings.webhook_token: Value should have at least 16 items after "
        "validation, not 11"
    )


# -- reading what a notification says ------------------------------------------------------------
def test_a_notification_id_is_taken_when_there_is_one_and_names_are_any_case(
    catcher: Catcher,
) -> None:
    guid = seeded_guid("product", 2)
    body = json.dumps({"organizationId": str(ORG), "eventId": "Product.Deleted",
                       "entityGuid": guid, "Id": "evt-123"}).encode()
    assert post(catcher, body).status_code == 200
    assert catcher.notices == [
        Notice(event_id="evt-123", changes=(Change("product", guid, deleted=True),))
    ]


def test_an_event_of_what_the_connector_does_not_sync_changes_nothing(catcher: Catcher) -> None:
    body = notification(EventId="creditnote.created")
    assert post(catcher, body).status_code == 200
    assert catcher.notices == [Notice(event_id=body_digest(body), changes=())]


# -- the emulator's webhook endpoints ------------------------------------------------------------
def test_the_emulator_lists_its_events(dinero: Served) -> None:
    with dinero.client() as http:
        events = http.get(f"/v1/{ORG}/webhooks/events").json()
    assert events[:2] == [{"EventId": "contact.created", "Description": "A contact was created"},
                          {"EventId": "contact.updated", "Description": "A contact was updated"}]
    assert [e["EventId"] for e in events][-1] == "invoice.booked" and len(events) == 10


@pytest.mark.parametrize(
    ("method", "path", "body", "errors"),
    [
        ("POST", "subscribe", {"Uri": "http://example.com/h", "EventId": "contact.exploded"},
         {"EventId": f"Unknown event 'contact.exploded'; GET /v1/{ORG}/webhooks/events "
          "lists them"}),
        ("POST", "subscribe", {"Uri": "example.com/h?token=x", "EventId": "contact.created"},
         {"Uri": "must be an absolute http or https URI"}),
        ("POST", "subscribe", {"EventId": "contact.created"},
         {"Uri": "The Uri field is required."}),
        ("DELETE", "unsubscribe", {"EventId": None}, {"EventId": "The EventId field is required."}),
        ("DELETE", "unsubscribe", {"EventId": "invoice.paid"},
         {"EventId": f"Unknown event 'invoice.paid'; GET /v1/{ORG}/webhooks/events lists them"}),
    ],
)
def test_the_emulator_refuses_a_bad_subscription_with_dinero_s_error(
    dinero: Served, method: str, path: str, body: dict[str, Any], errors: dict[str, str]
) -> None:
    with dinero.client() as http:
        answer = http.request(method, f"/v1/{ORG}/webhooks/{path}", json=body)
    assert answer.status_code == 400
    assert answer.json() == {
        "code": 42, "message": "Validation Error",
        "languageSpecificMessages": [{"property": "", "message": "Validation Error"}],
        "validationErrors": errors,
    }
    assert dinero.emulator.subscriptions == {}


def test_the_webhook_endpoints_need_a_token_and_the_organisation(dinero: Served) -> None:
    anonymous = httpx.get(f"{dinero.base_url}/v1/{ORG}/webhooks/events")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 41
    with dinero.client() as http:
        other = http.post("/v1/99999/webhooks/subscribe",
                          json={"Uri": "http://example.com/h", "EventId": "contact.created"})
    assert other.status_code == 403 and other.json()["message"] == "No access to organization 99999"


def test_an_assumed_listing_off_its_shape_is_caught(spec_validator: SpecValidator) -> None:
    def listing(path: str, body: Any) -> Exchange:
        return Exchange(method="GET", path=f"/v1/{ORG}/webhooks/{path}", query="", headers=[],
                        body=b"", status=200, response_headers=[],
                        response_body=json.dumps(body).encode())

    good = listing("subscriptions", [{"EventId": "contact.created", "Uri": "http://h/x"}])
    assert spec_validator.violations(good) == []
    bad = spec_validator.violations(listing("events", [{"Id": "contact.created"}]))
    assert any("'EventId' is a required property" in p for p in bad)
    undocumented = Exchange(method="DELETE", path=f"/v1/{ORG}/webhooks/unsubscribe", query="",
                            headers=[], body=b"", status=200, response_headers=[],
                            response_body=b'{"ok": true}')
    assert any("a body where the spec documents none" in p
               for p in spec_validator.violations(undocumented))
