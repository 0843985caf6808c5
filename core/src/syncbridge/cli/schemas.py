"""The shapes of ``--json`` output, as JSON Schemas: the contract scripts rely on.

Every ``--json`` document has a JSON Schema, shown with its command in the CLI reference;
syncbridge's tests validate real output against these same schemas, so they cannot drift.

Versioning: the shapes are at version 1. Within a version, keys are only ever added (a
script must ignore keys it does not know); removing or renaming a key, or changing what a
value means, makes a new version. The object documents (``run``, ``plan``, ``check`` and the
error document) carry it as ``"version"``; the list documents of ``status``, ``report``,
``log``, ``connectors``, ``held`` and ``lines list`` are version 1 and say so in their
schema's ``$id``.

Results go to stdout, everything else (progress, warnings, errors) to stderr. When a
command run with ``--json`` fails, stdout holds the error document, so a script always has
JSON to parse, and the exit code says what kind of failure it was.
"""

from __future__ import annotations

from typing import Any

VERSION = 1

_BASE = "https://syncbridge.dev/schemas"

Schema = dict[str, Any]

_TEXT_OR_NULL: Schema = {"type": ["string", "null"]}
_COUNTS: Schema = {
    "type": "object",
    "description": "records per outcome (created, updated, linked, failed, ...); "
    "outcomes with no record are left out",
    "additionalProperties": {"type": "integer", "minimum": 0},
}


def _document(name: str, title: str, body: Schema) -> Schema:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_BASE}/{name}.v{VERSION}.json",
        "title": title,
        **body,
    }


def _versioned(properties: Schema, required: list[str]) -> Schema:
    return {
        "type": "object",
        "properties": {"version": {"const": VERSION}, **properties},
        "required": ["version", *required],
    }


def _rows(item: Schema) -> Schema:
    return {"type": "array", "items": item}


_ENTITY_RESULT: Schema = {
    "type": "object",
    "properties": {
        "entity": {"type": "string"},
        "result": {
            "enum": ["ok", "failed", "error", "running", "killed"],
            "description": "ok; failed (some records failed, see the report); error (the "
            "entity stopped, see message)",
        },
        "message": {**_TEXT_OR_NULL, "description": "why the entity stopped (result error)"},
        "counts": _COUNTS,
    },
    "required": ["entity", "result", "message", "counts"],
}

_RUN: Schema = {
    "type": "object",
    "properties": {
        "run": {"type": "integer", "description": "run id: `syncbridge report RUN`"},
        "sync": {"type": "string"},
        "mode": {"enum": ["run", "plan"]},
        "status": {"enum": ["ok", "failed"]},
        "entities": _rows(_ENTITY_RESULT),
    },
    "required": ["run", "sync", "mode", "status", "entities"],
}

#: ``syncbridge run --json`` and ``syncbridge plan --json``
RUN = _document(
    "run",
    "syncbridge run / plan --json",
    _versioned(
        {
            "ok": {"type": "boolean", "description": "false when the exit code is 1"},
            "runs": {
                **_rows(_RUN),
                "description": "one per sync, in the order they ran (a sync whose lines "
                "run between another sync's lines, by their `after`, runs more than once)",
            },
        },
        ["ok", "runs"],
    ),
)

#: ``syncbridge check --json``
CHECK = _document(
    "check",
    "syncbridge check --json",
    _versioned(
        {
            "ok": {"type": "boolean", "description": "every connection is ok"},
            "connections": _rows(
                {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "ok": {"type": "boolean"},
                        "reason": {
                            **_TEXT_OR_NULL,
                            "description": "why it is failing, and what to do; on a "
                            "connection that is ok, a caveat (a demo account: read only)",
                        },
                        "account": _TEXT_OR_NULL,
                        "companies": _rows({"type": "object"}),
                        "scopes": _rows({"type": "string"}),
                        "last_access": {
                            **_TEXT_OR_NULL,
                            "description": "ISO 8601 time (UTC) of its latest logged request",
                        },
                    },
                    "required": ["name", "ok", "reason", "account", "companies", "scopes"],
                }
            ),
        },
        ["ok", "connections"],
    ),
)

#: what stdout holds when a command run with ``--json`` fails
ERROR = _document(
    "error",
    "a failed command's --json output",
    _versioned(
        {
            "error": {
                "type": "object",
                "properties": {
                    "kind": {"enum": ["config error", "busy", "error", "interrupted"]},
                    "message": {"type": "string"},
                    "exit_code": {"type": "integer"},
                },
                "required": ["kind", "message", "exit_code"],
            }
        },
        ["error"],
    ),
)

_STATUS_ROW: Schema = {
    "type": "object",
    "properties": {
        "sync": {"type": "string"},
        "entity": {"type": "string"},
        "last_run": {"type": ["integer", "null"]},
        "finished": {**_TEXT_OR_NULL, "description": "ISO 8601, UTC"},
        "result": {"type": "string", "description": "as in run, or \"never run\""},
        "counts": _COUNTS,
        "next_due": {
            "type": "string",
            "description": 'ISO 8601 time, "now" or "manual"',
        },
        "message": _TEXT_OR_NULL,
    },
    "required": ["sync", "entity", "last_run", "finished", "result", "counts",
                 "next_due", "message"],
    "additionalProperties": False,
}

#: a row of ``syncbridge status --tenant T --json``: the fleet schedule's view of one entity
_TENANT_STATUS_ROW: Schema = {
    "type": "object",
    "properties": {
        "sync": {"type": "string"},
        "entity": {"type": "string"},
        "every_seconds": {"type": ["number", "null"], "description": "null: manual"},
        "state": {"enum": ["idle", "queued", "running"]},
        "last_result": {
            **_TEXT_OR_NULL,
            "description": "ok, failed, error, busy; null before the first run",
        },
        "last_run": {"type": ["integer", "null"], "description": "the run id in the "
                     "tenant's store"},
        "last_finished": {**_TEXT_OR_NULL, "description": "ISO 8601, UTC"},
        "lag_seconds": {
            "type": ["number", "null"],
            "description": "seconds since the start of the last run that went well",
        },
        "failures": {"type": "integer", "minimum": 0, "description": "in a row"},
        "error": _TEXT_OR_NULL,
        "next_due": {**_TEXT_OR_NULL, "description": "ISO 8601; null: manual"},
        "counts": _COUNTS,
    },
    "required": ["sync", "entity", "every_seconds", "state", "last_result", "last_run",
                 "last_finished", "lag_seconds", "failures", "error", "next_due", "counts"],
    "additionalProperties": False,
}

#: ``syncbridge status --json``: a row per sync/entity; with ``--tenant``, the fleet's rows
STATUS = _document(
    "status",
    "syncbridge status --json",
    _rows({"oneOf": [_STATUS_ROW, _TENANT_STATUS_ROW]}),
)

#: ``syncbridge tenants --json``
TENANTS = _document(
    "tenants",
    "syncbridge tenants --json",
    _rows(
        {
            "type": "object",
            "properties": {
                "tenant": {"type": "string"},
                "config": {"type": "string", "description": '"ok", or why it does not read'},
                "entities": {"type": "integer", "minimum": 0},
                "failing": {"type": "integer", "minimum": 0},
                "worst_lag_seconds": {"type": ["number", "null"]},
            },
            "required": ["tenant", "config"],
        }
    ),
)

#: ``syncbridge report --json``
REPORT = _document(
    "report",
    "syncbridge report --json",
    _rows(
        {
            "type": "object",
            "properties": {
                "run": {"type": "integer"},
                "entity": {"type": "string"},
                "side": {"enum": ["left", "right"]},
                "record_id": {"type": "string"},
                "target_id": _TEXT_OR_NULL,
                "outcome": {"type": "string"},
                "reason": {"type": "string"},
                "detail": {
                    "type": ["object", "null"],
                    "description": "per field: what was written where, before and after, "
                    "or both values of a conflict",
                },
            },
            "required": ["run", "entity", "side", "record_id", "target_id", "outcome",
                         "reason", "detail"],
        }
    ),
)

#: ``syncbridge log CONNECTION --json``
LOG = _document(
    "log",
    "syncbridge log --json",
    _rows(
        {
            "type": "object",
            "properties": {
                "at": {"type": "string", "description": "ISO 8601, UTC"},
                "method": {"type": "string"},
                "url": {"type": "string", "description": "secrets redacted"},
                "status": {"type": ["integer", "null"]},
                "duration_ms": {"type": "number"},
                "error": _TEXT_OR_NULL,
            },
            "required": ["at", "method", "url", "status", "duration_ms", "error"],
        }
    ),
)

#: ``syncbridge connectors --json``
CONNECTORS = _document(
    "connectors",
    "syncbridge connectors --json",
    _rows(
        {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "distribution": _TEXT_OR_NULL,
                "version": _TEXT_OR_NULL,
                "error": {**_TEXT_OR_NULL, "description": "why it failed to load"},
                "title": {"type": "string"},
                "entities": {
                    "type": "object",
                    "additionalProperties": _rows({"type": "string"}),
                    "description": "entity -> capabilities",
                },
                "unsupported": {"type": "object", "additionalProperties": {"type": "string"}},
                "rate_limits": _rows({"type": "string"}),
            },
            "required": ["name", "distribution", "version", "error"],
        }
    ),
)

#: ``syncbridge held --json``
HELD = _document(
    "held",
    "syncbridge held --json",
    _rows(
        {
            "type": "object",
            "properties": {
                "sync": {"type": "string"},
                "entity": {"type": "string"},
                "side": {"enum": ["left", "right"]},
                "record_id": {"type": "string"},
                "target": {"type": "string", "description": "the connection it was sent to"},
                "since": {"type": "string"},
                "why": {"type": "string"},
            },
            "required": ["sync", "entity", "side", "record_id", "target", "since", "why"],
        }
    ),
)

#: ``syncbridge documents --json``
DOCUMENTS = _document(
    "documents",
    "syncbridge documents --json",
    _rows(
        {
            "type": "object",
            "properties": {
                "entity": {"enum": ["quote", "order", "invoice"]},
                "number": _TEXT_OR_NULL,
                "date": {"type": "string", "format": "date"},
                "total": {"type": "string", "description": "gross, as a decimal string"},
                "currency": {"type": "string"},
                "left_id": _TEXT_OR_NULL,
                "right_id": _TEXT_OR_NULL,
                "where": {"enum": ["both", "left only", "right only"]},
            },
            "required": ["entity", "number", "date", "total", "currency", "left_id",
                         "right_id", "where"],
        }
    ),
)

#: ``syncbridge lines list --json``
LINES = _document(
    "lines",
    "syncbridge lines list --json",
    _rows(
        {
            "type": "object",
            "properties": {
                "line": {"type": "string"},
                "sync": {"type": "string"},
                "entity": {"type": "string"},
                "left": {"type": "string", "description": "the sync's left connection"},
                "right": {"type": "string", "description": "the sync's right connection"},
                "direction": {"enum": ["left-to-right", "right-to-left", "both"]},
                "priority": {"enum": ["left", "right"]},
                "every": {"type": "string", "description": '"10m", "3h", ... or "manual"'},
                "after": {
                    **_rows({"type": "string"}),
                    "description": "the lines this line runs after",
                },
            },
            "required": ["line", "sync", "entity", "left", "right", "direction", "priority",
                         "every", "after"],
        }
    ),
)

#: command -> the schema of its ``--json`` output
SCHEMAS: dict[str, Schema] = {
    "run": RUN,
    "plan": RUN,
    "check": CHECK,
    "status": STATUS,
    "report": REPORT,
    "log": LOG,
    "connectors": CONNECTORS,
    "held": HELD,
    "documents": DOCUMENTS,
    "lines list": LINES,
    "tenants": TENANTS,
}
