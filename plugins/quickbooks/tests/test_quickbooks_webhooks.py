"""Webhooks: the emulator posts Intuit's notifications, the connector verifies and reads them.

Everything goes over HTTP on 127.0.0.1: records change on the emulator (through the connector,
or its REST API), the emulator posts the signed notification to a
:class:`~syncbridge.testing.webhooks.Catcher`, and the Catcher reads it with the connection's
``webhook`` hook. python-quickbooks' own signature check is run on what the emulator sent, so
the emulator signs as Intuit does and not merely as the connector expects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pydantic import ValidationError

from syncbridge.connection import Connection
from syncbridge.models import Company
from syncbridge.records import UpsertItem
from syncbridge.testing.webhooks import Catcher
from syncbridge.webhooks import Change, WebhookRefused, WebhookRequest, hmac_sha256_base64
from syncbridge_quickbooks.emulator import REALM
from syncbridge_quickbooks.emulator.webhooks import IntuitWebhooks
from syncbridge_quickbooks.settings import QuickBooksSettings

if TYPE_CHECKING:
    from conftest import Served

#: the app's Verifier Token, as Intuit's dashboard shows one
TOKEN = "vt-5f1c9e2b-7a44-4c1d-9d0e-83b6a1f2c7aa"
OTHER_REALM = "4620816365257778001"

FORGED = (
    "intuit-signature does not match the body under this connection's webhook_verifier_token: "
    "not signed by Intuit for this app, or altered on the way"
)
MISSING = "no intuit-signature header: not a notification from Intuit"


@dataclass
class Hooked:
    """An emulator notifying a Catcher, and the connection the Catcher reads with."""

    served: Served
    conn: Connection
    catcher: Catcher
    notifier: IntuitWebhooks


@pytest.fixture
def hook(serve: Callable[..., Served]) -> Iterator[Callable[..., Hooked]]:
    """``hook(records=0, realm_id=..., **webhooks kwargs)``: emulator, connection, Catcher."""
    opened: list[tuple[Catcher, IntuitWebhooks]] = []

    def start(records: int = 0, realm_id: str = REALM, **kwargs: Any) -> Hooked:
        served = serve(records=records)
        conn = served.connect(realm_id=realm_id, webhook_verifier_token=TOKEN)
        catcher = Catcher(conn).__enter__()
        notifier = served.emulator.webhooks(catcher.url, TOKEN, **kwargs)
        opened.append((catcher, notifier))
        return Hooked(served, conn, catcher, notifier)

    yield start
    for catcher, notifier in reversed(opened):
        notifier.close()
        catcher.__exit__(None, None, None)


def create_company(conn: Connection, name: str, key: str) -> str:
    [result] = conn.upsert(
        "company", [UpsertItem(key=key, record=conn.map_out("company", Company(name=name)))]
    )
    assert result.ok, result.error
    assert result.id is not None
    return result.id


def entities(request: WebhookRequest) -> list[dict[str, Any]]:
    """The entity entries of a notification that is about the emulated company only."""
    payload = json.loads(request.body)
    [notification] = payload["eventNotifications"]
    assert notification["realmId"] == REALM
    found: list[dict[str, Any]] = notification["dataChangeEvent"]["entities"]
    return found


def post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(url, content=body, headers=headers, timeout=10)


def signed(body: bytes, token: str = TOKEN) -> dict[str, str]:
    return {"content-type": "application/json", "intuit-signature": hmac_sha256_base64(token, body)}


def entry(
    name: str, id: str, operation: str, last_updated: str | None, **extra: str
) -> dict[str, Any]:
    """One entity entry of a notification (``lastUpdated`` left out when None)."""
    found = {"name": name, "id": id, "operation": operation, **extra}
    return found if last_updated is None else {**found, "lastUpdated": last_updated}


def notification(*items: tuple[str, list[dict[str, Any]]]) -> bytes:
    """A notification body of (realmId, entity entries) items."""
    return json.dumps(
        {
            "eventNotifications": [
                {"realmId": realm, "dataChangeEvent": {"entities": entries}}
                for realm, entries in items
            ]
        }
    ).encode()


# -- (a) changes reach the receiver and are read exactly -------------------------------------


def test_a_customer_created_updated_and_made_inactive_is_read_as_exactly_those_changes(
    hook: Callable[..., Hooked],
) -> None:
    hooked = hook()
    conn, catcher = hooked.conn, hooked.catcher

    id = create_company(conn, "Lake Shore Deli", "c-1")
    created = catcher.wait_notice(1)
    # a customer is a company or a contact: which, only a read tells; both are named
    assert created.changes == (Change("company", id), Change("contact", id))
    [entry] = entities(catcher.requests[0])
    assert (entry["name"], entry["id"], entry["operation"]) == ("Customer", id, "Create")
    assert entry["lastUpdated"].endswith("Z")
    assert created.sent_at == datetime.fromisoformat(entry["lastUpdated"])
    assert created.sent_at is not None and created.sent_at.tzinfo is not None
    assert abs(datetime.now(UTC) - created.sent_at) < timedelta(minutes=1)

    record = conn.map_out("company", Company(name="Lake Shore Deli", phone="+1 312 555 0199"))
    [result] = conn.upsert(
        "company", [UpsertItem(key="u-1", id=id, record=record, changed=frozenset({"phone"}))]
    )
    assert result.ok, result.error
    updated = catcher.wait_notice(2)
    assert updated.changes == (Change("company", id), Change("contact", id))
    assert [e["operation"] for e in entities(catcher.requests[1])] == ["Update"]

    # QuickBooks never deletes a customer: the connector makes it inactive, Intuit says Delete
    [gone] = conn.delete("company", [id])
    assert gone.ok, gone.error
    deleted = catcher.wait_notice(3)
    assert deleted.changes == (
        Change("company", id, deleted=True),
        Change("contact", id, deleted=True),
    )
    assert [e["operation"] for e in entities(catcher.requests[2])] == ["Delete"]
    # three distinct notifications, each its own event id; none refused
    assert len({n.event_id for n in catcher.notices}) == 3
    assert catcher.refused == []
    hooked.notifier.drain()
    assert all(d.status == 200 and d.attempts == 1 for d in hooked.notifier.sender.deliveries)


def test_changes_within_the_window_go_out_as_one_notification(
    hook: Callable[..., Hooked],
) -> None:
    hooked = hook(window=1.0)
    conn = hooked.conn
    items = [
        UpsertItem(key=f"b-{n}", record=conn.map_out("company", Company(name=f"Deli {n}")))
        for n in range(2)
    ]
    results = conn.upsert("company", items)  # one batch request, two customers
    assert all(r.ok for r in results)
    first, second = (str(r.id) for r in results)

    notice = hooked.catcher.wait_notice(1)
    assert notice.changes == (
        Change("company", first),
        Change("contact", first),
        Change("company", second),
        Change("contact", second),
    )
    assert [(e["id"], e["operation"]) for e in entities(hooked.catcher.requests[0])] == [
        (first, "Create"),
        (second, "Create"),
    ]
    hooked.notifier.drain()
    assert len(hooked.catcher.requests) == 1


def test_an_invoice_deleted_and_one_voided_are_notified_as_intuit_names_them(
    hook: Callable[..., Hooked],
) -> None:
    hooked = hook(records=4, window=0)
    served, conn, catcher = hooked.served, hooked.conn, hooked.catcher
    books = served.emulator.books
    unpaid = [i["Id"] for i in books.rendered("Invoice") if not books.applied(i["Id"])]
    assert len(unpaid) >= 2
    doomed, voided = unpaid[:2]

    [result] = conn.delete("invoice", [doomed])
    assert result.ok, result.error
    assert catcher.wait_notice(1).changes == (Change("invoice", doomed, deleted=True),)
    assert [e["operation"] for e in entities(catcher.requests[0])] == ["Delete"]

    # a void through the REST API, as QuickBooks' UI or another app would do it
    token = served.emulator.issue_tokens()["access_token"]
    sync_token = books.read("Invoice", voided)["SyncToken"]
    response = httpx.post(
        f"{served.url}{served.api}/invoice",
        params={"operation": "void", "minorversion": "75"},
        json={"Id": voided, "SyncToken": sync_token},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    # a voided invoice is still there (amounts zero): a change, not a deletion
    assert catcher.wait_notice(2).changes == (Change("invoice", voided),)
    assert [(e["name"], e["id"], e["operation"]) for e in entities(catcher.requests[1])] == [
        ("Invoice", voided, "Void")
    ]


def test_only_the_entities_the_app_is_configured_for_are_notified(
    hook: Callable[..., Hooked],
) -> None:
    hooked = hook(entities=["Invoice"])
    create_company(hooked.conn, "Quiet Customer", "q-1")
    hooked.notifier.drain()
    assert hooked.catcher.requests == []
    with pytest.raises(ValueError, match=r"QuickBooks notifies no \['TaxCode'\]"):
        hooked.served.emulator.webhooks(hooked.catcher.url, TOKEN, ["TaxCode"])
    assert hooked.served.emulator.notifier is hooked.notifier  # a refused one changes nothing


def test_subscribe_says_quickbooks_has_no_subscription_api(hook: Callable[..., Hooked]) -> None:
    hooked = hook()
    assert hooked.conn.subscribe(hooked.catcher.url, ["company", "invoice"]) is None


# -- (b) signed as Intuit signs: python-quickbooks' own check agrees ----------------------------


def test_python_quickbooks_validates_the_emulators_signature(hook: Callable[..., Hooked]) -> None:
    quickbooks = pytest.importorskip("quickbooks")
    hooked = hook()
    create_company(hooked.conn, "Signed Goods Inc.", "s-1")
    hooked.catcher.wait_notice(1)
    request = hooked.catcher.requests[0]
    body, signature = request.body.decode("utf-8"), request.headers["intuit-signature"]

    client = quickbooks.QuickBooks(verifier_token=TOKEN, minorversion=75)
    assert client.validate_webhook_signature(body, signature) is True
    # not vacuous: another token, or another body, fails the same check
    assert client.validate_webhook_signature(body, signature, "another-token") is False
    assert (
        client.validate_webhook_signature(body.replace('"Create"', '"Update"'), signature) is False
    )


# -- (c) what is not genuine is refused, and says why -----------------------------------------


def test_forged_missing_and_altered_signatures_are_refused(hook: Callable[..., Hooked]) -> None:
    hooked = hook()
    catcher = hooked.catcher
    create_company(hooked.conn, "Genuine Co.", "g-1")
    catcher.wait_notice(1)
    genuine = catcher.requests[0]
    body, signature = genuine.body, genuine.headers["intuit-signature"]

    forged = post(catcher.url, body, signed(body, token="guessed-verifier-token"))
    missing = post(catcher.url, body, {"content-type": "application/json"})
    altered_body = body.replace(b'"Create"', b'"Delete"')
    assert altered_body != body
    altered = post(
        catcher.url,
        altered_body,
        {"content-type": "application/json", "intuit-signature": signature},
    )
    garbage = post(
        catcher.url, body, {"content-type": "application/json", "intuit-signature": "%%%"}
    )

    for response, message in (
        (forged, FORGED),
        (missing, MISSING),
        (altered, FORGED),
        (garbage, FORGED),
    ):
        assert response.status_code == 401
        assert response.json() == {"error": message}
    assert catcher.refused == [FORGED, MISSING, FORGED, FORGED]
    assert len(catcher.notices) == 1  # nothing refused was read
    # the genuine one again is still accepted (the receiver, not the hook, drops repeats)
    again = post(catcher.url, body, {"intuit-signature": signature})
    assert again.status_code == 200


def test_a_notification_for_another_company_is_refused(hook: Callable[..., Hooked]) -> None:
    # the connection is for another company of the same app: same token, other realm
    hooked = hook(realm_id=OTHER_REALM, retries=0)
    writer = hooked.served.connect()  # the emulated company's own connection writes
    create_company(writer, "Someone Else's Customer", "o-1")
    hooked.notifier.drain()

    message = f"notification for realm {REALM}, this connection is realm {OTHER_REALM}"
    assert hooked.catcher.refused == [message]
    assert hooked.catcher.notices == []
    [delivery] = hooked.notifier.sender.deliveries
    assert (delivery.status, delivery.attempts) == (401, 1)


def test_other_companies_entries_beside_this_ones_are_skipped(
    hook: Callable[..., Hooked],
) -> None:
    hooked = hook()
    stamp = "2024-06-03T10:15:00.000Z"
    body = notification(
        (OTHER_REALM, [entry("Invoice", "900", "Create", stamp)]),
        (REALM, [entry("Invoice", "7", "Update", stamp)]),
    )
    response = post(hooked.catcher.url, body, signed(body))
    assert response.status_code == 200
    [notice] = hooked.catcher.notices
    assert notice.changes == (Change("invoice", "7"),)


def test_a_signed_body_that_is_not_a_notification_is_refused_as_malformed(
    hook: Callable[..., Hooked],
) -> None:
    hooked = hook()
    body = b'{"eventNotifications": {"realmId": "1"}}'
    response = post(hooked.catcher.url, body, signed(body))
    assert response.status_code == 400
    assert response.json() == {
        "error": "the body is not an Intuit notification: no eventNotifications list"
    }


def test_a_connection_without_a_verifier_token_refuses_and_says_what_to_set(
    serve: Callable[..., Served],
) -> None:
    conn = serve().connect()
    body = notification((REALM, []))
    with pytest.raises(WebhookRefused) as refused:
        conn.webhook(WebhookRequest("POST", "http://x/hooks", signed(body), {}, body))
    assert str(refused.value) == (
        "this connection has no webhook_verifier_token: set it to the Verifier Token of your "
        "app's webhooks (Intuit developer dashboard) to receive notifications"
    )


def test_a_verifier_token_needs_the_realm_it_is_for() -> None:
    with pytest.raises(ValidationError) as invalid:
        QuickBooksSettings.model_validate(
            {"client_id": "app", "client_secret": "s", "webhook_verifier_token": TOKEN}
        )
    assert "webhook_verifier_token needs realm_id" in str(invalid.value)
    assert TOKEN not in str(invalid.value)


# -- reading Intuit's format -------------------------------------------------------------------


def test_names_operations_and_dates_are_read_as_intuit_writes_them(
    serve: Callable[..., Served],
) -> None:
    conn = serve().connect(webhook_verifier_token=TOKEN)
    body = notification(
        (
            REALM,
            [
                entry("Item", "3", "Update", "2015-10-05T14:42:19-0700"),  # Intuit's example form
                entry("Vendor", "4", "Create", "2015-10-05T21:50:00.000Z"),  # not synced: skipped
                entry("Estimate", "5", "Emailed", "2015-10-05T21:40:00Z"),
                entry("TaxRate", "2", "Update", None),
                entry("Currency", "EUR", "Create", "bad"),
                entry("Customer", "8", "Merge", "2015-10-05T21:45:00Z", deletedId="9"),
                entry("Payment", "6", "Create", "2015-10-05T21:00:00Z"),
                entry("Payment", "6", "Delete", "2015-10-05T21:01:00Z"),
            ],
        )
    )
    notice = conn.webhook(WebhookRequest("POST", "http://x/hooks", signed(body), {}, body))
    assert notice is not None
    assert notice.changes == (
        Change("product", "3"),
        Change("quote", "5"),
        Change("vat_rate", "2"),
        Change("currency", "EUR"),
        Change("company", "8"),
        Change("contact", "8"),
        Change("company", "9", deleted=True),
        Change("contact", "9", deleted=True),
        Change("payment", "6", deleted=True),  # the later entry about a record wins
    )
    # the latest lastUpdated, of whichever entry, as an aware instant
    assert notice.sent_at == datetime(2015, 10, 5, 21, 50, tzinfo=UTC)
    assert notice.event_id.startswith("sha256:")
    pst = datetime(2015, 10, 5, 14, 42, 19, tzinfo=timezone(timedelta(hours=-7)))
    assert pst < notice.sent_at


# -- (d) the verifier token is never shown -----------------------------------------------------


def test_the_verifier_token_appears_in_no_refusal_and_no_delivery_log(
    hook: Callable[..., Hooked],
) -> None:
    hooked = hook(realm_id=OTHER_REALM, retries=0)
    writer = hooked.served.connect()
    create_company(writer, "Secretive Ltd", "t-1")
    hooked.notifier.drain()
    catcher = hooked.catcher
    [genuine] = catcher.requests
    body = genuine.body
    responses = [
        post(catcher.url, body, signed(body, token="wrong")),
        post(catcher.url, body, {"content-type": "application/json"}),
        post(catcher.url, body + b" ", {"intuit-signature": genuine.headers["intuit-signature"]}),
    ]
    assert len(catcher.refused) == 4
    shown = [
        *catcher.refused,
        *(r.text for r in responses),
        repr(hooked.notifier.sender.deliveries),
        repr(hooked.notifier),
        repr(hooked.served.emulator.notifier),
        repr(hooked.conn.settings),
        str(hooked.conn.settings),
    ]
    for text in shown:
        assert TOKEN not in text
