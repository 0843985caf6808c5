"""What the fleet's commands share: ``--fleet PATH`` and opening what it names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

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
