"""The ``batch`` method: up to 50 method calls in one request, each failing on its own.

A command is ``method?<PHP-style query>``; a later command may use an earlier one's result as
``$result[key][field]...``. The answer maps each key to its result or to its error, so one
rejected record never hides the others' outcome. The whole request counts once against the
portal's leaky bucket, which is why every write goes through here.

When the whole batch fails (the portal refuses it, ``INTERNAL_SERVER_ERROR``, no answer, an
answer that cannot be read), :func:`run` raises what :func:`~syncbridge_bitrix24.api.send_batch`
raises for a batch of writes: the caller fails each of its records with it, never the entity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncbridge.http import Client
from syncbridge.rest import one_line
from syncbridge_bitrix24 import api, phpquery

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


def run(client: Client, commands: Sequence[Command], *, read: bool = False) -> Outcome:
    """Send ``commands`` as one batch with ``halt=0`` and sort the answer by key.

    ``read``: the commands only read, so the batch is read like a list page (asked for again
    when its answer cannot be used, a ConnectorError when it keeps failing). Otherwise it
    raises :class:`~syncbridge_bitrix24.api.BatchRefused` or
    :class:`~syncbridge.rest.OutcomeUnknown` when the batch failed as a whole.
    """
    if not commands:
        return Outcome()
    if len(commands) > MAX_COMMANDS:
        raise ValueError(f"a batch carries at most {MAX_COMMANDS} commands, not {len(commands)}")
    keys = [command.key for command in commands]
    if len(set(keys)) != len(keys):
        raise ValueError("batch command keys must be unique")
    body = {"halt": 0, "cmd": {command.key: command.render() for command in commands}}
    reply = api.call(client, "batch", body, post=True) if read else api.send_batch(client, body)
    payload = reply.result if isinstance(reply.result, dict) else {}
    outcome = Outcome(results=_keyed(payload.get("result")))
    for key, error in _keyed(payload.get("result_error")).items():
        if isinstance(error, dict):
            description = one_line(str(error.get("error_description") or ""))
            outcome.errors[key] = description or one_line(str(error.get("error") or "")) or (
                "unknown error"
            )
        else:
            outcome.errors[key] = one_line(str(error))
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
