"""What the fleet's commands share: ``--fleet PATH``, ``--metrics-port``, and opening the
fleet's runtime for the command (closed with it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from syncbridge.fleet.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])


def fleet_option(function: F) -> F:
    """``--fleet PATH``: the fleet's config (default ``$SYNCBRIDGE_FLEET``, else ./fleet.toml)."""
    return click.option(
        "--fleet",
        "fleet_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="The fleet's config (default: $SYNCBRIDGE_FLEET, else ./fleet.toml).",
    )(function)


def metrics_port_option(what: str) -> Callable[[F], F]:
    """``--metrics-port P``: serve ``what`` as Prometheus metrics on port P."""
    return click.option(
        "--metrics-port",
        type=click.IntRange(min=1, max=65535),
        default=None,
        help=f"Serve {what} on this port (/metrics).",
    )


def open_fleet(fleet_path: str | None) -> Runtime:
    """The fleet of ``--fleet`` as this process works for it, closed with the command."""
    from syncbridge.fleet import runtime as fleet_runtime
    from syncbridge.fleet.config import load_fleet

    fleet_runtime.configure(load_fleet(fleet_path))
    runtime = fleet_runtime.runtime()
    click.get_current_context().call_on_close(runtime.close)
    return runtime
