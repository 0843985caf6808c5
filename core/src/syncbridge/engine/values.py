"""Normalising values for matching and comparing, and the keys derived from them."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

import orjson


def normalize(value: Any) -> str | None:
    """The form two values must share to be "the same" for matching.

    Case-folded, accents kept, inner whitespace collapsed, trimmed; empty means missing.
    VAT numbers and tax codes are already in normal form (the canonical models see to it).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        value = orjson.dumps(value).decode() if isinstance(value, (list, dict)) else str(value)
    if not value.isascii():  # ASCII is already in NFC
        value = unicodedata.normalize("NFC", value)
    # split() without arguments splits on the same whitespace as \s+ and drops the ends
    text = " ".join(value.split()).casefold()
    return text or None


def match_value(content: dict[str, Any], fields: list[str]) -> str | None:
    """The hashed match key of ``content`` for one key tuple, None if any part is missing."""
    parts = []
    for field in fields:
        part = normalize(content.get(field))
        if part is None:
            return None
        parts.append(part)
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def idempotency_key(sync: str, entity: str, source_side: str, source_id: str, run: int) -> str:
    """One per create: its source record and the run that first sends it.

    A create interrupted by a crash is settled through its outbox row, which keeps the key,
    so it is never sent again under another one. But the same source record may rightly be
    created twice: deleted, its twin kept, then restored with its old id and linked to
    nothing. A key stable per record would make the target's idempotency (a key column, an
    external id) hand back the first create's record, already linked to another.
    """
    digest = hashlib.blake2b(
        f"{sync}\x1f{entity}\x1f{source_side}\x1f{source_id}\x1f{run}".encode(), digest_size=12
    ).hexdigest()
    return f"sb-{digest}"


def matches_filter(content: dict[str, Any], filter_: dict[str, Any]) -> bool:
    """Whether ``content`` passes the entity's filter (a list means any of its values)."""
    for field, wanted in filter_.items():
        options = wanted if isinstance(wanted, list) else [wanted]
        if normalize(content.get(field)) not in {normalize(option) for option in options}:
            return False
    return True
