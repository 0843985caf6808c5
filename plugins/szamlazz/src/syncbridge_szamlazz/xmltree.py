"""XML for an API whose schemas are sequences: ordered elements out, plain dicts in.

The Számla Agent validates requests against XSDs made of ``xsd:sequence``, so element order
matters and a dict (unordered in spirit) is the wrong thing to build a request from. A request
is written as a list of ``(name, value)`` pairs, where a value is text (``str``, ``int``,
``Decimal``, ``bool``, ``date``), a nested list of pairs, or None (the element is left out).

Answers are read into plain dicts without namespaces: an element with children becomes a
dict, a leaf its text (``""`` when empty); an element named in ``lists`` is always a list,
whether it occurs once or many times, so the reader never has to guess.

Nothing here is Számlázz.hu's own: it is the XML twin of the JSON helpers every REST
connector gets from the core (a candidate for ``syncbridge.rest``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeAlias

__all__ = ["Pairs", "local_name", "parse", "render", "text_of"]

#: text (str, int, Decimal, bool, date), a nested sequence of pairs, or None (left out);
#: typed loosely because a recursive union defeats list literals of mixed pairs
Value: TypeAlias = Any
Pairs: TypeAlias = Sequence[tuple[str, Value]]


def text_of(value: object) -> str:
    """How a value is written in the Agent's XML: booleans ``true``/``false``, dates ISO,
    decimals in plain notation (never ``1E+2``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _fill(parent: ET.Element, pairs: Pairs) -> None:
    for name, value in pairs:
        if value is None:
            continue
        child = ET.SubElement(parent, name)
        if isinstance(value, list | tuple):
            _fill(child, value)
        else:
            child.text = text_of(value)


def render(root: str, namespace: str, pairs: Pairs) -> bytes:
    """The document ``<root xmlns="namespace">pairs...</root>`` as UTF-8 bytes.

    The children are written unqualified under a default namespace, which is how every
    published client (and the documentation's examples) writes them.
    """
    element = ET.Element(root, {"xmlns": namespace})
    _fill(element, pairs)
    text = ET.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode()


def local_name(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rpartition("}")[2]


def _read(element: ET.Element, lists: frozenset[str]) -> Any:
    children = list(element)
    if not children:
        return (element.text or "").strip()
    result: dict[str, Any] = {}
    for child in children:
        name = local_name(child.tag)
        value = _read(child, lists)
        if name in lists:
            result.setdefault(name, []).append(value)
        elif name in result:  # a repeat nobody declared: keep every value rather than one
            previous = result[name]
            result[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            result[name] = value
    return result


def parse(content: bytes | str, lists: Iterable[str] = ()) -> tuple[str, dict[str, Any]]:
    """``(root name, content as a dict)`` of an XML document.

    Raises ValueError (with the parser's position) for a body that is not well-formed XML,
    which is what :class:`syncbridge.rest.ErrorMap` takes for an unusable answer.
    """
    try:
        root = ET.fromstring(content)
    except ET.ParseError as error:
        raise ValueError(f"not well-formed XML ({error})") from None
    body = _read(root, frozenset(lists))
    return local_name(root.tag), body if isinstance(body, dict) else {}
