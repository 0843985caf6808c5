"""Helpers for reading what the CLI prints, and the systems CLI tests talk to.

Systems are real: the installed connectors' emulators served over HTTP on 127.0.0.1, a
port nothing listens on for a server that is down, SQLite files and the PostgreSQL test
server for the state store.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).parent
# helper modules beside the tests (emulated systems, an extension plugin) import by their
# plain name
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

Rows = list[list[str]]


def parse_table(text: str) -> Rows:
    """The body rows of a rich table as cells; a wrapped cell's lines are joined by a space.

    A row starts at a line whose first cell is not empty; later lines of the same row (their
    first cell empty) continue its cells.
    """
    rows: list[list[list[str]]] = []
    in_body = False
    for line in text.splitlines():
        if line.startswith("┡"):
            in_body = True
            continue
        if line.startswith("└"):
            in_body = False
        if not in_body or not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if cells[0] or not rows:
            rows.append([[] for _ in cells])
        for parts, cell in zip(rows[-1], cells, strict=True):
            if cell:
                parts.append(cell)
    return [[" ".join(parts) for parts in row] for row in rows]


@pytest.fixture
def table_rows() -> Callable[[str], Rows]:
    return parse_table


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
