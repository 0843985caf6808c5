"""``syncbridge emulate SYSTEM``: serve a system's emulator on 127.0.0.1 until stopped.

The output is meant for people and for scripts alike, and is printed only once the server
accepts connections, so a parent process can wait for it and connect at once:

* plain: one line on stdout, ``listening on URL``;
* with ``--print-settings``: stdout carries the ``[connections.SYSTEM]`` TOML block and
  nothing else, and is closed after it, so ``... --print-settings > conn.toml`` writes a
  valid TOML file and a script reading the pipe to its end has the whole block; the
  ``listening on`` line goes to stderr.
"""

from __future__ import annotations

import os
import sys

import click
from pydantic import ValidationError

from syncbridge.emulator.base import Emulator
from syncbridge.emulator.config import connection_toml
from syncbridge.emulator.loading import load_factory
from syncbridge.emulator.options import CORRUPT_KINDS, EmulatorOptions
from syncbridge.emulator.server import bind, serve, url_of
from syncbridge.errors import ConfigError

_DEFAULTS = EmulatorOptions()


@click.command()
@click.argument("system")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Port on 127.0.0.1 (default: a free one).",
)
@click.option(
    "--records",
    type=click.IntRange(min=0),
    default=_DEFAULTS.records,
    show_default=True,
    help="Records seeded per main resource.",
)
@click.option(
    "--seed",
    type=int,
    default=_DEFAULTS.seed,
    show_default=True,
    help="Seed of the data and of the fault draws.",
)
@click.option(
    "--latency",
    "latency_ms",
    type=click.FloatRange(min=0),
    default=_DEFAULTS.latency_ms,
    metavar="MS",
    help="Delay added to every request.",
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=_DEFAULTS.error_rate,
    metavar="P",
    help="Probability of a 500 per request.",
)
@click.option(
    "--burst-429",
    "burst_429",
    type=click.IntRange(min=0),
    default=_DEFAULTS.burst_429,
    metavar="N",
    help="Answer the first N requests with 429 and Retry-After: 1.",
)
@click.option(
    "--burst-429-after",
    "burst_429_after",
    type=click.IntRange(min=0),
    default=_DEFAULTS.burst_429_after,
    metavar="N",
    help="Let N requests through before the 429 burst starts.",
)
@click.option(
    "--retry-after",
    type=click.FloatRange(min=0),
    default=_DEFAULTS.retry_after,
    show_default=True,
    metavar="S",
    help="The Retry-After of the burst's 429s, in seconds.",
)
@click.option(
    "--corrupt-rate",
    type=click.FloatRange(0, 1),
    default=_DEFAULTS.corrupt_rate,
    metavar="P",
    help="Probability that a handled request's answer is replaced by a corrupt one.",
)
@click.option(
    "--corrupt-kind",
    "corrupt_kinds",
    type=click.Choice(list(CORRUPT_KINDS)),
    multiple=True,
    help="A corrupt answer to draw from (repeatable; default: all of "
    f"{', '.join(CORRUPT_KINDS)}).",
)
@click.option(
    "--drop-rate",
    type=click.FloatRange(0, 1),
    default=_DEFAULTS.drop_rate,
    metavar="P",
    help="Probability that a connection is closed without a response.",
)
@click.option(
    "--drop-mode",
    type=click.Choice(["after", "before"]),
    default=_DEFAULTS.drop_mode,
    show_default=True,
    help="Drop after the API handled the request (response lost) or before.",
)
@click.option(
    "--no-rate-limits", is_flag=True, help="Do not enforce the system's published rate limits."
)
@click.option(
    "--print-settings",
    is_flag=True,
    help="Print the [connections.SYSTEM] TOML block that reaches this emulator.",
)
def emulate(
    system: str,
    port: int,
    records: int,
    seed: int,
    latency_ms: float,
    error_rate: float,
    burst_429: int,
    burst_429_after: int,
    retry_after: float,
    corrupt_rate: float,
    corrupt_kinds: tuple[str, ...],
    drop_rate: float,
    drop_mode: str,
    no_rate_limits: bool,
    print_settings: bool,
) -> None:
    """Serve the emulator of SYSTEM over HTTP until Ctrl+C or SIGTERM.

    SYSTEM is an installed emulator (see the list when the name is unknown) or a factory given
    as package.module:create_app.
    """
    try:
        factory = load_factory(system)
        options = EmulatorOptions(
            records=records,
            seed=seed,
            latency_ms=latency_ms,
            error_rate=error_rate,
            burst_429=burst_429,
            burst_429_after=burst_429_after,
            retry_after=retry_after,
            corrupt_rate=corrupt_rate,
            corrupt_kinds=corrupt_kinds or CORRUPT_KINDS,
            drop_rate=drop_rate,
            drop_mode=drop_mode,
            rate_limits=not no_rate_limits,
        )
    except ValidationError as error:
        raise ConfigError(str(error)) from None
    emulator = factory(options)
    if not isinstance(emulator, Emulator):
        raise ConfigError(f"{system!r} made a {type(emulator).__name__}, not an Emulator")
    try:
        sock = bind(port)
    except OSError as error:
        raise ConfigError(
            f"--port: cannot listen on 127.0.0.1:{port}: {error.strerror}; choose another "
            "port, or 0 for a free one"
        ) from None
    url = url_of(sock)
    if not print_settings:
        serve(emulator.app, sock, on_started=lambda: click.echo(f"listening on {url}"))
        return
    # an installed emulator is named like its connector; a factory path names itself
    name = emulator.system if ":" in system else system
    block = connection_toml(name, name, emulator.settings_for(url))

    def started() -> None:
        click.echo(block, nl=False)
        _close_stdout()
        click.echo(f"listening on {url}", err=True)

    serve(emulator.app, sock, on_started=started)


def _close_stdout() -> None:
    """End stdout after the TOML block: a reader of the pipe gets end-of-file, the sign
    that the block is whole. Only the process's real stdout (file descriptor 1) is closed,
    by pointing it at the null device, so that a stray print later cannot fail."""
    sys.stdout.flush()
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # a test runner's captured stream
        return
    if descriptor != 1:
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)
