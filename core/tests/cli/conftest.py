"""Helpers for reading what the CLI prints."""

from __future__ import annotations

from collections.abc import Callable

import pytest

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
