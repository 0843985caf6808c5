"""What a method handler returns, and the one exception it raises to refuse a call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    """A method's ``result``; list methods add ``total`` and, when more follow, ``next``."""

    result: Any
    total: int | None = None
    next: int | None = None


class MethodError(Exception):
    """Refuse the call: ``{"error": code, "error_description": description}`` with ``status``.

    Inside ``batch`` the same error becomes that command's ``result_error`` entry.
    CRM validation errors carry an empty ``code`` and HTTP 400, as the real portal's do.
    """

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status


#: a method: its parameters (top-level names lower-cased) in, its reply out
Handler = Callable[[dict[str, Any]], Reply]
