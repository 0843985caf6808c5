"""PHP-style query strings: how Bitrix24 reads parameters from a URL and from ``batch`` commands.

Bitrix24 is PHP: ``filter[>=DATE_MODIFY]=...&select[0]=*`` arrives as nested arrays, and each
``batch`` command is ``method?<such a query>``. The bracket syntax is the one qs (JavaScript)
implements; its Python port ``qs-codec`` is used both ways instead of a hand-written parser:
it percent-encodes keys (so an operator such as ``>=`` in ``filter[>=DATE_MODIFY]`` cannot be
mistaken for the key/value separator), writes lists with explicit indices as PHP's
``http_build_query`` does, and decodes nested brackets to any depth we allow.

Two PHP details are applied on top: booleans are written ``1``/``0`` (not ``true``/``false``),
and a repeated plain key keeps its last value.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import qs_codec
from qs_codec import DecodeOptions, Duplicates, EncodeOptions, ListFormat

__all__ = ["decode", "encode"]

_ENCODE = EncodeOptions(list_format=ListFormat.INDICES, skip_nulls=False)
# generous limits: a batch carries 50 commands, a product row list many rows
_DECODE = DecodeOptions(
    list_limit=10_000, depth=12, parameter_limit=100_000, duplicates=Duplicates.LAST
)


def _php_values(value: Any) -> Any:
    """Values as PHP would render them into a query: booleans as 1/0, numbers as text."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(key): _php_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_php_values(item) for item in value]
    return value


def encode(params: Mapping[str, Any]) -> str:
    """``params`` as a PHP-style query string (without the leading ``?``).

    ``None`` becomes an empty value (``fields[PHONE]=``), which is how Bitrix24 clears a field.
    """
    return str(qs_codec.encode(_php_values(dict(params)), _ENCODE))


def decode(query: str) -> dict[str, Any]:
    """A PHP-style query string as nested dicts and lists of strings."""
    decoded = qs_codec.decode(query.lstrip("?"), _DECODE)
    return dict(decoded) if isinstance(decoded, Mapping) else {}
