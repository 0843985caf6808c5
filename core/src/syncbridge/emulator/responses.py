"""JSON responses rendered with orjson.

orjson is fast (emulators serve benchmarks too) and renders datetimes as RFC 3339. Decimals are
rendered as JSON numbers, as the emulated APIs send money; sets become lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson
from starlette.background import BackgroundTask
from starlette.responses import Response


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def dumps(data: Any) -> bytes:
    """``data`` as JSON bytes, the way every emulator response renders it."""
    return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)


class JSONResponse(Response):
    """A Starlette response whose body is ``data`` rendered by :func:`dumps`."""

    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content, status_code, headers, media_type, background)

    def render(self, content: Any) -> bytes:
        return dumps(content)


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """Answer with ``data`` as JSON."""
    return JSONResponse(data, status_code=status, headers=headers)
