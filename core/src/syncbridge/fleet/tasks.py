"""The fleet's Celery app and its one task.

A task names a tenant, a sync, the entities due (each with its schedule token) and a
priority; never a credential, a setting or a record: the worker reads those from the
tenant's config and secrets. Two queues: ``<name>-poll`` for the runs of synced
entities, ``<name>-bulk`` for first syncs, so that workers serving only the poll queue
keep the regular runs on time however many tenants are being onboarded.

Tasks are acknowledged when a worker takes them and ignore results: what a run did is in the
state store, and a task lost with a killed worker is put back by the schedule
(``requeue_after``), not by the broker, so no broker setting decides what is run twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Celery

from syncbridge.fleet.config import FleetConfig
from syncbridge.fleet.runtime import runtime
from syncbridge.fleet.schedule import Dispatch

TASK = "syncbridge.run_due"
PRIORITIES = ("poll", "bulk")


def run_due(tenant: str, sync: str, items: list[list[str]], priority: str) -> list[dict[str, Any]]:
    """Run a dispatched turn: see :meth:`syncbridge.fleet.runtime.Runtime.run_due`."""
    outcomes = runtime().run_due(
        tenant, sync, [(entity, token) for entity, token in items], priority
    )
    return [outcome.__dict__ for outcome in outcomes]


def celery_app(fleet: FleetConfig) -> Celery:
    """The fleet's Celery app on its broker, with :func:`run_due` registered."""
    app = Celery("syncbridge", broker=fleet.broker.url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=False,
        worker_prefetch_multiplier=1,
        task_default_queue=fleet.queue("poll"),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    app.task(name=TASK)(run_due)
    return app


def sender(app: Celery, fleet: FleetConfig) -> Callable[[Dispatch], None]:
    """A function sending a :class:`Dispatch` as a task on its priority's queue."""

    def send(group: Dispatch) -> None:
        app.send_task(
            TASK,
            args=[group.tenant, group.sync, [list(item) for item in group.items], group.priority],
            queue=fleet.queue(group.priority),
        )

    return send
