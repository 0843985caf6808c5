"""What every command shares: opening the workspace, error handling, exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from syncbridge.errors import ConfigError, ConnectorError, LeaseBusy, SyncbridgeError
from syncbridge.workspace import Workspace

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def open_workspace(ctx: click.Context) -> Workspace:
    root = ctx.find_root()
    path = (root.obj or {}).get("config_path")
    workspace = Workspace.load(path)
    ctx.call_on_close(workspace.close)
    return workspace


def handle_errors(command: F) -> F:
    """Turn syncbridge's own errors into a message and the documented exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as error:
            errors.print(f"[red]config error:[/red] {escape(str(error))}", markup=True)
            sys.exit(EXIT_USAGE)
        except LeaseBusy as error:
            errors.print(f"[yellow]busy:[/yellow] {escape(str(error))}", markup=True)
            sys.exit(EXIT_FAILURES)
        except (ConnectorError, SyncbridgeError) as error:
            errors.print(f"[red]error:[/red] {escape(str(error))}", markup=True)
            sys.exit(EXIT_FAILURES)

    return wrapper  # type: ignore[return-value]
