"""Webhooks end to end over real HTTP on 127.0.0.1: the connector subscribes a
:class:`~syncbridge.testing.webhooks.Catcher` on the emulator, the emulator verifies it as
Fatture in Cloud does, sends its CloudEvents signed with its ES256 key, and the connector's
``webhook`` hook reads each one as exactly the right change, or refuses it with the reason.

The emulator's exchanges are checked against the official spec by the ``serve`` fixture, so
the subscription requests of the connector and of the official SDK are too.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncbridge.credentials import MemoryCredentials
from syncbridge.emulator import running
from syncbridge.errors import ConnectorError
from syncbridge.testing.webhooks import Catcher
from syncbridge.webhooks import Change, WebhookRefused, WebhookRequest
from syncbridge_fattureincloud.emulator import MAIN_COMPANY, MANUAL_TOKEN, OTHER_COMPANY
from syncbridge_fattureincloud.emulator.access import APP_IDS
from syncbridge_fattureincloud.emulator.webhooks import CHALLENGE, PREFIX, WELCOME, Notification
from syncbridge_fattureincloud.signing import (
    FIC_WEBHOOK_PUBLIC_KEY,
    ISSUER,
    load_public_key,
    sign,
    verify,
)

CLIENT_TYPES = [f"{PREFIX}entities.clients.{action}" for action in ("create", "update", "delete")]


def _wait(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def hooked(fic: Any) -> Iterator[tuple[Any, Any, Catcher]]:
    """The emulator, a connection, and a Catcher subscribed to clients (welcome received)."""
    connection = fic.connect()
    with Catcher(connection) as catcher:
        assert connection.subscribe(catcher.url, ["company"]) == ["SUB1"]
        welcome = catcher.wait_notice(2)
        assert welcome.changes == ()
        yield fic, connection, catcher


def _post(catcher: Catcher, delivery: Notification, **changes: Any) -> httpx.Response:
    """Send ``delivery`` again to the catcher, with headers changed (None: removed)."""
    headers = {**delivery.headers, **{k: v for k, v in changes.items() if v is not None}}
    for name, value in changes.items():
        if value is None:
            headers.pop(name, None)
    return httpx.post(catcher.url, content=delivery.body, headers=headers)


def _refused(catcher: Catcher, response: httpx.Response) -> str:
    assert response.status_code in (400, 401), response.text
    _wait(lambda: catcher.refused)
    message = catcher.refused.pop()
    assert response.json() == {"error": message}
    return message


def _claims(delivery: Notification) -> dict[str, Any]:
    token = delivery.headers["Authorization"].split()[1]
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * 4))
    return decoded


# -- subscribing and verifying --------------------------------------------------------------------
def test_subscribing_is_verified_by_the_challenge_and_welcomed(fic: Any) -> None:
    connection = fic.connect()
    with Catcher(connection) as catcher:
        ids = connection.subscribe(catcher.url, ["company", "product", "invoice", "vat_rate"])
        assert ids == ["SUB1"]
        verification = catcher.requests[0]
        assert verification.method == "GET"
        challenge = verification.headers[CHALLENGE]
        assert len(challenge) == 64
        assert verification.headers["user-agent"] == "FattureInCloud/API-WEBHOOK"
        assert catcher.notices[0].reply == {"verification": challenge}
        assert catcher.notices[0].changes == ()
        welcome = catcher.wait_notice(2)
        assert welcome.changes == () and catcher.requests[1].headers["ce-type"] == WELCOME
        with fic.client() as http:
            stored = http.get(f"/c/{MAIN_COMPANY}/subscriptions/SUB1").json()["data"]
    assert stored["verified"] is True
    assert stored["sink"] == catcher.url
    assert stored["config"] == {"mapping": "binary"}
    # vat_rate is a reference list without events: polling covers it
    assert stored["types"] == [
        *CLIENT_TYPES,
        *(f"{PREFIX}products.{a}" for a in ("create", "update", "delete")),
        *(f"{PREFIX}issued_documents.invoices.{a}" for a in ("create", "update", "delete")),
    ]
    assert catcher.refused == []


def test_subscribing_twice_keeps_one_subscription_and_widens_it(fic: Any) -> None:
    connection = fic.connect()
    with Catcher(connection) as catcher:
        assert connection.subscribe(catcher.url, ["company"]) == ["SUB1"]
        assert connection.subscribe(catcher.url, ["company"]) == ["SUB1"]
        assert connection.subscribe(catcher.url, ["company", "quote"]) == ["SUB1"]
        with fic.client() as http:
            listed = http.get(f"/c/{MAIN_COMPANY}/subscriptions").json()["data"]
    assert [item["id"] for item in listed] == ["SUB1"]
    assert listed[0]["types"] == [
        *CLIENT_TYPES,
        *(f"{PREFIX}issued_documents.quotes.{a}" for a in ("create", "update", "delete")),
    ]
    # one verification only: widening the types keeps the sink, so no new one
    assert [r.method for r in catcher.requests].count("GET") == 1


def test_a_failed_verification_leaves_it_unverified_and_silent_until_asked_again(
    serve: Any,
) -> None:
    fic = serve(verify_interval=0)
    good = fic.connect()
    production_key = fic.connect(webhook_public_key=FIC_WEBHOOK_PUBLIC_KEY)  # not the emulator's
    with Catcher(production_key) as catcher:
        assert good.subscribe(catcher.url, ["company"]) == ["SUB1"]
        assert catcher.refused == [
            "the Authorization token is not Fatture in Cloud's: its signature does not match"
        ]
        assert fic.emulator.webhooks.subscriptions["SUB1"].verified is False
        fic.emulator.table(MAIN_COMPANY, "clients").insert({"name": "Silenziosa S.r.l."})
        fic.emulator.webhooks.sender.drain()
        assert [r.method for r in catcher.requests] == ["GET"]  # nothing sent unverified
        catcher.connection = good
        assert good.subscribe(catcher.url, ["company"]) == ["SUB1"]  # asks /verify
        assert fic.emulator.webhooks.subscriptions["SUB1"].verified is True
        assert catcher.wait_notice(2).changes == ()  # the welcome


def test_moving_the_sink_verifies_the_new_one_and_events_follow(fic: Any) -> None:
    connection = fic.connect()
    with Catcher(connection) as old, Catcher(connection) as new, fic.client() as http:
        connection.subscribe(old.url, ["company"])
        moved = http.put(
            f"/c/{MAIN_COMPANY}/subscriptions/SUB1", json={"data": {"sink": new.url}}
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["data"]["verified"] is True
        assert new.requests[0].method == "GET" and new.notices[0].reply is not None
        new.wait_notice(2)  # welcome at the new sink
        row = fic.emulator.table(MAIN_COMPANY, "clients").insert({"name": "Nuova S.r.l."})
        assert new.wait_notice(3).changes == (Change("company", str(row["id"])),)
        fic.emulator.webhooks.sender.drain()
        assert len(old.notices) == 2  # its verification and welcome only


def test_query_verification_and_structured_events(fic: Any) -> None:
    connection = fic.connect()
    with Catcher(connection) as catcher, fic.client() as http:
        body = {
            "data": {
                "sink": catcher.url,
                "types": [f"{PREFIX}products.create"],
                "verification_method": "query",
                "config": {"mapping": "structured"},
            }
        }
        answer = http.post(f"/c/{MAIN_COMPANY}/subscriptions", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["verified"] is True
        assert CHALLENGE in catcher.requests[0].query
        catcher.wait_notice(2)  # the welcome
        row = fic.emulator.table(MAIN_COMPANY, "products").insert({"name": "Valvola", "code": "V1"})
        notice = catcher.wait_notice(3)
        received = catcher.requests[2]
        assert received.headers["content-type"] == "application/cloudevents+json"
        event = json.loads(received.body)
    assert notice.changes == (Change("product", str(row["id"])),)
    assert notice.event_id == event["id"]
    assert event["data"] == {"ids": [row["id"]]} and event["subject"] == f"company:{MAIN_COMPANY}"


def test_the_emulator_refuses_a_plain_http_sink(fic: Any) -> None:
    with fic.client() as http:
        body = {"data": {"sink": "http://example.com/hooks", "types": CLIENT_TYPES}}
        answer = http.post(f"/c/{MAIN_COMPANY}/subscriptions", json=body)
    assert answer.status_code == 422
    assert answer.json()["error"]["validation_result"] == {
        "data.sink": ["Il campo data.sink deve essere un URL HTTPS."]
    }


def test_subscribing_needs_read_access_to_the_types_scopes(
    fic: Any, oauth_consent: Any
) -> None:
    """Docs: a subscription is accepted only for types whose scope families the token has
    (read is enough); the connector says which and fails, as any refused request."""
    settings = {**fic.emulator.oauth_settings_for(fic.base_url), "scopes": ["entity.clients:r"]}
    credentials = MemoryCredentials()
    connection = fic.connect_with(settings, credentials)
    oauth_consent(connection.pm.hook.oauth(settings=connection.settings), credentials)
    with Catcher(connection) as catcher:
        assert connection.subscribe(catcher.url, ["company"]) == ["SUB1"]  # read is enough
        with pytest.raises(ConnectorError) as refused:
            connection.subscribe(catcher.url + "/more", ["product"])
    assert str(refused.value) == (
        f"Fatture in Cloud answered POST /c/{MAIN_COMPANY}/subscriptions with "
        "HTTP 403 Forbidden: Permessi insufficienti: è richiesto lo scope products:r per il "
        "tipo it.fattureincloud.webhooks.products.create."
    )
    # the OAuth app's subscriptions are its own: the manual token's app does not see them
    with fic.client() as http:
        assert http.get(f"/c/{MAIN_COMPANY}/subscriptions").json() == {"data": []}


def test_the_token_check_agrees_with_a_standard_jwt_library() -> None:
    """Fatture in Cloud's tokens are standard ES256 JWTs (its docs verify them with
    firebase/php-jwt): what PyJWT signs, :func:`verify` accepts, and the reverse."""
    jwt = pytest.importorskip("jwt")
    key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    claims = {"jti": "1:a", "iss": ISSUER, "exp": now + 60, "iat": now, "sub": "company:1"}
    assert verify(jwt.encode(claims, key, algorithm="ES256"), key.public_key()) == claims
    decoded = jwt.decode(
        sign(key, claims), key.public_key(), algorithms=["ES256"], options={"verify_aud": False}
    )
    assert decoded == claims
    # the published key reads as the P-256 key ES256 needs
    assert load_public_key(FIC_WEBHOOK_PUBLIC_KEY).curve.name == "secp256r1"


# -- notifications read as changes ---------------------------------------------------------------
def test_a_client_created_updated_deleted_reaches_the_catcher_as_exactly_that_change(
    hooked: tuple[Any, Any, Catcher],
) -> None:
    fic, _, catcher = hooked
    with fic.client() as http:
        created = http.post(
            f"/c/{MAIN_COMPANY}/entities/clients", json={"data": {"name": "Bianchi S.p.A."}}
        ).json()["data"]
        client_id = created["id"]
        notice = catcher.wait_notice(3)
        assert notice.changes == (Change("company", str(client_id)),)
        http.put(
            f"/c/{MAIN_COMPANY}/entities/clients/{client_id}",
            json={"data": {"name": "Bianchi S.p.A.", "email": "info@bianchi.it"}},
        )
        updated = catcher.wait_notice(4)
        assert updated.changes == (Change("company", str(client_id)),)
        http.delete(f"/c/{MAIN_COMPANY}/entities/clients/{client_id}")
        deleted = catcher.wait_notice(5)
        assert deleted.changes == (Change("company", str(client_id), deleted=True),)
    events = catcher.requests[2:5]
    assert [r.headers["ce-type"] for r in events] == CLIENT_TYPES
    for request, read in zip(events, (notice, updated, deleted), strict=True):
        assert read.event_id == request.headers["ce-id"]
        assert read.sent_at == datetime.fromisoformat(request.headers["ce-time"])
        assert request.headers["ce-subject"] == f"company:{MAIN_COMPANY}"
        assert request.headers["ce-source"] == ISSUER
        assert json.loads(request.body) == {"data": {"ids": [client_id]}}
    assert len({read.event_id for read in (notice, updated, deleted)}) == 3
    assert catcher.refused == []


def test_documents_and_products_are_read_as_their_entities_and_unsubscribed_types_stay_quiet(
    fic: Any,
) -> None:
    connection = fic.connect()
    with Catcher(connection) as catcher:
        connection.subscribe(catcher.url, ["invoice", "quote", "order"])
        catcher.wait_notice(2)
        documents = fic.emulator.table(MAIN_COMPANY, "documents")
        proforma = documents.insert({"type": "proforma", "number": 1})  # not subscribed
        fic.emulator.table(MAIN_COMPANY, "products").insert({"name": "Tubo"})  # not subscribed
        seen = [documents.insert({"type": kind, "number": 1}) for kind in ("invoice", "quote")]
        documents.update(seen[1]["id"], {"notes": "rivisto"})
        documents.delete(seen[0]["id"])
        fic.emulator.webhooks.sender.drain()
        read = [notice.changes for notice in catcher.notices[2:]]
    assert read == [
        (Change("invoice", str(seen[0]["id"])),),
        (Change("quote", str(seen[1]["id"])),),
        (Change("quote", str(seen[1]["id"])),),
        (Change("invoice", str(seen[0]["id"]), deleted=True),),
    ]
    assert proforma["id"] and len(catcher.requests) == 2 + 4  # nothing for the proforma


def test_a_genuine_event_of_what_the_connector_does_not_sync_changes_nothing(
    hooked: tuple[Any, Any, Catcher],
) -> None:
    fic, _, catcher = hooked
    webhooks = fic.emulator.webhooks
    for event_type in (
        f"{PREFIX}entities.suppliers.create",
        f"{PREFIX}issued_documents.invoices.email_sent",
    ):
        delivery = webhooks.notification(MAIN_COMPANY, "manual", catcher.url, event_type, [7])
        assert _post(catcher, delivery).status_code == 200  # never refused: FiC would expire it
    assert [n.changes for n in catcher.notices[2:]] == [(), ()]


# -- refused -------------------------------------------------------------------------------------
def test_forged_altered_and_foreign_notifications_are_refused_with_the_reason(
    hooked: tuple[Any, Any, Catcher],
) -> None:
    fic, _, catcher = hooked
    webhooks = fic.emulator.webhooks
    genuine = webhooks.notification(
        MAIN_COMPANY, "manual", catcher.url, CLIENT_TYPES[0], [3]
    )
    assert _post(catcher, genuine).status_code == 200
    claims = _claims(genuine)

    def bearer(token: str) -> str:
        return f"Bearer {token}"

    other_key = ec.generate_private_key(ec.SECP256R1())
    header, payload, signature = genuine.headers["Authorization"].split()[1].split(".")
    widened = base64.urlsafe_b64encode(
        json.dumps({**claims, "sub": f"company:{OTHER_COMPANY}"}).encode()
    ).rstrip(b"=").decode()
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    now = int(time.time())
    not_fic = "the Authorization token is not Fatture in Cloud's: "
    cases: list[tuple[str, dict[str, str | None]]] = [
        (
            "no Authorization: Bearer token; Fatture in Cloud signs every webhook request",
            {"Authorization": None},
        ),
        (
            not_fic + "its signature does not match",
            {"Authorization": bearer(sign(other_key, claims))},
        ),
        (  # the claims changed under the genuine signature
            not_fic + "its signature does not match",
            {"Authorization": bearer(f"{header}.{widened}.{signature}")},
        ),
        (
            not_fic + "it is signed with 'none', not ES256",
            {"Authorization": bearer(f"{none_header}.{payload}.")},
        ),
        (
            not_fic + "it expired 3600 s ago",
            {
                "Authorization": bearer(
                    sign(webhooks.key, {**claims, "iat": now - 14400, "exp": now - 3600})
                )
            },
        ),
        (
            not_fic + "its issuer is 'https://evil.example', not 'https://api-v2.fattureincloud.it'",
            {"Authorization": bearer(sign(webhooks.key, {**claims, "iss": "https://evil.example"}))},
        ),
        (
            "the Authorization token was issued for another endpoint (aud), not the URL this "
            "request reached",
            {
                "Authorization": bearer(
                    sign(webhooks.key, {**claims, "aud": ["https://other.example/hooks/b"]})
                )
            },
        ),
        ("the event id does not match the token's jti: it was altered", {"ce-id": "999:forged"}),
        (
            "the event subject does not match the token's sub: it was altered",
            {"ce-subject": f"company:{OTHER_COMPANY}"},
        ),
    ]
    for expected, changes in cases:
        message = _refused(catcher, _post(catcher, genuine, **changes))
        if "expired" in expected:  # a second may pass between signing and checking
            assert message in (expected, expected.replace("3600", "3601"))
        else:
            assert message == expected
    # a genuine notification, signed for another company the app reaches: not this connection's
    foreign = webhooks.notification(OTHER_COMPANY, "manual", catcher.url, CLIENT_TYPES[0], [3])
    assert _refused(catcher, _post(catcher, foreign)) == (
        f"the notification is about company {OTHER_COMPANY}, this connection syncs company "
        f"{MAIN_COMPANY}"
    )
    # a verification GET must be signed too
    unsigned = httpx.get(catcher.url, headers={CHALLENGE: "abc"})
    assert _refused(catcher, unsigned) == (
        "no Authorization: Bearer token; Fatture in Cloud signs every webhook request"
    )
    assert [n.event_id for n in catcher.notices[2:]] == [genuine.event_id]


def test_a_connection_of_another_app_refuses_the_token(fic: Any) -> None:
    connection = fic.connect(webhook_app_id=APP_IDS["oauth"])
    genuine = fic.emulator.webhooks.notification(
        MAIN_COMPANY, "manual", "https://example.com/hooks", CLIENT_TYPES[0], [3]
    )
    request = WebhookRequest(
        "POST",
        "https://example.com/hooks",
        {k.lower(): v for k, v in genuine.headers.items()},
        {},
        genuine.body,
    )
    with pytest.raises(WebhookRefused) as refused:
        connection.webhook(request)
    assert refused.value.status == 401
    assert str(refused.value) == (
        f"the Authorization token was issued for app {APP_IDS['manual']}, not this "
        f"connection's app {APP_IDS['oauth']}"
    )
    own = fic.connect(webhook_app_id=APP_IDS["manual"])
    notice = own.webhook(request)
    assert notice is not None and notice.changes == (Change("company", "3"),)
    # behind a TLS-terminating proxy the receiver sees another scheme and host: the path
    # still names the endpoint the token was issued for
    proxied = WebhookRequest(
        "POST", "http://10.0.0.5:8000/hooks/", request.headers, {}, genuine.body
    )
    assert own.webhook(proxied) == notice


def test_secrets_never_appear_in_refusals(hooked: tuple[Any, Any, Catcher]) -> None:
    fic, _, catcher = hooked
    genuine = fic.emulator.webhooks.notification(
        MAIN_COMPANY, "manual", catcher.url, CLIENT_TYPES[0], [3]
    )
    token = genuine.headers["Authorization"].split()[1]
    forged = sign(ec.generate_private_key(ec.SECP256R1()), _claims(genuine))
    elsewhere = sign(
        fic.emulator.webhooks.key,
        {**_claims(genuine), "aud": ["https://a.example/" + MANUAL_TOKEN]},
    )
    for changes in (
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": f"Bearer {token}x"},
        {"ce-id": "1:x"},
        {"Authorization": f"Bearer {elsewhere}"},
    ):
        _refused(catcher, _post(catcher, genuine, **changes))
    for message in catcher.refused + [str(r) for r in catcher.notices]:
        for secret in (MANUAL_TOKEN, token, forged, catcher.url, "/hooks"):
            assert secret not in message


def test_a_sink_answering_410_gone_loses_its_subscription(fic: Any) -> None:
    async def sink(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"verification": request.headers[CHALLENGE]})
        return Response(status_code=410)

    with running(Starlette(routes=[Route("/gone", sink, methods=["GET", "POST"])])) as base:
        connection = fic.connect()
        assert connection.subscribe(base + "/gone", ["company"]) == ["SUB1"]
        fic.emulator.webhooks.sender.drain()  # the welcome, answered 410
        _wait(lambda: "SUB1" not in fic.emulator.webhooks.subscriptions)
    assert fic.emulator.webhooks.sender.deliveries[-1].attempts == 1  # final, not retried


# -- the official SDK, unmodified ------------------------------------------------------------------
def test_the_official_sdk_manages_subscriptions_on_the_emulator(fic: Any) -> None:
    sdk = pytest.importorskip("fattureincloud_python_sdk")
    from fattureincloud_python_sdk.models import (
        CreateWebhooksSubscriptionRequest,
        EventType,
        WebhooksSubscription,
        WebhooksSubscriptionConfig,
        WebhooksSubscriptionMapping,
        WebhooksSubscriptionVerificationMethod,
    )

    connection = fic.connect()
    configuration = sdk.Configuration(host=fic.base_url, access_token=MANUAL_TOKEN)
    with Catcher(connection) as catcher, sdk.ApiClient(configuration) as api_client:
        webhooks = sdk.WebhooksApi(api_client)
        request = CreateWebhooksSubscriptionRequest(
            data=WebhooksSubscription(
                sink=catcher.url,
                types=[EventType.ENTITIES_ALL_CREATE],
                verification_method=WebhooksSubscriptionVerificationMethod.HEADER,
                config=WebhooksSubscriptionConfig(mapping=WebhooksSubscriptionMapping.BINARY),
            )
        )
        created = webhooks.create_webhooks_subscription(MAIN_COMPANY, request)
        assert created.data is not None and created.data.verified is True
        # the group type exploded into its types, as documented
        assert created.data.types == [
            EventType.ENTITIES_CLIENTS_CREATE,
            EventType.ENTITIES_SUPPLIERS_CREATE,
        ]
        listed = webhooks.list_webhooks_subscriptions(MAIN_COMPANY)
        assert [item.id for item in listed.data or []] == [created.data.id]
        got = webhooks.get_webhooks_subscription(MAIN_COMPANY, created.data.id)
        assert got.data is not None and got.data.sink == catcher.url
        # the connector's subscribe finds it by its sink and keeps it
        assert connection.subscribe(catcher.url, ["company"]) == [created.data.id]
        webhooks.delete_webhooks_subscription(MAIN_COMPANY, created.data.id)
        assert webhooks.list_webhooks_subscriptions(MAIN_COMPANY).data == []
        assert catcher.notices[0].reply is not None
