"""Reading request input, and the one exception handlers raise to reject it.

A handler that finds bad input raises :class:`BadRequest`; the emulator turns it into the
system's own error body through :meth:`Emulator.error`, so handlers never build error responses
for malformed queries or bodies by hand, and every error of one emulator looks the same.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request


class BadRequest(Exception):
    """Reject the request with ``status`` (400 by default) and ``message``.

    :param details: system-specific extras (field errors, error codes) that an emulator's
        :meth:`~syncbridge.emulator.base.Emulator.error` may put in its body.
    """

    def __init__(self, message: str, status: int = 400, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = details


def query_int(
    request: Request,
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    clamp: bool = False,
) -> int:
    """The integer query parameter ``name``, or ``default`` when absent.

    Outside ``[minimum, maximum]`` it is clamped into range when ``clamp`` (what many APIs do
    with an oversized page size), else rejected with :class:`BadRequest`.
    """
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, not {raw!r}", param=name) from None
    if minimum is not None and value < minimum:
        if not clamp:
            raise BadRequest(f"{name} must be at least {minimum}", param=name)
        value = minimum
    if maximum is not None and value > maximum:
        if not clamp:
            raise BadRequest(f"{name} must be at most {maximum}", param=name)
        value = maximum
    return value


async def read_json(request: Request) -> Any:
    """The request's JSON body; :class:`BadRequest` when it is empty or malformed."""
    body = await request.body()
    if not body.strip():
        raise BadRequest("the request body is empty; a JSON document was expected")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"malformed JSON: {error}") from None


async def read_object(request: Request) -> dict[str, Any]:
    """The request's JSON body, which must be an object."""
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest(f"a JSON object was expected, not {type(data).__name__}")
    return data
