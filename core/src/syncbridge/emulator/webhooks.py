"""Sending an emulated system's change notifications to the URLs subscribed to them.

A real system notifies its subscribers out of band, after the write that changed a record
has been answered; so does this sender: an emulator queues a :class:`Delivery` (the system's
own body, headers and signature) from a store listener, and a background thread posts it,
retrying a refused or failed delivery a few times as the real systems do. ``deliveries``
keeps what was sent and how it was answered, for tests.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import httpx

__all__ = ["Delivery", "WebhookSender"]


@dataclass
class Delivery:
    """One notification to send, and (once sent) the answer's status (None: no answer)."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    status: int | None = None
    attempts: int = 0


class WebhookSender:
    """A background thread posting queued deliveries, started on first use.

    :param retries: further attempts after a delivery that got no 2xx answer.
    :param backoff: seconds before the first retry, doubled each time after.
    """

    def __init__(self, *, retries: int = 3, backoff: float = 0.5, timeout: float = 5.0) -> None:
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, delivery: Delivery) -> None:
        """Queue ``delivery``; it is posted shortly after, in the order queued."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="emulator-webhooks", daemon=True
                )
                self._thread.start()
        self._queue.put(delivery)

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        """One request sent now, outside the queue (a subscription's verification GET)."""
        with httpx.Client(timeout=self.timeout) as client:
            return client.request(method, url, **kwargs)  # type: ignore[arg-type]

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued delivery has been attempted (tests)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while True:
                delivery = self._queue.get()
                try:
                    if delivery is None:
                        return
                    self._deliver(client, delivery)
                finally:
                    self._queue.task_done()

    def settled(self, status: int | None) -> bool:
        """Whether an attempt answered ``status`` (None: no answer) ends the delivery; by
        default a 2xx does, anything else is tried again. A system with its own rules (which
        statuses count as delivered, which are final) overrides this."""
        return status is not None and 200 <= status < 300

    def delivered(self, delivery: Delivery) -> None:
        """Called once a delivery's attempts are over (a system that drops a subscription on
        some answer does it here)."""

    def _deliver(self, client: httpx.Client, delivery: Delivery) -> None:
        wait = self.backoff
        for attempt in range(1 + self.retries):
            delivery.attempts = attempt + 1
            try:
                response = client.request(
                    delivery.method, delivery.url, content=delivery.body, headers=delivery.headers
                )
                delivery.status = response.status_code
            except httpx.HTTPError:
                delivery.status = None
            if self.settled(delivery.status):
                break
            time.sleep(wait)
            wait *= 2
        self.delivered(delivery)
        self.deliveries.append(delivery)
