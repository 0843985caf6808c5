"""The Számla Agent as the connector uses it: one multipart POST per action, in-band answers.

Every action is a ``POST`` of ``multipart/form-data`` to the one Agent URL, with a single file
part whose field name is the action (``action-xmlagentxmlfile``...) and whose content is the
request XML; the credentials travel inside that XML. The HTTP status is 200 whatever
happened: a refusal is told by the ``szlahu_error_code`` / ``szlahu_error`` headers (the
message URL-encoded, ``+`` for spaces) and, for requests asking ``valaszVerzio=2``, by an
``xmlszamlavalasz`` body with ``sikeres=false``. So:

* transport failures, statuses and unreadable bodies go through the toolkit's
  :data:`ERRORS` (:class:`syncbridge.rest.ErrorMap`): a read is retried, a write whose answer
  is lost is "outcome unknown";
* the in-band code then decides: :data:`AUTH_CODES` are an :class:`~syncbridge.AuthError` (every
  request would fail), anything else an :class:`AgentRefusal` carrying the Agent's code and
  message, which the caller turns into that record's failure.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import httpx

from syncbridge import AuthError, ConnectorError
from syncbridge.http.retry import backoff_from_env
from syncbridge.rest import ErrorMap, OutcomeUnknown
from syncbridge_szamlazz import xmltree
from syncbridge_szamlazz.settings import SzamlazzSettings

SYSTEM = "Számlázz.hu"

#: action field name -> the root element of its request XML
CREATE = "action-xmlagentxmlfile"
REVERSE = "action-szamla_agent_st"
PAY = "action-szamla_agent_kifiz"
QUERY_XML = "action-szamla_agent_xml"
QUERY_PDF = "action-szamla_agent_pdf"
DELETE_PROFORMA = "action-szamla_agent_dijbekero_torlese"
ROOTS: dict[str, str] = {
    CREATE: "xmlszamla",
    REVERSE: "xmlszamlast",
    PAY: "xmlszamlakifiz",
    QUERY_XML: "xmlszamlaxml",
    QUERY_PDF: "xmlszamlapdf",
    DELETE_PROFORMA: "xmlszamladbkdel",
}

#: login failed (3); the Agent is not usable for the account (136); a user in several
#: companies must use an Agent key (164)
AUTH_CODES = frozenset({3, 136, 164})
#: "Már létező rendelésszám": the order number is taken (the account forbids repeats)
DUPLICATE_ORDER_CODES = frozenset({71, 152})
#: the document asked for does not exist (README assumption 7)
NOT_FOUND_CODES = frozenset({7})
#: the proforma to delete does not exist (or was deleted already)
NO_PROFORMA_CODE = 335

#: elements that are lists in the answers, however many times they occur
LISTS = ("tetel", "kifizetes", "afakulcsossz")


def decode(content: bytes) -> Any:
    """An answer's body: an XML document as ``{"root": name, **content}``, the Agent's text
    answers (``[ERR] ...``, ``xmlagentresponse=...``) as ``{"text": ...}``, a PDF as
    ``{"pdf": bytes}``. ValueError for anything else (a body cut short, an HTML page)."""
    stripped = content.lstrip()
    if stripped.startswith(b"%PDF-"):
        if b"%%EOF" not in content[-1024:]:
            raise ValueError("a PDF cut short")
        return {"root": "pdf", "pdf": content}
    if stripped.startswith((b"[ERR]", b"xmlagentresponse=")):
        return {"root": "text", "text": content.decode("utf-8", "replace")}
    root, body = xmltree.parse(content, LISTS)
    if root.lower() == "html":
        raise ValueError("an HTML page, not the Agent's XML")
    return {"root": root, **body}


ERRORS = ErrorMap(
    system=SYSTEM,
    auth_hint="check agent_key (or username and password) in connections.{connection}.settings",
    decode=decode,
    # every action is a POST to the same URL: name the action rather than the path
    doing=lambda request: f"POST {_action_of(request)}",
)


def _action_of(request: httpx.Request) -> str:
    """The action a request carries (noted in its extensions when it was built)."""
    return str(request.extensions.get("szamlazz_action", "the Agent"))


class AgentRefusal(ConnectorError):
    """The Agent refused a request in-band: its error ``code`` and ``message``."""

    def __init__(self, code: int | None, message: str) -> None:
        self.code = code
        self.message = message
        shown = f"error {code}: {message}" if code is not None else message
        super().__init__(f"{SYSTEM} refused it ({shown})")


@dataclass(frozen=True)
class Answer:
    """A successful answer: its headers and its decoded body."""

    headers: Mapping[str, str]
    body: dict[str, Any]

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return unquote_plus(value) if value is not None else None


def credentials(settings: SzamlazzSettings) -> list[tuple[str, xmltree.Value]]:
    """The credential elements, in schema order: an Agent key, or a user and password."""
    if settings.agent_key is not None:
        return [("szamlaagentkulcs", settings.agent_key.get_secret_value())]
    assert settings.password is not None
    return [("felhasznalo", settings.username), ("jelszo", settings.password.get_secret_value())]


def refusal_of(response: httpx.Response, body: Any) -> tuple[int | None, str] | None:
    """The in-band error of an answer, if it is one: headers first, then the body."""
    code_text = response.headers.get("szlahu_error_code")
    encoded = response.headers.get("szlahu_error")
    message = unquote_plus(encoded) if encoded is not None else None
    if isinstance(body, dict) and body.get("sikeres") == "false":
        code_text = code_text or str(body.get("hibakod") or "")
        message = message or str(body.get("hibauzenet") or "")
    if code_text is None and message is None:
        if isinstance(body, dict) and body.get("root") == "text":
            text = str(body["text"])
            if text.startswith("[ERR]"):
                return None, " ".join(text[5:].split("----------")[0].split())
        return None
    try:
        code = int(code_text) if code_text else None
    except ValueError:
        code = None
    return code, " ".join((message or "no message").split())


def _checked(client: httpx.Client, response: httpx.Response, body: Any) -> Answer:
    refused = refusal_of(response, body)
    if refused is not None:
        code, message = refused
        if code in AUTH_CODES:
            connection = str(getattr(client, "connection", "") or "<connection>")
            hint = ERRORS.auth_hint.format(connection=connection)
            raise AuthError(
                f"{SYSTEM} refused the credentials of connection {connection!r} "
                f"(error {code}: {message}); {hint}"
            )
        raise AgentRefusal(code, message)
    return Answer(response.headers, body if isinstance(body, dict) else {})


def _request(action: str, pairs: xmltree.Pairs) -> dict[str, Any]:
    content = xmltree.render(ROOTS[action], f"http://www.szamlazz.hu/{ROOTS[action]}", pairs)
    return {
        "files": {action: ("request.xml", content, "text/xml")},
        "extensions": {"szamlazz_action": action},
    }


def read(client: httpx.Client, action: str, pairs: xmltree.Pairs) -> Answer:
    """Send an action that changes nothing (a query); raises AuthError, AgentRefusal or
    ConnectorError.

    Queries are POSTs too, so the transport is told they are safe to repeat (5xx, 429 and
    dropped connections are retried as a GET's would be), and an answer that cannot be read
    is asked for again, ``ERRORS.attempts`` times in all. (``ErrorMap.read`` retries a POST
    only when no answer came: an XML-over-POST API wants it to take ``repeatable`` too.)
    """
    request = _request(action, pairs)
    for attempt in range(1, ERRORS.attempts + 1):
        try:
            response, body = ERRORS.send(client, "POST", "", repeatable=True, **request)
        except OutcomeUnknown as error:
            if attempt >= ERRORS.attempts:
                reason = str(error).split("; it may have been written")[0]
                times = f", {attempt} times" if attempt > 1 else ""
                raise ConnectorError(f"{reason}{times}") from None
            time.sleep(backoff_from_env() * 2 ** (attempt - 1))
            continue
        return _checked(client, response, body)
    raise AssertionError("unreachable: the loop returns or raises")


def write(
    client: httpx.Client, action: str, pairs: xmltree.Pairs, *, repeatable: bool = False
) -> Answer:
    """Send an action that changes something: raises
    :class:`syncbridge.rest.errormap.OutcomeUnknown` when its answer is lost or unreadable,
    AuthError, AgentRefusal or ConnectorError.

    :param repeatable: sending it twice cannot do it twice (a create carrying an order
        number the account refuses to repeat): the transport may then retry it after a 5xx
        or a dropped connection, as it retries a query.
    """
    response, body = ERRORS.send(
        client, "POST", "", repeatable=repeatable, **_request(action, pairs)
    )
    return _checked(client, response, body)
