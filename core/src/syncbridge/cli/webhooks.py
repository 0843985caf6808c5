"""``syncbridge webhooks``: receive the systems' change notifications, and subscribe to them."""

from __future__ import annotations

import click
from rich.markup import escape

from syncbridge.cli.common import console
from syncbridge.cli.fleet import fleet_option, open_fleet
from syncbridge.config import Side
from syncbridge.errors import ConfigError


@click.group()
def webhooks() -> None:
    """Near-real-time syncs: systems notify the receiver, which starts the runs at once."""


@webhooks.command()
@fleet_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port to listen on.")
def serve(fleet_path: str | None, host: str, port: int) -> None:
    """Serve the receiver: POST /hooks/<tenant>/<connection> (behind your TLS proxy)."""
    import uvicorn

    from syncbridge.fleet.receiver import Receiver, redis_seen
    from syncbridge.fleet.tasks import celery_app, sender

    runtime = open_fleet(fleet_path)
    fleet = runtime.fleet
    url = fleet.budget_url
    if url is None:
        raise ConfigError(
            "budgets.url: the receiver remembers the notifications it has seen in Redis; "
            "set [budgets] url (or use a Redis broker)"
        )
    receiver = Receiver(
        runtime.tenants,
        runtime.engine,
        sender(celery_app(fleet), fleet),
        redis_seen(url, fleet.webhooks.replay_window_seconds),
    )
    console.print(f"receiving webhooks on http://{host}:{port}/hooks/<tenant>/<connection>")
    uvicorn.run(receiver.app, host=host, port=port, log_level="info")


@webhooks.command()
@fleet_option
@click.option("--tenant", required=True, help="The tenant whose connections subscribe.")
@click.option(
    "--connection",
    "only",
    multiple=True,
    help="Only this connection (repeatable; default: every connection of its syncs).",
)
def subscribe(fleet_path: str | None, tenant: str, only: tuple[str, ...]) -> None:
    """Ask each system to notify the receiver of the changes the tenant's syncs read
    from it (systems without a subscription API say where to set it by hand)."""
    from syncbridge.fleet.config import load_fleet
    from syncbridge.fleet.tenants import Tenants

    fleet = load_fleet(fleet_path)
    public = fleet.webhooks.public_url
    if not public:
        raise ConfigError(
            "webhooks.public_url: say where the systems reach `syncbridge webhooks serve` "
            '(public_url = "https://hooks.example.com")'
        )
    with Tenants(fleet).workspace(tenant) as workspace:
        wanted: dict[str, list[str]] = {}
        for sync in workspace.config.syncs.values():
            for entity, rule in sync.entities.items():
                sides: tuple[tuple[Side, str], ...] = (("left", sync.left), ("right", sync.right))
                for side, name in sides:
                    if rule.allows(side) and entity not in wanted.setdefault(name, []):
                        wanted[name].append(entity)
        unknown = [name for name in only if name not in wanted]
        if unknown:
            raise ConfigError(
                f"--connection: tenant {tenant} syncs from no connection named "
                f"{', '.join(unknown)} (its connections: {', '.join(sorted(wanted))})"
            )
        for name, entities in wanted.items():
            if only and name not in only:
                continue
            url = f"{public.rstrip('/')}/hooks/{tenant}/{name}"
            found = workspace.connection(name).subscribe(url, entities)
            if found is None:
                console.print(
                    f"{escape(name)}: this system has no subscription API; set its webhook "
                    f"endpoint to {escape(url)} in the system's own console"
                )
            else:
                console.print(
                    f"{escape(name)}: {escape(url)} subscribed for {', '.join(entities)} "
                    f"({len(found)} subscription(s))"
                )
