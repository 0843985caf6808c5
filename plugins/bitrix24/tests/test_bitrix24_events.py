"""Events over real HTTP: the connector binds a receiver with ``event.bind``, the emulated
portal posts its form-encoded notifications there, and the ``webhook`` hook reads each as
exactly the change it reports, or refuses it with a message that never shows a token."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from syncbridge.connection import Connection
from syncbridge.models import Company
from syncbridge.records import UpsertItem
from syncbridge.testing.webhooks import Catcher
from syncbridge.webhooks import Change, WebhookRefused, WebhookRequest
from syncbridge_bitrix24 import phpquery
from syncbridge_bitrix24.emulator.calls import Reply
from syncbridge_bitrix24.settings import settings_of
from syncbridge_bitrix24.webhooks import EVENTS

if TYPE_CHECKING:
    from conftest import Portal

COMPANY_EVENTS = ["ONCRMCOMPANYADD", "ONCRMCOMPANYUPDATE", "ONCRMCOMPANYDELETE"]
CONTACT_EVENTS = ["ONCRMCONTACTADD", "ONCRMCONTACTUPDATE", "ONCRMCONTACTDELETE"]
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def app(portal: Callable[..., Portal]) -> Iterator[tuple[Portal, Connection, Catcher]]:
    """A portal, an app connection to it, and a receiver reading with that connection."""
    handle = portal(records=3)
    connection = handle.connect(oauth=True)
    with Catcher(connection) as catcher:
        yield handle, connection, catcher


def event_form(handle: Portal, **overrides: Any) -> dict[str, Any]:
    """A notification as the emulated portal would send it, with ``overrides`` applied."""
    host = httpx.URL(handle.url).netloc.decode()
    auth = {
        "access_token": "a" * 32,
        "expires_in": "3600",
        "scope": "crm",
        "domain": host,
        "server_endpoint": f"{handle.url}/rest/",
        "status": "L",
        "client_endpoint": f"{handle.url}/rest/",
        "member_id": "a223c6b3710f85df22e9377d6c4f7553",
        "refresh_token": "r" * 32,
        "application_token": handle.emulator.application_token,
        **overrides.pop("auth", {}),
    }
    return {
        "event": "ONCRMCOMPANYUPDATE",
        "event_handler_id": "7",
        "data": {"FIELDS": {"ID": "12"}},
        "ts": "1765100000",
        "auth": {key: value for key, value in auth.items() if value is not None},
        **overrides,
    }


def request_of(form: dict[str, Any] | bytes, **headers: str) -> WebhookRequest:
    body = form if isinstance(form, bytes) else phpquery.encode(form).encode()
    return WebhookRequest(
        method="POST",
        url="http://127.0.0.1/hooks",
        headers={**FORM, **headers},
        query={},
        body=body,
    )


def refusal(connection: Connection, request: WebhookRequest) -> WebhookRefused:
    with pytest.raises(WebhookRefused) as refused:
        connection.webhook(request)
    return refused.value


# -- subscribing --------------------------------------------------------------------------
def test_subscribe_binds_each_event_of_the_entities_once(
    app: tuple[Portal, Connection, Catcher],
) -> None:
    handle, connection, catcher = app
    ids = connection.subscribe(catcher.url, ["company", "contact", "vat_rate"])
    # VAT rates have no events: skipped, polling covers them
    assert ids == COMPANY_EVENTS + CONTACT_EVENTS
    bound = handle.call("event.get")
    assert bound == [
        {"event": event, "handler": catcher.url, "auth_type": "0", "offline": 0}
        for event in COMPANY_EVENTS + CONTACT_EVENTS
    ]
    calls = [(entry.method, httpx.URL(entry.url).path) for entry in handle.log]
    assert calls == [("GET", "/rest/event.get")] + [("POST", "/rest/event.bind")] * 6

    handle.log.clear()
    assert connection.subscribe(catcher.url, ["contact", "company"]) == (
        CONTACT_EVENTS + COMPANY_EVENTS
    )
    assert handle.call("event.get") == bound  # nothing doubled
    assert [httpx.URL(entry.url).path for entry in handle.log] == ["/rest/event.get"]


def test_subscribe_takes_a_handler_bound_meanwhile_as_bound(
    app: tuple[Portal, Connection, Catcher],
) -> None:
    """A bind answered "Handler already binded" (another process was first) is no error."""
    handle, connection, catcher = app
    original = handle.emulator.events.get
    # event.get still shows nothing, as if the other process bound after it was asked
    handle.emulator.portal.handlers["event.get"] = lambda _params: Reply([])
    handle.call("event.bind", event="ONCRMCOMPANYUPDATE", handler=catcher.url)
    assert connection.subscribe(catcher.url, ["company"]) == COMPANY_EVENTS
    assert [row["event"] for row in original({}).result] == [
        "ONCRMCOMPANYUPDATE",
        "ONCRMCOMPANYADD",
        "ONCRMCOMPANYDELETE",
    ]


def test_subscribe_needs_an_app_not_an_inbound_webhook(portal: Callable[..., Portal]) -> None:
    handle = portal()
    connection = handle.connect()
    assert connection.subscribe("https://hooks.example.com/b24", ["company"]) is None
    assert handle.log == []
    # the portal itself refuses event.* through an inbound webhook
    hook = handle.emulator.settings_for(handle.url)["webhook_url"]
    answer = httpx.post(
        hook + "event.bind", json={"event": "ONCRMCOMPANYADD", "handler": "https://a.example/"}
    )
    assert (answer.status_code, answer.json()) == (
        403,
        {
            "error": "WRONG_AUTH_TYPE",
            "error_description": "Current authorization type is denied for this method",
        },
    )


# -- the emulator's event methods ---------------------------------------------------------
def test_event_methods_answer_as_the_portal(portal: Callable[..., Portal]) -> None:
    handle = portal()
    settings = handle.emulator.oauth_settings_for(handle.url)
    token = settings["access_token"]

    def call(method: str, **params: Any) -> tuple[int, Any]:
        answer = httpx.post(f"{handle.url}/rest/{method}", json={**params, "auth": token})
        body = answer.json()
        return answer.status_code, body.get("result", body)

    handler = "https://hooks.example.com/b24"
    assert call("event.bind", event="onCrmCompanyAdd", handler=handler) == (200, True)
    assert call("event.bind", event="ONCRMCOMPANYADD", handler=handler) == (
        400,
        {
            "error": "ERROR_CORE",
            "error_description": "Unable to set event handler: Handler already binded",
        },
    )
    # another user's binding of the same handler is another handler
    assert call("event.bind", event="ONCRMCOMPANYADD", handler=handler, auth_type=1) == (200, True)
    refused = {
        "ONCRMNOTHINGADD": ("ERROR_EVENT_NOT_FOUND", "Event not found"),
    }
    for event, (code, text) in refused.items():
        assert call("event.bind", event=event, handler=handler) == (
            400,
            {"error": code, "error_description": text},
        )
    for url, code, text in [
        ("ftp://hooks.example.com/", "ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol"),
        ("http://localhost:8000/hook", "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"),
    ]:
        assert call("event.bind", event="ONCRMCONTACTADD", handler=url) == (
            400,
            {"error": code, "error_description": text},
        )
    assert call("event.bind", handler=handler) == (
        400,
        {"error": "ERROR_ARGUMENT", "error_description": "Argument 'EVENT' is null or empty"},
    )
    assert call("event.bind", event="ONCRMCONTACTADD") == (
        400,
        {"error": "ERROR_ARGUMENT", "error_description": "Argument 'HANDLER' is null or empty"},
    )
    assert call("event.get") == (
        200,
        [
            {"event": "ONCRMCOMPANYADD", "handler": handler, "auth_type": "0", "offline": 0},
            {"event": "ONCRMCOMPANYADD", "handler": handler, "auth_type": "1", "offline": 0},
        ],
    )
    # auth_type left out: every user's binding goes
    assert call("event.unbind", event="ONCRMCOMPANYADD", handler=handler) == (200, {"count": 2})
    assert call("event.unbind", event="ONCRMCOMPANYADD", handler=handler) == (200, {"count": 0})
    assert call("event.get") == (200, [])


# -- notifications --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("entity", "method", "fields", "changed"),
    [
        ("company", "crm.company", {"TITLE": "Acme GmbH"}, {"TITLE": "Acme AG"}),
        ("contact", "crm.contact", {"NAME": "Ada", "LAST_NAME": "Lovelace"}, {"POST": "CTO"}),
    ],
)
def test_changes_on_the_portal_reach_the_receiver_as_exactly_that_change(
    app: tuple[Portal, Connection, Catcher],
    entity: str,
    method: str,
    fields: dict[str, str],
    changed: dict[str, str],
) -> None:
    handle, connection, catcher = app
    connection.subscribe(catcher.url, [entity])
    before = datetime.now(UTC).replace(microsecond=0)

    record_id = str(handle.call(f"{method}.add", fields=fields))
    created = catcher.wait_notice(1)
    assert created.changes == (Change(entity, record_id),)
    assert before <= created.sent_at <= datetime.now(UTC)  # type: ignore[operator]
    assert created.event_id.startswith("sha256:")

    handle.call(f"{method}.update", id=record_id, fields=changed)
    assert catcher.wait_notice(2).changes == (Change(entity, record_id),)

    handle.call(f"{method}.delete", id=record_id)
    assert catcher.wait_notice(3).changes == (Change(entity, record_id, deleted=True),)

    # what travelled is the portal's form, one per change, with the app's token
    forms = [phpquery.decode(request.body.decode()) for request in catcher.requests]
    stem = f"ONCRM{entity.upper()}"
    assert [form["event"] for form in forms] == [stem + "ADD", stem + "UPDATE", stem + "DELETE"]
    assert all(form["data"] == {"FIELDS": {"ID": record_id}} for form in forms)
    assert {request.headers["content-type"] for request in catcher.requests} == {
        FORM["content-type"]
    }
    assert forms[0]["auth"]["domain"] == httpx.URL(handle.url).netloc.decode()
    assert len({notice.event_id for notice in catcher.notices}) == 3
    assert catcher.refused == []


def test_writes_through_the_connector_are_notified_once_per_record(
    app: tuple[Portal, Connection, Catcher],
) -> None:
    """Two companies created in one ``batch`` (and so one request): two events, one each."""
    handle, connection, catcher = app
    connection.subscribe(catcher.url, ["company"])
    items = [
        UpsertItem(key=f"k{n}", record=connection.map_out("company", Company(name=f"Firma {n}")))
        for n in (1, 2)
    ]
    results = connection.upsert("company", items)
    assert all(result.ok for result in results)
    catcher.wait_notice(2)
    handle.emulator.events.sender.drain()
    assert [notice.changes for notice in catcher.notices] == [
        (Change("company", str(result.id)),) for result in results
    ]
    assert len(catcher.requests) == 2


def test_an_invoice_is_one_event_per_call_and_other_smart_processes_change_nothing(
    app: tuple[Portal, Connection, Catcher],
) -> None:
    handle, connection, catcher = app
    assert connection.subscribe(catcher.url, ["invoice"]) == list(EVENTS["invoice"])
    # crm.item.add writes the invoice twice (it numbers it): the portal sends one event
    added = handle.call("crm.item.add", entityTypeId=31, fields={"title": "R-1"})
    invoice_id = str(added["item"]["id"])
    assert catcher.wait_notice(1).changes == (Change("invoice", invoice_id),)
    handle.call("crm.item.delete", entityTypeId=31, id=invoice_id)
    assert catcher.wait_notice(2).changes == (Change("invoice", invoice_id, deleted=True),)
    handle.emulator.events.sender.drain()
    assert len(catcher.requests) == 2
    form = phpquery.decode(catcher.requests[0].body.decode())
    assert (form["event"], form["data"]) == (
        "ONCRMDYNAMICITEMADD",
        {"FIELDS": {"ID": invoice_id, "ENTITY_TYPE_ID": "31"}},
    )
    # an item of another smart process is genuine, and changes nothing here
    other = event_form(
        handle,
        event="ONCRMDYNAMICITEMUPDATE",
        data={"FIELDS": {"ID": "5", "ENTITY_TYPE_ID": "1220"}},
    )
    assert connection.webhook(request_of(other)).changes == ()  # type: ignore[union-attr]
    deal = event_form(handle, event="ONCRMDEALUPDATE")
    assert connection.webhook(request_of(deal)).changes == ()  # type: ignore[union-attr]


def test_unbound_handlers_hear_nothing_more(app: tuple[Portal, Connection, Catcher]) -> None:
    handle, connection, catcher = app
    connection.subscribe(catcher.url, ["company"])
    handle.call("crm.company.update", id=1, fields={"TITLE": "Heard"})
    catcher.wait_notice(1)
    for event in COMPANY_EVENTS:
        handle.call("event.unbind", event=event, handler=catcher.url)
    handle.call("crm.company.update", id=1, fields={"TITLE": "Not heard"})
    handle.emulator.events.sender.drain()
    time.sleep(0.1)
    assert len(catcher.requests) == 1


# -- reading and refusing ---------------------------------------------------------------------
def test_the_same_event_is_the_same_id_and_another_is_another(
    portal: Callable[..., Portal],
) -> None:
    handle = portal()
    connection = handle.connect()
    form = event_form(handle)
    notice = connection.webhook(request_of(form))
    assert notice is not None
    assert notice.changes == (Change("company", "12"),)
    assert notice.sent_at == datetime(2025, 12, 7, 9, 33, 20, tzinfo=UTC)
    # resent byte for byte, or with fresh OAuth tokens of the user: the same event
    assert connection.webhook(request_of(form)) == notice
    fresh = event_form(handle, auth={"access_token": "b" * 32, "refresh_token": "c" * 32})
    assert connection.webhook(request_of(fresh)) == notice
    # the same fields spelled with raw brackets and in another order
    pairs = phpquery.encode(form).replace("%5B", "[").replace("%5D", "]").split("&")
    spelled = "&".join(reversed(pairs)).encode()
    assert connection.webhook(request_of(spelled)) == notice
    # a second later, another record, another event: another id
    for other in (
        event_form(handle, ts="1765100001"),
        event_form(handle, data={"FIELDS": {"ID": "13"}}),
        event_form(handle, event="ONCRMCOMPANYDELETE"),
    ):
        read = connection.webhook(request_of(other))
        assert read is not None and read.event_id != notice.event_id
    deleted = connection.webhook(request_of(event_form(handle, event="ONCRMCOMPANYDELETE")))
    assert deleted is not None and deleted.changes == (Change("company", "12", deleted=True),)


def test_a_forged_token_is_refused_over_http_without_showing_a_token(
    app: tuple[Portal, Connection, Catcher],
) -> None:
    handle, _connection, catcher = app
    real = handle.emulator.application_token
    forged = "0123456789abcdef0123456789abcdef"
    body = phpquery.encode(event_form(handle, auth={"application_token": forged}))
    answer = httpx.post(catcher.url, content=body, headers=FORM)
    message = (
        "auth[application_token] is not this connection's application token "
        "(settings.application_token)"
    )
    assert (answer.status_code, answer.json()) == (401, {"error": message})
    assert catcher.refused == [message] and catcher.notices == []
    assert real not in answer.text and forged not in answer.text


@pytest.mark.parametrize(
    ("overrides", "status", "message"),
    [
        (
            {"auth": {"application_token": None}},
            401,
            "not a Bitrix24 event: auth[application_token] is missing",
        ),
        ({"auth": {"domain": "other.bitrix24.de"}}, 403, "PORTAL"),
        ({"auth": {"domain": None}}, 403, "NO PORTAL"),
        ({"event": ""}, 400, "not a Bitrix24 event: the event name is missing"),
        (
            {"data": {"FIELDS": {"NAME": "x"}}},
            400,
            "not a Bitrix24 event: ONCRMCOMPANYUPDATE without data[FIELDS][ID]",
        ),
        ({"ts": "yesterday"}, 400, "not a Bitrix24 event: ts is not a Unix time"),
    ],
)
def test_events_not_of_this_connection_are_refused_with_the_reason(
    portal: Callable[..., Portal], overrides: dict[str, Any], status: int, message: str
) -> None:
    handle = portal()
    connection = handle.connect()
    host = httpx.URL(handle.url).netloc.decode()
    message = {
        "PORTAL": f"the event is about portal 'other.bitrix24.de', not this connection's {host!r}",
        "NO PORTAL": "the event is about no portal (auth[domain] is missing), not this "
        f"connection's {host!r}",
    }.get(message, message)
    refused = refusal(connection, request_of(event_form(handle, **overrides)))
    assert (str(refused), refused.status) == (message, status)
    assert handle.emulator.application_token not in str(refused)


def test_malformed_bodies_are_refused(portal: Callable[..., Portal]) -> None:
    handle = portal()
    connection = handle.connect()
    as_json = WebhookRequest(
        method="POST",
        url="http://127.0.0.1/hooks",
        headers={"content-type": "application/json"},
        query={},
        body=b'{"event": "ONCRMCOMPANYUPDATE"}',
    )
    refused = refusal(connection, as_json)
    assert (str(refused), refused.status) == (
        "not a Bitrix24 event: expected a POST of application/x-www-form-urlencoded, got a "
        "POST of application/json",
        400,
    )
    probe = WebhookRequest(
        method="GET", url="http://127.0.0.1/hooks", headers={}, query={}, body=b""
    )
    assert str(refusal(connection, probe)) == (
        "not a Bitrix24 event: expected a POST of application/x-www-form-urlencoded, got a "
        "GET of no content type"
    )
    assert str(refusal(connection, request_of(b"\xff\xfe"))) == (
        "not a Bitrix24 event: the form is not UTF-8"
    )
    assert str(refusal(connection, request_of(b"hello"))) == (
        "not a Bitrix24 event: auth[application_token] is missing"
    )


def test_a_connection_without_an_application_token_accepts_no_event(
    portal: Callable[..., Portal],
) -> None:
    handle = portal()
    connection = handle.connect(application_token=None)
    refused = refusal(connection, request_of(event_form(handle)))
    assert str(refused) == (
        "settings.application_token is not set: copy the application token of the app or "
        "outgoing webhook into it (as ${BITRIX24_APPLICATION_TOKEN}) to accept its events"
    )


def test_the_application_token_is_a_secret_setting(portal: Callable[..., Portal]) -> None:
    handle = portal()
    connection = handle.connect()
    token = handle.emulator.application_token
    assert len(token) == 32
    assert token not in repr(connection.settings) and token not in str(connection.settings)
    secret = settings_of(connection.settings).application_token
    assert secret is not None and secret.get_secret_value() == token
    assert handle.emulator.oauth_settings_for(handle.url)["application_token"] == token


def test_sent_at_is_within_the_replay_window_of_a_live_delivery(
    app: tuple[Portal, Connection, Catcher],
) -> None:
    handle, connection, catcher = app
    connection.subscribe(catcher.url, ["contact"])
    handle.call("crm.contact.update", id=1, fields={"POST": "CFO"})
    sent_at = catcher.wait_notice().sent_at
    assert sent_at is not None
    assert abs(datetime.now(UTC) - sent_at) < timedelta(seconds=5)
