"""Serving an ASGI app over real HTTP on 127.0.0.1, in a background thread or in the foreground.

Tests, the demo and benchmarks use :func:`running` to start an emulator on a free port and
get its base URL; ``syncbridge emulate`` uses :func:`serve`, the same server in the foreground.

Both run uvicorn with :class:`EmulatorProtocol`, its h11 protocol taught one extra thing: when
the app raises :class:`~syncbridge.emulator.faults.DropConnection`, the connection is aborted
with nothing written, which is how fault injection drops connections for real. The listening
socket is bound before the server starts, so a port chosen by the OS (port 0) is never raced
for by another process between choosing and binding.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from syncbridge.emulator.faults import DropConnection

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def bind(port: int = 0) -> socket.socket:
    """A TCP socket bound to 127.0.0.1:``port`` (0: a free port), ready to serve."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every keep-alive request waits ~40 ms for a delayed ACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://127.0.0.1:PORT`` of a bound socket."""
    return f"http://{HOST}:{sock.getsockname()[1]}"


class EmulatorProtocol(H11Protocol):
    """uvicorn's h11 protocol; an app raising DropConnection gets its connection aborted."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inner_app = self.app
        self.app = self._guarded_app

    async def _guarded_app(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self._inner_app(scope, receive, send)
        except DropConnection:
            self.transport.abort()
            # let the transport report the loss first, so uvicorn sees a disconnected cycle
            # and does not try to answer with a 500 of its own
            await asyncio.sleep(0)


def _config(app: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http=EmulatorProtocol,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=5,
    )


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the thread is not the main thread
        return None


@contextmanager
def running(app: Any, port: int = 0, *, startup_timeout: float = 10.0) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 for the ``with`` block; yields ``http://127.0.0.1:PORT``."""
    sock = bind(port)
    url = url_of(sock)
    server = _Server(_config(app))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"emulator-{url}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {url} did not start")
            time.sleep(0.01)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class _ForegroundServer(uvicorn.Server):
    """Stops on SIGINT/SIGTERM and returns normally (uvicorn re-raises the signal instead)."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._on_started is not None:
            self._on_started()

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(app: Any, sock: socket.socket, *, on_started: Callable[[], None] | None = None) -> None:
    """Serve ``app`` on ``sock`` (from :func:`bind`) until SIGINT or SIGTERM, then return.

    Call from the main thread. ``on_started`` runs once the server accepts connections: the
    moment to tell a waiting parent process where to connect.
    """
    try:
        _ForegroundServer(_config(app), on_started).run(sockets=[sock])
    finally:
        sock.close()
