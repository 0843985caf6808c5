"""Reading ``syncbridge.toml``: TOML, ``${VAR}`` substitution, validation, cross-checks.

Every error is a :class:`ConfigError` whose lines start with the exact key path
(``syncs.main.entities.company.direction: ...``) and say what is allowed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable
from difflib import get_close_matches
from itertools import pairwise
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from syncbridge.config.schema import Config
from syncbridge.errors import ConfigError
from syncbridge.models import MODELS, model_for

DEFAULT_PATH = "syncbridge.toml"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _substitute(value: Any, path: str, env: dict[str, str]) -> Any:
    if isinstance(value, str):

        def replace(found: re.Match[str]) -> str:
            name = found.group(1)
            if name not in env:
                raise ConfigError(
                    f"{path}: environment variable {name} is not set; export it or put the "
                    "value in the file"
                )
            return env[name]

        return _VAR.sub(replace, value)
    if isinstance(value, dict):
        return {
            key: _substitute(item, f"{path}.{key}" if path else key, env)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_substitute(item, f"{path}[{index}]", env) for index, item in enumerate(value)]
    return value


def _annotated_model(annotation: Any) -> Any:
    """The model or container type behind ``X | None``."""
    if get_origin(annotation) in (Union, UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        return inner[0] if len(inner) == 1 else annotation
    return annotation


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose key ``loc`` ends with, walking fields, dict keys and list indexes."""
    current: Any = root
    parts = list(loc[:-1])
    while parts:
        part = parts.pop(0)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = _annotated_model(field.annotation)
        while get_origin(current) in (dict, list) and parts:
            parts.pop(0)  # the dict key or list index
            current = _annotated_model(get_args(current)[-1])
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def unknown_key(key: str, allowed: Iterable[str], what: str = "key") -> str:
    """``unknown key; did you mean 'state'? (allowed here: connections, state, syncs)``:
    the closest allowed name, when one is close, and all of them."""
    names = sorted(allowed)
    close = get_close_matches(key, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(names) or "none"
    return f"unknown {what}{hint} ({what}s allowed here: {listed})"


def format_errors(
    error: ValidationError,
    model: type[BaseModel],
    *,
    prefix: str = "",
    what: str = "key",
    show_input: bool = True,
) -> str:
    """A validation error of ``model`` as syncbridge words it: one line per problem, each
    starting with the key path (``prefix`` first) and saying what is allowed.

    ``show_input=False`` never quotes a value: a connector's settings hold secrets.
    """
    lines = []
    for problem in error.errors():
        loc = tuple(part for part in problem["loc"] if part != "__root__")
        path = ".".join(str(part) for part in (prefix, *loc) if part != "")
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden" and loc:
            found = _model_at(model, loc)
            allowed = found.model_fields if found is not None else ()
            message = unknown_key(str(loc[-1]), allowed, what)
        elif problem["type"] == "missing":
            message = f"required {what} is missing"
        elif problem["type"] == "literal_error" and show_input:
            message = f"{problem['input']!r} is not allowed; {message[0].lower()}{message[1:]}"
        lines.append(f"{path}: {message}" if path else message)
    return "\n".join(lines)


def _check_fields(config: Config) -> list[str]:
    problems: list[str] = []
    for sync_name, sync in config.syncs.items():
        for side in ("left", "right"):
            name = getattr(sync, side)
            if name not in config.connections:
                known = ", ".join(sorted(config.connections)) or "none defined"
                problems.append(
                    f"syncs.{sync_name}.{side}: no connection named {name!r} (connections: {known})"
                )
        problems.extend(_check_links_from(config, sync_name, sync))
        for entity, rule in sync.entities.items():
            where = f"syncs.{sync_name}.entities.{entity}"
            if entity not in MODELS:
                problems.append(f"{where}: unknown entity; use one of: {', '.join(MODELS)}")
                continue
            fields = set(model_for(entity).model_fields) - {"id", "updated_at"}

            def unknown(name: str, fields: set[str] = fields) -> bool:
                return name not in fields

            allowed = f"fields of {entity}: {', '.join(sorted(fields))}"
            references = set(model_for(entity).references)
            for index, key in enumerate(rule.match or []):
                if not key:
                    problems.append(f"{where}.match[{index}]: an empty key tuple matches nothing")
                for name in key:
                    if unknown(name):
                        problems.append(
                            f"{where}.match[{index}]: unknown field {name!r}; {allowed}"
                        )
                    elif name in references:
                        problems.append(
                            f"{where}.match[{index}]: {name!r} is a reference (ids differ between "
                            "systems) and cannot be a match key; match on the values instead"
                        )
            for name in rule.exclude:
                head, dot, tail = name.partition(".")
                items = model_for(entity).item_fields(head) if dot else None
                if dot and items is not None:
                    if tail not in items:
                        problems.append(
                            f"{where}.exclude: unknown field {name!r}; fields of each of "
                            f"{head}: {', '.join(sorted(items))}"
                        )
                elif unknown(name):
                    problems.append(f"{where}.exclude: unknown field {name!r}; {allowed}")
            for target, source in rule.fields.items():
                for name in (target, source):
                    if unknown(name):
                        problems.append(
                            f"{where}.fields.{target}: unknown field {name!r}; {allowed}"
                        )
            for name in rule.filter:
                if unknown(name):
                    problems.append(f"{where}.filter.{name}: unknown field; {allowed}")
            if rule.pyramid is not None and entity != "sales_data":
                problems.append(
                    f"{where}.pyramid: only a sales_data rule has pyramid thresholds; move it "
                    "to [syncs.<sync>.entities.sales_data]"
                )
            for index, derive in enumerate(rule.derive):
                problems.extend(_check_derive(f"{where}.derive[{index}]", entity, rule, derive))
    return problems


def _check_links_from(config: Config, name: str, sync: Any) -> list[str]:
    """``links_from`` names syncs of the entity that share a connection with this one; each
    is resolved into ``sync.borrowed`` (which side of this sync is which side of that)."""
    problems: list[str] = []
    for entity, source in sync.links_from.items():
        where = f"syncs.{name}.links_from.{entity}"
        lender = config.syncs.get(source)
        if entity in sync.entities:
            problems.append(f"{where}: {name} syncs {entity} itself; it keeps its own links")
        elif lender is None or source == name:
            known = ", ".join(sorted(set(config.syncs) - {name})) or "none"
            problems.append(f"{where}: no other sync named {source!r} (syncs: {known})")
        elif entity not in lender.entities:
            problems.append(f"{where}: sync {source} does not sync {entity}")
        elif name in lender.links_from.values():
            problems.append(
                f"{where}: {source} takes links from {name} in turn; one of the two must "
                "sync the entity itself"
            )
        elif {sync.left, sync.right} == {lender.left, lender.right}:
            problems.append(
                f"{where}: {source} joins the same two connections; sync {entity} in {name}"
            )
        elif sync.right == lender.right or sync.left == lender.left:
            sync.borrowed[entity] = (source, False)
        elif sync.right == lender.left or sync.left == lender.right:
            sync.borrowed[entity] = (source, True)
        else:
            problems.append(
                f"{where}: {source} ({lender.left} <-> {lender.right}) shares no connection "
                f"with {name} ({sync.left} <-> {sync.right})"
            )
    return problems


def _check_lines(config: Config, *, circles: bool = True) -> list[str]:
    """Line names are unique; ``after`` names other lines, never reverses a sync's
    dependency order and never goes round in a circle (looked for with ``circles``, when
    the rest of the config is sound: a circle of ``links_from`` is said there)."""
    from graphlib import CycleError, TopologicalSorter

    from syncbridge.models import DEPENDENCY_ORDER

    problems: list[str] = []
    owners: dict[str, str] = {}
    for sync_name, sync in config.syncs.items():
        for entity, rule in sync.entities.items():
            where = f"syncs.{sync_name}.entities.{entity}"
            if rule.line is None:
                continue
            if rule.line in owners:
                problems.append(
                    f"{where}.line: {rule.line!r} is already the line of {owners[rule.line]}; "
                    "line names are unique across the config: rename one of them"
                )
            else:
                owners[rule.line] = where
    lines = config.lines()
    for sync_name, sync in config.syncs.items():
        for entity, rule in sync.entities.items():
            where = f"syncs.{sync_name}.entities.{entity}.after"
            if rule.after and rule.line is None:
                problems.append(
                    f"{where}: only a line runs after others; name this rule first "
                    '(line = "...", or `syncbridge lines add NAME --sync '
                    f"{sync_name} --entity {entity}`)"
                )
                continue
            for name in rule.after:
                if name == rule.line:
                    problems.append(f"{where}: line {name!r} cannot run after itself; remove it")
                elif name not in lines:
                    problems.append(f"{where}: {unknown_line(name, lines)}")
                elif lines[name][0] == sync_name and entity in DEPENDENCY_ORDER:
                    other = lines[name][1]
                    if DEPENDENCY_ORDER.index(other) > DEPENDENCY_ORDER.index(entity):
                        problems.append(
                            f"{where}: line {name!r} syncs {other}, which sync {sync_name} "
                            f"runs after {entity} (records are written before what points "
                            f"at them); remove {name!r} from after"
                        )
    if problems or not circles:
        return problems
    try:
        tuple(TopologicalSorter(config.unit_edges()).static_order())
    except CycleError as error:
        circle: list[tuple[str, str]] = list(error.args[1])
        names = {unit: name for name, unit in lines.items()}
        steps = " -> ".join(names.get(unit, f"{unit[0]}/{unit[1]}") for unit in circle)
        first = next(
            (
                after
                for before, after in pairwise(circle)
                if names.get(before) in config.syncs[after[0]].entities[after[1]].after
            ),
            None,
        )
        if first is None:  # syncs taking links from each other, round several of them
            problems.append(
                f"syncs.{circle[0][0]}.links_from: the syncs would take links from each other "
                f"in a circle ({steps}, where a -> b means b runs after a); one of them must "
                "sync the entity itself"
            )
        else:
            problems.append(
                f"syncs.{first[0]}.entities.{first[1]}.after: the lines would run after each "
                f"other in a circle ({steps}, where a -> b means b runs after a); remove one "
                "of these names from an after"
            )
    return problems


def unknown_line(name: str, lines: Iterable[str]) -> str:
    """``no line named 'custmers'; did you mean 'customers'? (lines: customers, sectors)``"""
    names = sorted(lines)
    if not names:
        return (
            f"no line named {name!r}: the config has no lines (name an entity rule with "
            'line = "...", or use `syncbridge lines add`)'
        )
    close = get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"no line named {name!r}{hint} (lines: {', '.join(names)})"


def _check_derive(where: str, entity: str, rule: Any, derive: Any) -> list[str]:
    if derive.create not in MODELS:
        return [
            f"{where}.create: unknown entity {derive.create!r}; use one of: {', '.join(MODELS)}"
        ]
    problems = []
    source_fields = set(model_for(entity).model_fields)
    created_fields = set(model_for(derive.create).model_fields)
    for name in derive.when:
        if name not in source_fields:
            problems.append(f"{where}.when.{name}: {entity} has no such field")
    for name in derive.fields:
        if name not in source_fields or name not in created_fields:
            problems.append(
                f"{where}.fields: {name!r} must be a field of both {entity} and {derive.create}"
            )
    if derive.link_field is not None and derive.link_field not in created_fields:
        problems.append(f"{where}.link_field: {derive.create} has no field {derive.link_field!r}")
    if derive.source is None and rule.direction == "both":
        problems.append(
            f"{where}.source: direction is both, so say which side's {entity} "
            'records trigger it: "left" or "right"'
        )
    return problems


def parse(text: str, *, env: dict[str, str] | None = None, source: str = DEFAULT_PATH) -> Config:
    """Validate configuration text (no connector is loaded here)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source} is not valid TOML: {error}") from None
    raw = _substitute(raw, "", dict(os.environ) if env is None else env)
    try:
        config = Config.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(format_errors(error, Config)) from None
    problems = _check_fields(config)
    problems.extend(_check_lines(config, circles=not problems))
    if problems:
        raise ConfigError("\n".join(problems))
    return config


def load(path: str | Path | None = None, *, env: dict[str, str] | None = None) -> Config:
    """Read and validate the config file; relative SQLite state paths become absolute."""
    file = Path(path or DEFAULT_PATH)
    if not file.is_file():
        hint = "" if path else " (or pass -c PATH)"
        raise ConfigError(f"no config file at {file}{hint}; `syncbridge init` writes one")
    config = parse(file.read_text(encoding="utf-8"), env=env, source=str(file))
    url = config.state.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            absolute = (file.parent / relative).resolve()
            config.state.url = f"sqlite:///{absolute}"
    return config
