"""Intuit's webhooks, emulated: the emulated company's changes posted as Intuit posts them.

Intuit has no subscription API: an app's endpoint, the entities it wants and the Verifier Token
that signs every notification live in the developer dashboard. So the emulator is told them
(``emulator.webhooks(url, verifier_token)``), and from then on every create, update and delete
of an object QuickBooks notifies is queued here, from a store listener, as an entry
``{"name", "id", "operation", "lastUpdated"}``. Intuit aggregates a company's changes and
sends them a little later in one notification; so do we: the entries of ``window`` seconds go
out as one ``eventNotifications`` body for the realm, signed in ``intuit-signature``, through a
:class:`~syncbridge.emulator.webhooks.WebhookSender` (which retries a refused delivery).

Operations as Intuit names them: ``Create``, ``Update``, ``Delete`` (a deleted transaction,
or a name-list object made inactive: QuickBooks' own delete of customers and items) and
``Void`` (an invoice voided: the store only sees an update, so :func:`marked` says which).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from syncbridge.emulator import Store
from syncbridge.emulator.store import UPDATED
from syncbridge.emulator.webhooks import Delivery, WebhookSender
from syncbridge.webhooks import hmac_sha256_base64

#: the header a notification is signed in
SIGNATURE_HEADER = "intuit-signature"
#: emulated object (store table) -> its name in a notification, for the objects Intuit's
#: webhooks cover (tax codes and tax rates are not among them; CompanyCurrency is "Currency")
NOTIFIED: dict[str, str] = {
    "Account": "Account",
    "Customer": "Customer",
    "Item": "Item",
    "PaymentMethod": "PaymentMethod",
    "CompanyCurrency": "Currency",
    "Invoice": "Invoice",
    "Estimate": "Estimate",
    "Payment": "Payment",
}
#: objects never deleted, only made inactive: going inactive is notified as ``Delete``
_NAME_LISTS = frozenset({"Account", "Customer", "Item", "PaymentMethod", "CompanyCurrency"})

_marks = threading.local()


@contextmanager
def marked(operation: str) -> Iterator[None]:
    """Within the block, this thread's updates are notified as ``operation`` (``Void``).

    The store tells only create, update and delete; a void is an update that Intuit names
    apart. Thread-local, so a write on another thread meanwhile keeps its own name.
    """
    previous = getattr(_marks, "operation", None)
    _marks.operation = operation
    try:
        yield
    finally:
        _marks.operation = previous


def last_updated(moment: datetime) -> str:
    """An instant as Intuit's notifications date entries: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class IntuitWebhooks:
    """One app's webhook configuration for the emulated company, and its pending entries.

    :param realm: the company the notifications are about.
    :param url: the app's webhook endpoint.
    :param verifier_token: the app's Verifier Token (kept out of ``repr``).
    :param entities: the notification names the app is configured for (all of
        :data:`NOTIFIED` by default), as the dashboard's checkboxes choose them.
    :param window: seconds changes are gathered before they are sent as one notification
        (0: each change at once, in a notification of its own).
    """

    def __init__(
        self,
        store: Store,
        realm: str,
        url: str,
        verifier_token: str,
        *,
        entities: Iterable[str] | None = None,
        window: float = 0.2,
        sender: WebhookSender | None = None,
    ) -> None:
        known = set(NOTIFIED.values())
        chosen = set(known if entities is None else entities)
        if not chosen <= known:
            raise ValueError(
                f"QuickBooks notifies no {sorted(chosen - known)}; it notifies {sorted(known)}"
            )
        self.store, self.realm, self.url = store, realm, url
        self._token = verifier_token
        self.entities = frozenset(chosen)
        self.window = window
        #: posts the notifications; ``sender.deliveries`` is what was sent and how answered
        self.sender = sender or WebhookSender()
        self._lock = threading.Lock()
        self._pending: list[dict[str, str]] = []
        self._timer: threading.Timer | None = None
        self._closed = False
        # which name-list objects are inactive now: only going inactive is a Delete
        self._inactive = {
            (table.name, row[table.id_field])
            for table in store.tables.values()
            if table.name in _NAME_LISTS
            for row in table.list()
            if row.get("Active") is False
        }

    def __repr__(self) -> str:
        return f"<IntuitWebhooks realm {self.realm} -> {self.url}: {sorted(self.entities)}>"

    # -- the store listener ------------------------------------------------------------------

    def changed(self, table: str, operation: str, row: Mapping[str, Any]) -> None:
        """A store write (under the store's lock: only an entry is queued here)."""
        name = NOTIFIED.get(table)
        if name is None or self._closed:
            return
        id = row["id"]
        if operation == "delete":
            intuit = "Delete"
            when = self.store.clock.last or datetime.now(UTC)  # the tombstone's instant
        else:
            intuit = self._operation(table, id, operation, row)
            when = row[UPDATED]
        if name not in self.entities:
            return
        entry = {
            "name": name,
            "id": str(id),
            "operation": intuit,
            "lastUpdated": last_updated(when),
        }
        with self._lock:
            self._pending.append(entry)
            if self.window <= 0:
                self._flush_locked()
            elif self._timer is None:
                self._timer = threading.Timer(self.window, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def _operation(self, table: str, id: Any, operation: str, row: Mapping[str, Any]) -> str:
        if table in _NAME_LISTS:
            key = (table, id)
            was_active = key not in self._inactive
            if row.get("Active") is False:
                self._inactive.add(key)
                if was_active:
                    return "Delete"
            else:
                self._inactive.discard(key)
        if operation == "create":
            return "Create"
        return str(getattr(_marks, "operation", None) or "Update")

    # -- sending -----------------------------------------------------------------------------

    def flush(self) -> None:
        """Send what is pending now, as one notification."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        entries, self._pending = self._pending, []
        if entries:
            self.sender.send(self.delivery(entries))

    def delivery(self, entries: list[dict[str, str]], realm: str | None = None) -> Delivery:
        """The notification of ``entries`` for ``realm`` (this company's by default), signed."""
        payload = {
            "eventNotifications": [
                {"realmId": realm or self.realm, "dataChangeEvent": {"entities": entries}}
            ]
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        return Delivery(
            url=self.url,
            body=body,
            headers={
                "content-type": "application/json; charset=utf-8",
                SIGNATURE_HEADER: hmac_sha256_base64(self._token, body),
            },
        )

    def drain(self, timeout: float = 10.0) -> None:
        """Send what is pending and wait until every notification has been attempted."""
        self.flush()
        self.sender.drain(timeout)

    def close(self) -> None:
        """Send what is pending, then stop: later changes are not notified."""
        self.flush()
        self._closed = True
        self.sender.drain()
        self.sender.close()
