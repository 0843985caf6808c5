"""Checking recorded exchanges with the Dinero emulator against the official ``openapi.json``.

jsonschema (Draft 2020-12, the dialect of OpenAPI 3.1) validates, per exchange:

* that the operation (method and path template) is in the spec;
* every JSON response of a documented status against its schema. Listings asked for
  ``fields`` hold only those properties, keyed the way they were asked for (the spec's own
  words: "the property name will be returned the way you request it"), so such rows are
  matched case-insensitively onto the model's properties and checked without its
  ``required`` list; any other key is a violation;
* every request the emulator accepted (status < 300): its query parameters' types, and its
  JSON body as Dinero binds it (names matched case-insensitively, unknown or read-only names
  dropped: README "More facts"), against the request schema, ``required`` included;
* error answers (the spec documents none) against the body the README documents:
  ``{code, message, languageSpecificMessages, validationErrors}``, a 429's text
  ``API calls quota exceeded!``;
* the two webhook listings, whose "200 OK" the spec documents without a body (yet a list of
  events to subscribe to has one), against the shapes the plugin assumes for them
  (:data:`ASSUMED_BODIES`, README "Assumptions" 17-18): any other undocumented body is
  still a violation.

The token endpoint lives at ``authz.dinero.dk``, outside the spec: its exchanges are checked
by the auth tests.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from syncbridge.testing.exchanges import Exchange

URI = "urn:dinero-openapi"
PARTIAL = "__partial"
ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string", "minLength": 1},
        "languageSpecificMessages": {
            "type": "array",
            "items": {"type": "object", "required": ["message"]},
        },
        "validationErrors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


_WEBHOOK_ROW = {"type": "object", "additionalProperties": False}
#: bodies the spec leaves undocumented, as the plugin assumes them: (method, path template)
ASSUMED_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/v1/{organizationId}/webhooks/events"): {
        "type": "array",
        "items": {**_WEBHOOK_ROW, "required": ["EventId"],
                  "properties": {"EventId": {"type": "string", "pattern": r"^[a-z]+\.[a-z]+$"},
                                 "Description": {"type": ["string", "null"]}}},
    },
    ("get", "/v1/{organizationId}/webhooks/subscriptions"): {
        "type": "array",
        "items": {**_WEBHOOK_ROW, "required": ["EventId", "Uri"],
                  "properties": {"EventId": {"type": "string", "minLength": 1},
                                 "Uri": {"type": "string", "pattern": "^https?://"}}},
    },
}


def _template(path: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
    return re.compile(pattern + "$")


class SpecValidator:
    """Validates :class:`Exchange` records against ``openapi.json``."""

    def __init__(self, path: Path) -> None:
        spec = json.loads(path.read_text(encoding="utf-8"))
        schemas = spec["components"]["schemas"]
        for name in list(schemas):  # a variant of each model for rows cut by ``fields``
            partial = copy.deepcopy(schemas[name])
            partial.pop("required", None)
            schemas[name + PARTIAL] = partial
        self.spec = spec
        self.registry: Registry[Any] = Registry().with_resource(
            URI, Resource.from_contents(spec, default_specification=DRAFT202012)
        )
        self.operations = [
            (_template(template), method, operation)
            for template, item in spec["paths"].items()
            for method, operation in item.items()
            if method in ("get", "post", "put", "delete")
        ]
        self.assumed = {
            id(spec["paths"][template][method]): schema
            for (method, template), schema in ASSUMED_BODIES.items()
        }

    # -- helpers ------------------------------------------------------------------------
    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        for pattern, verb, operation in self.operations:
            if verb == method.lower() and pattern.fullmatch(path):
                found: dict[str, Any] = operation
                return found
        return None

    def schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A schema of the spec, resolved to the component it names (once)."""
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return dict(self.spec["components"]["schemas"][ref.rsplit("/", 1)[1]])
        return schema

    def errors(self, instance: Any, schema: dict[str, Any]) -> list[str]:
        """Why ``instance`` does not match ``schema`` (a schema of, or into, the spec)."""
        validator = Draft202012Validator(
            {"$id": URI + "/check", **_rebase(schema)}, registry=self.registry
        )
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:200]}"
            for e in validator.iter_errors(instance)
        ][:5]

    def _bound(self, body: Any, schema: dict[str, Any]) -> Any:
        """``body`` as Dinero binds it to ``schema``: names matched case-insensitively,
        unknown names dropped, nested objects and arrays bound the same way."""
        schema = self.schema(schema)
        if isinstance(body, dict) and "properties" in schema:
            by_lower = {name.lower(): name for name in schema["properties"]}
            bound = {}
            for key, value in body.items():
                name = by_lower.get(str(key).lower())
                if name is not None:
                    bound[name] = self._bound(value, schema["properties"][name])
            return bound
        if isinstance(body, list) and isinstance(schema.get("items"), dict):
            return [self._bound(item, schema["items"]) for item in body]
        return body

    def _rows(self, body: Any, schema: dict[str, Any]) -> list[str]:
        """Rows cut by ``fields``: each key must name a property; types are checked."""
        model = schema.get("$ref", "").rsplit("/", 1)[-1]
        properties = self.spec["components"]["schemas"][model]["properties"]
        by_lower = {name.lower(): name for name in properties}
        found = []
        renamed = []
        for index, row in enumerate(body if isinstance(body, list) else []):
            if not isinstance(row, dict):
                found.append(f"{index}: not an object")
                continue
            for key in row:
                if key.lower() not in by_lower:
                    found.append(f"{index}/{key}: no such property of {model}")
            renamed.append({by_lower.get(k.lower(), k): v for k, v in row.items()})
        partial = {"type": "array",
                   "items": {"$ref": f"#/components/schemas/{model}{PARTIAL}"}}
        return found + self.errors(renamed, partial)

    # -- the check ----------------------------------------------------------------------
    def violations(self, exchange: Exchange) -> list[str]:
        if exchange.status == 0 or exchange.path.startswith("/dineroapi/"):
            return []
        where = f"{exchange.method} {exchange.path}?{exchange.query} -> {exchange.status}"
        operation = self.operation(exchange.method, exchange.path)
        if operation is None:
            return [f"{where}: no such operation in the spec"]
        found = [f"{where}: response: {p}" for p in self._response(exchange, operation)]
        if exchange.status < 300:
            found += [f"{where}: accepted request: {p}" for p in self._request(exchange, operation)]
        return found

    def _response(self, exchange: Exchange, operation: dict[str, Any]) -> list[str]:
        if exchange.status == 429:
            text = exchange.response_body.decode(errors="replace")
            return [] if text.startswith("API calls quota exceeded!") else [f"429 body {text!r}"]
        try:
            body = json.loads(exchange.response_body) if exchange.response_body else None
        except ValueError:
            return ["the body is not JSON"]
        if exchange.status >= 400:
            return self.errors(body, ERROR_SCHEMA)
        documented = operation.get("responses", {}).get(str(exchange.status))
        if documented is None:
            return [f"status {exchange.status} is not documented"]
        content = (documented.get("content") or {}).get("application/json")
        if content is None and id(operation) in self.assumed:
            return self.errors(body, self.assumed[id(operation)])
        if content is None:
            return [] if body is None else ["a body where the spec documents none"]
        schema = content["schema"]
        fields = dict(parse_qsl(exchange.query)).get("fields") or next(
            (p.get("schema", {}).get("default") for p in operation.get("parameters", [])
             if p["name"] == "fields"),
            None,
        )
        resolved = self.schema(schema)
        if fields is not None:
            if "Collection" in resolved.get("properties", {}):
                items = resolved["properties"]["Collection"]["items"]
                return (
                    self.errors({**body, "Collection": []}, schema)
                    + self._rows(body.get("Collection"), items)
                )
            if resolved.get("type") == "array":
                return self._rows(body, resolved["items"])
        return self.errors(body, schema)

    def _request(self, exchange: Exchange, operation: dict[str, Any]) -> list[str]:
        found = []
        query = dict(parse_qsl(exchange.query, keep_blank_values=True))
        for parameter in operation.get("parameters", []):
            if parameter.get("in") != "query" or parameter["name"] not in query:
                continue
            raw = query[parameter["name"]]
            kind = parameter.get("schema", {}).get("type")
            if kind == "integer" and not re.fullmatch(r"-?\d+", raw):
                found.append(f"query {parameter['name']}={raw!r} is not an integer")
            if kind == "boolean" and raw.lower() not in ("true", "false"):
                found.append(f"query {parameter['name']}={raw!r} is not a boolean")
        documented = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        found += [f"query parameter {name!r} is not in the spec" for name in query
                  if name not in documented]
        content = ((operation.get("requestBody") or {}).get("content") or {}).get(
            "application/json"
        )
        if content is not None and exchange.body.strip():
            body = json.loads(exchange.body)
            found += self.errors(self._bound(body, content["schema"]), content["schema"])
        return found


def _rebase(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its local references pointing into the spec's resource."""
    text = json.dumps(schema).replace('"#/components/', f'"{URI}#/components/')
    rebased: dict[str, Any] = json.loads(text)
    return rebased
