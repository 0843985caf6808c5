"""The ``batch`` method: up to 50 method calls in one request, each failing on its own.

A command is ``method?<PHP-style query>``; a later command may use an earlier one's result as
``$result[key][field]...``. The answer maps each key to its result or to its error, so one
rejected record never hides the others' outcome. The whole request counts once against the
portal's leaky bucket, which is why every write goes through here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncbridge.http import Client
from syncbridge_bitrix24 import phpquery, rest

#: the most commands one batch may carry (``ERROR_BATCH_LENGTH_EXCEEDED`` above it)
MAX_COMMANDS = 50


@dataclass(frozen=True)
class Command:
    """One call inside a batch, under a key unique in the batch."""

    key: str
    method: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        query = phpquery.encode(self.params)
        return f"{self.method}?{query}" if query else self.method


@dataclass
class Outcome:
    """What the portal answered for each command of a batch."""

    results: dict[str, Any] = field(default_factory=dict)
    #: key -> the error's message: ``error_description`` verbatim, else the error code
    errors: dict[str, str] = field(default_factory=dict)
    nexts: dict[str, int] = field(default_factory=dict)

    def error_of(self, key: str) -> str | None:
        if key in self.errors:
            return self.errors[key]
        if key not in self.results:
            return "the portal returned no result for this command"
        return None


def reference(key: str, *path: str) -> str:
    """``$result[key][a][b]``: an earlier command's result inside a later command."""
    return f"$result[{key}]" + "".join(f"[{part}]" for part in path)


def run(client: Client, commands: Sequence[Command]) -> Outcome:
    """Send ``commands`` as one batch with ``halt=0`` and sort the answer by key."""
    if not commands:
        return Outcome()
    if len(commands) > MAX_COMMANDS:
        raise ValueError(f"a batch carries at most {MAX_COMMANDS} commands, not {len(commands)}")
    keys = [command.key for command in commands]
    if len(set(keys)) != len(keys):
        raise ValueError("batch command keys must be unique")
    body = {"halt": 0, "cmd": {command.key: command.render() for command in commands}}
    reply = rest.call(client, "batch", body, post=True)
    payload = reply.result if isinstance(reply.result, dict) else {}
    outcome = Outcome(results=_keyed(payload.get("result")))
    for key, error in _keyed(payload.get("result_error")).items():
        if isinstance(error, dict):
            description = str(error.get("error_description") or "").strip()
            outcome.errors[key] = description or str(error.get("error") or "unknown error")
        else:
            outcome.errors[key] = str(error)
    for key, value in _keyed(payload.get("result_next")).items():
        try:
            outcome.nexts[key] = int(value)
        except (TypeError, ValueError):
            continue
    return outcome


def _keyed(value: Any) -> dict[str, Any]:
    """A per-key map of the answer; PHP writes an empty one as ``[]``."""
    if isinstance(value, dict):
        return {str(key): item for key, item in value.items()}
    return {}
