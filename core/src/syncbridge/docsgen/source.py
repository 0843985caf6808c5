"""Documentation that only exists in source text: ``#:`` comments on class attributes.

The core documents fields of its dataclasses, enums and pydantic models with Sphinx-style
``#:`` comments (``describe.py``, ``testing/hooks.py``) rather than ``Field(description=)``.
Reading them from the source lets the docs show that text without asking anyone to write it
twice.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

_ATTRIBUTE = re.compile(r"^\s*(?P<name>[A-Za-z_]\w*)\s*(?::[^=]*)?=")
_DOC_COMMENT = re.compile(r"^\s*#:\s?(?P<text>.*)$")


def attribute_docs(cls: type) -> dict[str, str]:
    """``{attribute: text}`` of the ``#:`` comment block right above each attribute of
    ``cls`` (its own body only, not its bases). Empty when the source is unavailable."""
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        return {}
    docs: dict[str, str] = {}
    pending: list[str] = []
    for line in lines:
        comment = _DOC_COMMENT.match(line)
        if comment:
            pending.append(comment.group("text").strip())
            continue
        attribute = _ATTRIBUTE.match(line)
        if attribute and pending:
            docs[attribute.group("name")] = " ".join(pending)
        pending = []
    return docs


def signature(name: str, function: Callable[..., Any], width: int = 88) -> str:
    """``def name(arg: Type = default, ...) -> Return`` as the source spells the annotations.

    Annotations are strings under ``from __future__ import annotations``; they are shown as
    written rather than evaluated, so a type imported only for checking needs no import.
    """
    try:
        found = inspect.signature(function)
    except (TypeError, ValueError):
        return f"def {name}(...)"
    params: list[str] = []
    keyword_only_marked = False
    for param in found.parameters.values():
        text = param.name
        if param.kind is param.VAR_POSITIONAL:
            text, keyword_only_marked = "*" + text, True
        elif param.kind is param.VAR_KEYWORD:
            text = "**" + text
        elif param.kind is param.KEYWORD_ONLY and not keyword_only_marked:
            params.append("*")
            keyword_only_marked = True
        if param.annotation is not param.empty:
            text += f": {_annotation(param.annotation)}"
        if param.default is not param.empty:
            text += (" = " if param.annotation is not param.empty else "=") + repr(param.default)
        params.append(text)
    returns = found.return_annotation
    tail = f" -> {_annotation(returns)}" if returns is not found.empty else ""
    one_line = f"def {name}({', '.join(params)}){tail}"
    if len(one_line) <= width:
        return one_line
    body = "".join(f"    {param},\n" for param in params)
    return f"def {name}(\n{body}){tail}"


def _annotation(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    return inspect.formatannotation(annotation)
