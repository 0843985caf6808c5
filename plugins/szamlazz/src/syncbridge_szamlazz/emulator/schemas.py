"""The request schemas: every request is validated against its docs-inline XSD.

The XSDs are the ones docs.szamlazz.hu shows inline for each operation (``xsd/``, copied
unmodified): the downloadable variant is stale and refuses what published clients send (an
empty ``<csoportazonosito>`` in ``vevo``). A request that fails its schema gets the Agent's
error 57, "XML beolvasási hiba", with the validator's reason, as the real Agent reports it.

Parsing is defused (no DTDs, no entities): an emulator served on a port must not expand
what a request declares.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import xmlschema

XSD_DIR = Path(__file__).parent / "xsd"

#: action (the multipart field name) -> the root element (and XSD) of its request
ACTIONS: dict[str, str] = {
    "action-xmlagentxmlfile": "xmlszamla",
    "action-szamla_agent_st": "xmlszamlast",
    "action-szamla_agent_kifiz": "xmlszamlakifiz",
    "action-szamla_agent_xml": "xmlszamlaxml",
    "action-szamla_agent_pdf": "xmlszamlapdf",
    "action-szamla_agent_dijbekero_torlese": "xmlszamladbkdel",
    "action-szamla_agent_nyugta_create": "xmlnyugtacreate",
    "action-szamla_agent_nyugta_storno": "xmlnyugtast",
    "action-szamla_agent_nyugta_get": "xmlnyugtaget",
    "action-szamla_agent_nyugta_send": "xmlnyugtasend",
}


@cache
def schema(root: str) -> xmlschema.XMLSchema:
    """The XSD of requests whose root element is ``root`` (loaded once)."""
    return xmlschema.XMLSchema(str(XSD_DIR / f"{root}.xsd"))


def problem(root: str, content: bytes) -> str | None:
    """Why ``content`` is not a valid ``root`` request, in one line; None when it is."""
    try:
        resource = xmlschema.XMLResource(content, defuse="always")
    except (xmlschema.XMLSchemaException, SyntaxError, ValueError) as error:
        return " ".join(str(error).split())[:300]
    try:
        first = next(iter(schema(root).iter_errors(resource)), None)
    except (xmlschema.XMLSchemaException, SyntaxError, ValueError) as failure:
        return " ".join(str(failure).split())[:300]
    if first is None:
        return None
    where = first.path or ""
    reason = first.reason or str(first.message)
    return " ".join(f"{where}: {reason}".split())[:300]
