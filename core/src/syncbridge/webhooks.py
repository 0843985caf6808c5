"""Change notifications from a system, as a connector reads them (the ``webhook`` hook).

A system that pushes its changes (Fatture in Cloud's CloudEvents, Intuit's webhooks,
Bitrix24's event handlers, Dinero's subscriptions) posts them to ``syncbridge webhooks``,
which hands each request to the connection's connector as a :class:`WebhookRequest`. The
connector verifies it the system's way and says what changed (a :class:`Notice`), or refuses
it (:class:`WebhookRefused`); the receiver then ignores what it has seen before and starts a
run of each changed entity. Polling stays the fallback that catches a missed notification.

Kept free of any web framework: a connector reads headers, query and the raw body, which is
what signatures are computed over.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from syncbridge.errors import SyncbridgeError

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = [
    "Change",
    "Notice",
    "WebhookRefused",
    "WebhookRequest",
    "body_digest",
    "from_starlette",
    "hmac_sha256_base64",
    "same_secret",
]


@dataclass(frozen=True)
class WebhookRequest:
    """One request the system sent to the receiver, as received.

    ``headers`` has lower-case names; ``url`` is the full URL the receiver was reached at
    (some systems sign it); ``body`` is the raw body, byte for byte.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes


async def from_starlette(request: Request) -> WebhookRequest:
    """A Starlette request (the receiver's, a test's) as the ``webhook`` hook receives it."""
    return WebhookRequest(
        method=request.method,
        url=str(request.url),
        headers={name.lower(): value for name, value in request.headers.items()},
        query=dict(request.query_params),
        body=await request.body(),
    )


@dataclass(frozen=True)
class Change:
    """One record the notification says changed: a canonical entity and a native id."""

    entity: str
    record_id: str
    deleted: bool = False


@dataclass(frozen=True)
class Notice:
    """What a verified notification says.

    :param event_id: the system's id of this notification (CloudEvents ``ce-id``), or a
        digest of its body where it has none (:func:`body_digest`): a notification seen
        before under the same id is a duplicate or a replay, and is not acted on again.
    :param changes: the records it names (empty: a notification that changes nothing, such
        as a welcome message).
    :param sent_at: when the system says it sent it, if it says: one older than the
        receiver's replay window is refused.
    :param reply: the body to answer with, when the system expects one (a subscription's
        verification challenge); JSON-serialisable. None: an empty 200.
    """

    event_id: str
    changes: tuple[Change, ...] = ()
    sent_at: datetime | None = None
    reply: object | None = field(default=None, compare=False)


class WebhookRefused(SyncbridgeError):
    """The request is not a genuine notification of this connection: a signature that does
    not match, a token that is not this connection's, a body that is not the system's
    format. The message says which, never the expected secret; the receiver answers 401
    (``status``) and acts on nothing."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def hmac_sha256_base64(secret: str | bytes, body: bytes) -> str:
    """The base64 HMAC-SHA256 of ``body`` under ``secret``: how Intuit (``intuit-signature``)
    and many others sign a notification."""
    key = secret.encode() if isinstance(secret, str) else secret
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def same_secret(given: str | None, expected: str) -> bool:
    """Whether ``given`` equals ``expected``, compared in constant time (a signature or a
    token: an early exit would tell an attacker how much of a guess was right)."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def body_digest(body: bytes) -> str:
    """An id for a notification that carries none: the same body is the same event."""
    return "sha256:" + hashlib.sha256(body).hexdigest()
