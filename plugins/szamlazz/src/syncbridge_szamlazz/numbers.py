"""The account's document numbers: ``[E-]<prefix>-<year>-<n>`` and ``D-<prefix>-<year>-<n>``.

Hungarian invoices are numbered in an unbroken sequence per prefix and year, and the Agent
issues them so: ``SBT-2026-1``, ``SBT-2026-2``... (``E-`` in front for e-invoices; a storno
invoice takes the next number of the same sequence). Proformas (díjbekérő) have their own
sequence with a ``D-`` in front; deleting one leaves a gap. Since the Agent cannot list
documents, the connector reads them by walking these sequences (:mod:`.reads`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["invoice", "proforma"]


@dataclass(frozen=True)
class Sequence:
    """One numbering sequence: the text before ``-<year>-<n>``."""

    head: str

    def number(self, year: int, n: int) -> str:
        return f"{self.head}-{year}-{n}"


def sequence(kind: Kind, prefix: str, e_invoice: bool) -> Sequence:
    """The sequence documents of ``kind`` take under ``prefix``."""
    if kind == "proforma":
        return Sequence(f"D-{prefix}")
    return Sequence(f"E-{prefix}" if e_invoice else prefix)

