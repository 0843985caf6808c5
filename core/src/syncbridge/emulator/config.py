"""Rendering a ``[connections.NAME]`` block of ``syncbridge.toml`` for an emulator.

``syncbridge emulate --print-settings`` and the demo both hand a person (or a config file) the
exact settings that reach a running emulator; this writes them as valid TOML without needing a
TOML writer dependency for a handful of scalar values.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_value(key)


def toml_value(value: Any) -> str:
    """A TOML literal for a string, number, boolean, list or (inline) table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # JSON's string escapes are TOML's, except that TOML also wants DEL escaped
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, Mapping):
        pairs = (f"{toml_key(str(key))} = {toml_value(item)}" for key, item in value.items())
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def connection_toml(name: str, connector: str, settings: Mapping[str, Any]) -> str:
    """``[connections.NAME]`` with its connector and ``settings`` table, ending in a newline."""
    section = f"connections.{toml_key(name)}"
    lines = [f"[{section}]", f"connector = {toml_value(connector)}", f"[{section}.settings]"]
    lines += [f"{toml_key(key)} = {toml_value(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"
