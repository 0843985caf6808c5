"""Mapping pages in a second process while this one fetches and stores them.

A long read is bound by one interpreter's CPU: decoding pages, validating every record into
its canonical model (VAT and tax-code checks included) and storing snapshots all hold the
GIL, while the machine's other cores idle. Mapping is a pure function of a native record,
so a forked child can map page k while the parent fetches page k+1 and stores page k-1.

Only on Linux with a second core, and only for a read with thousands of records still to
come: the fork takes milliseconds, but after it both processes copy each memory page they
write to, tens of milliseconds in all. Anywhere else pages are mapped inline, with the same
results. A child that dies is not fatal: the pages it owed are mapped inline and the read
goes on.

The child inherits the connection as it is (connector, extensions, settings) and uses
nothing of it but ``map``. A page crosses as plain data: its records and their context
(``Page.context``, JSON values by native id), which is all ``map`` is given besides the
settings. It does not store what it maps: tried, a child opening the state store hung for
good in ``sqlite3.connect``, on a mutex of SQLite's own that the parent's fetching thread
(reading a SQL source) held at the moment of the fork. Even without that,
SQLite's lock bookkeeping for a file is process-wide and the fork copies the parent's, while
the parent has the state file open: SQLite's own advice (howtocorrupt, section 2.6) is to
use nothing in a child that the parent had open.

It is forked bare (``os.fork``, not ``multiprocessing``) and leaves with ``os._exit``: it
never touches the parent's sockets, state store or output streams, so no lock another
thread of the parent held at the fork (a progress bar's, an HTTP pool's, SQLite's) is ever
waited on in it, and nothing it inherited is closed or flushed twice.
"""

from __future__ import annotations

import gc
import marshal
import os
import pickle
import signal
import sys
import threading
import time
import warnings
from contextlib import suppress
from multiprocessing import Pipe
from multiprocessing.connection import Connection as PipeEnd
from typing import Any

from syncbridge.connection import Connection
from syncbridge.engine.mapin import Mapped, map_records
from syncbridge.errors import ConnectorError
from syncbridge.records import Context

#: records still to come for a worker to pay off (reference counts make both processes
#: write to, and so copy, most memory pages they touch after the fork)
WORTH_IT = 4000

#: records mapped inline after which a read whose size is unknown counts as long
LONG_READ = 5000


def worth_it(mapped: int, expected: int | None) -> bool:
    """Whether to fork a worker for a read that has mapped ``mapped`` records so far, of
    ``expected`` (when the API told)."""
    if expected is not None:
        return expected - mapped >= WORTH_IT
    return mapped >= LONG_READ


#: pages waiting for the worker beyond which the next page is mapped in the parent
BACKLOG = 4


def _pack(value: Any) -> bytes:
    """``value`` for the pipe: marshal where it can (plain JSON-like data: decoded pages,
    snapshot rows), pickle for the rest.

    marshal writes such data in well under half pickle's time (a page of API records: 0.45
    against 1.06 us a record), and the fetching thread pays it for every page it hands on.
    It takes exact built-in types only and refuses anything else (a ``datetime`` from a SQL
    source, a dict subclass), which then goes by pickle. Both ends are one interpreter, so
    marshal's version-specific format is safe here.
    """
    try:
        return b"m" + marshal.dumps(value)
    except ValueError:
        return b"p" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _unpack(data: bytes) -> Any:
    body = memoryview(data)[1:]
    return marshal.loads(body) if data[:1] == b"m" else pickle.loads(body)


class WorkerGone(Exception):
    """The child stopped answering (killed, out of memory): map the rest inline."""


def available() -> bool:
    """Whether a mapping worker may be forked here (and has a core of its own to run on)."""
    return sys.platform == "linux" and len(os.sched_getaffinity(0)) > 1


class MapWorker:
    """One forked child mapping the pages of one read, in the order they are submitted.

    ``submit`` may be called from another thread than ``result`` (the fetching thread sends
    each page as soon as it has it); results come back in submission order.
    """

    def __init__(self, connection: Connection, entity: str) -> None:
        self._pipe, child = Pipe(duplex=True)
        with warnings.catch_warnings():
            # Python 3.12+ warns of forking beside other threads: the child runs none of
            # their code and takes none of their locks (see the module docstring)
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child
            try:
                # the parent's handlers (a daemon's graceful stop) are not the child's to run:
                # it just ends, and the parent maps what it owed
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                self._pipe.close()
                _serve(child, connection, entity)
            finally:
                os._exit(0)
        self._pid = pid
        child.close()
        self._send_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._waiting = 0

    @property
    def backlog(self) -> int:
        """Pages submitted and not answered yet."""
        return self._waiting

    def submit(self, records: list[dict[str, Any]], context: dict[str, Context]) -> bool:
        """Send a page (its records and their context) to the child; False if it cannot
        take it (gone, or the records do not pickle), and the page is then the caller's to
        map."""
        try:
            data = _pack((records, context))
        except Exception:
            return False
        try:
            with self._send_lock:
                self._pipe.send_bytes(data)
        except OSError:  # a dead child's end is closed
            return False
        with self._count_lock:
            self._waiting += 1
        return True

    def result(self) -> Any:
        """The next page's :class:`~syncbridge.engine.mapin.Mapped`, or its error raised."""
        try:
            kind, payload = _unpack(self._pipe.recv_bytes())
        except (EOFError, OSError) as error:
            raise WorkerGone(str(error) or "the mapping worker is gone") from None
        with self._count_lock:
            self._waiting -= 1
        if kind == "error":
            raise payload
        return Mapped(*payload)

    def close(self) -> None:
        """Tell the child to finish and reap it (killed if it does not finish in 5 s)."""
        with suppress(OSError), self._send_lock:  # a dead child's end is closed already
            self._pipe.send_bytes(b"")
        deadline = time.monotonic() + 5
        with suppress(ChildProcessError):  # reaped already (killed)
            while os.waitpid(self._pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:
                    self.kill()
                    break
                time.sleep(0.005)
        self._pipe.close()

    def kill(self) -> None:
        """End the child at once (also for tests of a worker that dies mid-read)."""
        with suppress(ChildProcessError, ProcessLookupError):  # reaped already
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)


def _serve(pipe: PipeEnd, connection: Connection, entity: str) -> None:
    # mapping leaves no reference cycles worth a collection, and the child lives for one
    # read: without the collector it spends its time on the records alone
    gc.disable()

    while True:
        try:
            data = pipe.recv_bytes()
        except (EOFError, OSError):
            return
        if not data:
            return
        reply: tuple[str, Any]
        try:
            records, context = _unpack(data)
            reply = ("ok", map_records(connection, entity, records, context).parts())
        except BaseException as error:
            reply = ("error", error)
        try:
            payload = _pack(reply)
        except Exception:  # an exception that does not pickle: its text does
            failed = reply[1]
            payload = _pack(("error", ConnectorError(f"{type(failed).__name__}: {failed}")))
        pipe.send_bytes(payload)
