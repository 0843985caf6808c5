"""What every command shares: opening the workspace, the error boundary, exit codes, output.

Every command runs inside one error boundary, :func:`boundary`, which the ``syncbridge``
group wraps around whichever command runs, so no command can forget it. A failure ends the
command with one or two sentences on stderr that name what failed (a connection and its
URL, the state store, an entity, a record, a file) and what to do, and the documented exit
code. Tracebacks are for developers: ``--debug`` (or ``SYNCBRIDGE_DEBUG=1``) lets the
exception through unchanged.

Output goes where a script expects it: results (tables, JSON) on stdout, everything else
(progress, warnings, errors) on stderr, so ``syncbridge run --json > out.json`` holds JSON
alone.
"""

from __future__ import annotations

import signal
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from types import FrameType
from typing import Any

import click
import httpx
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from syncbridge.errors import ConfigError, LeaseBusy, SyncbridgeError
from syncbridge.http.client import origin
from syncbridge.http.requestlog import looks_secret, redact_text
from syncbridge.workspace import Workspace

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
#: the shell's code for a process stopped by SIGINT (128 + 2)
EXIT_INTERRUPTED = 130

#: environment variable that turns on --debug
DEBUG_ENV = "SYNCBRIDGE_DEBUG"

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def open_workspace(ctx: click.Context) -> Workspace:
    """The workspace of the config given with ``-c`` (default ./syncbridge.toml), closed
    with the command; kept on the root context so the error boundary can mask the secrets
    of its connections in a message it did not expect."""
    root = ctx.find_root()
    path = (root.obj or {}).get("config_path")
    workspace = Workspace.load(path)
    ctx.call_on_close(workspace.close)
    if isinstance(root.obj, dict):
        root.obj["workspace"] = workspace
    return workspace


def debugging(ctx: click.Context) -> bool:
    return bool((ctx.find_root().obj or {}).get("debug"))


def explain(error: BaseException, secrets: set[str] | None = None) -> tuple[str, str, int]:
    """(label, sentence, exit code) of a failure, as the error boundary prints it.

    syncbridge's own errors already are the sentence. Errors from libraries are turned into
    one here, never with what could hold a secret: no SQL parameters (a credential row's
    tokens), no URL beyond its origin (a webhook URL's path is its secret).
    """
    if isinstance(error, ConfigError):
        return "config error", str(error), EXIT_USAGE
    if isinstance(error, LeaseBusy):
        return "busy", str(error), EXIT_FAILURES
    if isinstance(error, SyncbridgeError):
        return "error", str(error), EXIT_FAILURES
    if isinstance(error, httpx.HTTPStatusError):
        where = origin(error.request.url)
        return (
            "error",
            f"{where} answered HTTP {error.response.status_code} to {error.request.method}; "
            "`syncbridge log` shows the connection's last requests",
            EXIT_FAILURES,
        )
    if isinstance(error, httpx.HTTPError):
        # the connection's client words transport errors itself (syncbridge.http.client);
        # any other quoting a URL gets its origin only: a webhook's path is its secret
        text = str(error)
        with suppress(RuntimeError):  # an error raised without its request
            text = text.replace(str(error.request.url), origin(error.request.url))
        text = redact_text(text, secrets or ())
        return "error", f"{type(error).__name__}: {text}", EXIT_FAILURES
    if isinstance(error, SQLAlchemyError):
        cause = error.orig if isinstance(error, DBAPIError) else error
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        return (
            "error",
            f"a database operation failed: {redact_text(first, secrets or ())}; check that "
            "the database server is running and that `syncbridge check` is green",
            EXIT_FAILURES,
        )
    if isinstance(error, ValidationError):
        from syncbridge.engine.mapin import describe_error

        return (
            "error",
            f"invalid {error.title} data: {redact_text(describe_error(error), secrets or ())}",
            EXIT_FAILURES,
        )
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return "error", f"{error.strerror}{where}", EXIT_FAILURES
    if isinstance(error, KeyboardInterrupt):
        return "interrupted", "stopped by Ctrl+C", EXIT_INTERRUPTED
    frames = traceback.extract_tb(error.__traceback__)
    where = f" in {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    text = redact_text(str(error), secrets or ())
    return (
        "error",
        f"unexpected {type(error).__name__}{where}: {text}; this is a bug: run the command "
        "again with --debug and report the traceback",
        EXIT_FAILURES,
    )


def _secrets(ctx: click.Context) -> set[str]:
    workspace = (ctx.find_root().obj or {}).get("workspace")
    return secrets_in(workspace) if isinstance(workspace, Workspace) else set()


def secrets_in(workspace: Workspace) -> set[str]:
    """The secret settings of every connection of the config, to mask in a message nobody
    worded on purpose: the fields its connector declares secret (a Bitrix24 webhook URL),
    and any whose name looks secret (also when the connector does not load)."""
    found: set[str] = set()
    for spec in workspace.config.connections.values():
        declared = _declared_secrets(spec.connector)
        for key, value in spec.settings.items():
            if key in declared and isinstance(value, str):
                found.add(value)
        found |= _secret_values(spec.settings)
    return found


@cache
def _declared_secrets(connector: str) -> frozenset[str]:
    """Names of the settings ``connector`` types as secrets (``SecretStr``)."""
    from syncbridge.plugins import describe_plugin, load_connector

    try:
        model = describe_plugin(load_connector(connector)).settings
    except Exception:  # an unknown or broken connector: the key names have to do
        return frozenset()
    return frozenset(
        name
        for name, field in model.model_fields.items()
        if "Secret" in str(field.annotation)
    )


def _secret_values(value: Any, key: str = "") -> set[str]:
    if isinstance(value, dict):
        return {s for name, item in value.items() for s in _secret_values(item, str(name))}
    if isinstance(value, list):
        return {s for item in value for s in _secret_values(item, key)}
    if isinstance(value, str) and key and looks_secret(key):
        return {value}
    return set()


@contextmanager
def boundary(ctx: click.Context) -> Iterator[None]:
    """Run a command: a failure becomes a sentence on stderr and its exit code.

    click's own exits pass through (``ctx.exit``, usage errors, ``--help``), as does
    everything under ``--debug``.
    """
    try:
        yield
    except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
        raise
    except (Exception, KeyboardInterrupt) as error:
        if debugging(ctx):
            raise
        label, sentence, code = explain(error, _secrets(ctx))
        colour = "yellow" if label in ("busy", "interrupted") else "red"
        errors.print(f"[{colour}]{label}:[/{colour}] {escape(sentence)}", markup=True)
        if (ctx.find_root().obj or {}).get("json"):
            from syncbridge.cli.schemas import VERSION

            emit_json(
                {
                    "version": VERSION,
                    "error": {"kind": label, "message": sentence, "exit_code": code},
                }
            )
        raise click.exceptions.Exit(code) from None


def json_output(ctx: click.Context, as_json: bool) -> bool:
    """Note that the command answers in JSON, so that a failure does too; returns
    ``as_json``."""
    root = ctx.find_root()
    if as_json and isinstance(root.obj, dict):
        root.obj["json"] = True
    return as_json


def say(text: str) -> None:
    """A line for the person watching, not for a script: to stderr, plain text."""
    errors.print(text, markup=False)


def emit_json(document: Any) -> None:
    """A ``--json`` document on stdout (see :mod:`syncbridge.cli.schemas`)."""
    import json

    click.echo(json.dumps(document, indent=2, default=str))


def for_option(function: Any) -> Any:
    """``--for SECONDS`` of a command that serves until stopped (daemon, scheduler)."""
    return click.option(
        "--for",
        "seconds",
        type=float,
        default=None,
        help="Stop after this many seconds (default: until stopped).",
    )(function)


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT: a serving command stops at its next turn instead of
    dying in the middle of one."""
    stop = threading.Event()

    def stop_now(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stop_now)
    signal.signal(signal.SIGINT, stop_now)
    return stop
