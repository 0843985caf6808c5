"""Whether a reason a person will read is one readable line: what the fault check asks of them.

A reason (a report row's, an entity's "stopped: ..." message, a line a run prints) is read
by someone deciding what to do. It must be one line, say something, and carry none of what
only a program could want: markup from an error page, a traceback, a credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["LONGEST_REASON", "is_traceback", "unreadable"]

#: a reason longer than this is a pasted body, not a sentence
LONGEST_REASON = 400

_HTML = re.compile(
    r"<\s*(!doctype|html|head|body|title|meta|center|h[1-6]|p|div|span|hr|br|script)\b|"
    r"</\s*[a-z][a-z0-9]*\s*>|&(nbsp|rsquo|lsquo|amp|lt|gt|quot|#\d+);",
    re.IGNORECASE,
)
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*File \"[^\"]+\", line \d+", re.M)


def is_traceback(text: str) -> bool:
    """Whether ``text`` holds a Python traceback (or a frame of one)."""
    return bool(_TRACEBACK.search(text))


def _quoted(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def unreadable(text: str, secrets: Iterable[str] = (), *, empty_ok: bool = False) -> str | None:
    """Why ``text`` is not one readable line, or None when it is.

    ``secrets`` are values that must never be shown (a connection's secret settings).
    """
    stripped = text.strip()
    if not stripped:
        return None if empty_ok else "says nothing (empty)"
    if is_traceback(stripped):
        return f"holds a traceback: {_quoted(stripped)}"
    leaked = [secret for secret in secrets if secret and secret in text]
    if leaked:
        masked = stripped
        for secret in leaked:
            masked = masked.replace(secret, "***")
        return f"shows a secret of the settings (masked here): {_quoted(masked)}"
    if _HTML.search(stripped):
        return f"holds HTML: {_quoted(stripped)}"
    lines = stripped.count("\n") + 1
    if lines > 1:
        return f"spans {lines} lines: {_quoted(stripped)}"
    if len(stripped) > LONGEST_REASON:
        return f"is {len(stripped)} characters long: {_quoted(stripped)}"
    return None
