"""The request log: what was sent, when, and how it went, without a single secret.

Each attempt of each request (retries included) becomes one :class:`LoggedRequest` handed to
the connection's :data:`RequestLogSink`. The log exists so a person can see why a sync was
slow or failed, and it ends up in reports and support tickets, so it never holds headers or
bodies, and URLs pass through :func:`redact_url` first: query values whose parameter name
looks secret, userinfo, and every known secret string (also inside the path, as in a Bitrix24
webhook ``/rest/1/<code>/crm.contact.list``) become ``***``.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, Secret, SecretBytes, SecretStr

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "LoggedRequest",
    "RequestLog",
    "RequestLogSink",
    "RequestLogTransport",
    "header_secrets",
    "looks_secret",
    "redact_text",
    "redact_url",
    "secrets_of",
]

#: what a redacted value is replaced with
MASK = "***"

#: shorter secrets are not searched for: masking every "ab" in a URL would hide the URL
#: itself while protecting nothing a guesser could not find anyway
MIN_SECRET_LENGTH = 4

#: parameter or header names containing one of these (case-insensitive) carry secrets;
#: deliberately broad ("code" also hides "country_code"): over-masking costs a little
#: readability, under-masking leaks a credential
SECRET_NAME_MARKERS = (
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "signature",
    "sig",
    "auth",
    "code",
    "session",
    "credential",
)

# a query-like ``name=value`` pair inside free text (error messages quoting a URL)
_TEXT_PARAM = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;?#\s'\"<>]+)=(?P<value>[^&;#\s'\"<>]*)")

# the userinfo of an absolute URL inside free text
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@'\"<>]+@")


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One attempt of one request, as the request log keeps it.

    ``at`` is when the attempt started (UTC); ``duration_ms`` runs until the response headers
    arrived (or the attempt failed). ``status`` is None when no response came back, and then
    ``error`` says why, already redacted.
    """

    at: datetime
    method: str
    url: str
    status: int | None
    duration_ms: float
    error: str | None = None


#: where a connection's client reports each attempt (``list.append``, a :class:`RequestLog`,
#: a function writing to the state store); called from whichever thread sent the request
RequestLogSink = Callable[[LoggedRequest], None]


class RequestLog:
    """A thread-safe sink keeping the last ``maxlen`` attempts of one connection.

    The design keeps a bounded log per connection so a long run cannot grow memory without
    limit; use an instance directly as the ``request_log`` of ``build_client``.
    """

    def __init__(self, maxlen: int = 200) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def __call__(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LoggedRequest]:
        """The kept attempts, oldest first (a copy, safe to read while requests go on)."""
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


@lru_cache(maxsize=4096)
def looks_secret(name: str) -> bool:
    """Whether a query parameter or header called ``name`` probably carries a secret.

    Remembered per name: every request asks it of each of its headers and parameters.
    """
    lowered = name.lower()
    return any(marker in lowered for marker in SECRET_NAME_MARKERS)


@lru_cache(maxsize=256)
def _variants(secrets: frozenset[str]) -> tuple[str, ...]:
    """Each secret as it may appear in a URL (raw and percent-encoded), longest first.

    Longest first, so that a secret containing a shorter one is masked whole rather than
    leaving its remainder visible around a ``***``. Remembered: a connection sends every
    request with the same few secrets.
    """
    found: set[str] = set()
    for secret in secrets:
        if len(secret) < MIN_SECRET_LENGTH:
            continue
        found.update((secret, quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret)))
    return tuple(sorted(found, key=len, reverse=True))


def _mask_secrets(text: str, secrets: Iterable[str]) -> str:
    for variant in _variants(frozenset(secrets)):
        if variant in text:
            text = text.replace(variant, MASK)
    return text


def _mask_params(query: str) -> str:
    """Mask the values of secret-looking parameters, leaving everything else byte for byte."""
    if not query:
        return query
    pairs = []
    for pair in query.split("&"):
        name, sep, _ = pair.partition("=")
        pairs.append(f"{name}={MASK}" if sep and looks_secret(unquote_plus(name)) else pair)
    return "&".join(pairs)


def redact_url(url: str, secrets: Iterable[str] = ()) -> str:
    """``url`` with nothing secret left in it.

    Masks (with ``***``) every occurrence of each given secret of at least
    :data:`MIN_SECRET_LENGTH` characters, raw or percent-encoded, anywhere in the URL; the
    values of query (and fragment) parameters whose names look secret (:func:`looks_secret`);
    and any userinfo (``user:password@``). Works on absolute and relative URLs alike.
    """
    parts = urlsplit(_mask_secrets(url, secrets))
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    fragment = _mask_params(parts.fragment) if "=" in parts.fragment else parts.fragment
    return urlunsplit((parts.scheme, netloc, parts.path, _mask_params(parts.query), fragment))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Free text (an error message) with the given secrets and secret-looking URL parameters masked.

    Unlike :func:`redact_url` it does not parse the text as one URL: it masks every secret
    string, then every ``?name=value`` / ``&name=value`` pair whose name looks secret, and the
    userinfo of any ``scheme://user:pass@host`` it contains.
    """
    text = _mask_secrets(text, secrets)

    def mask(match: re.Match[str]) -> str:
        if not looks_secret(unquote_plus(match["name"])):
            return match[0]
        return f"{match['lead']}{match['name']}={MASK}"

    text = _TEXT_PARAM.sub(mask, text)
    return _USERINFO.sub(rf"\g<scheme>{MASK}@", text)


def secrets_of(value: object) -> set[str]:
    """Every secret value inside ``value``: a settings model, searched recursively.

    Secrets are declared by type (``SecretStr``, ``SecretBytes``, ``Secret[...]``), so walking
    the model finds them all, including in nested models, lists and dicts, without each
    connector having to list them.
    """
    found: set[str] = set()
    if isinstance(value, SecretStr | SecretBytes | Secret):
        secret = value.get_secret_value()
        if isinstance(secret, bytes):
            found.add(secret.decode("utf-8", errors="replace"))
        elif secret is not None:
            found.add(str(secret))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            found |= secrets_of(getattr(value, name))
    elif isinstance(value, Mapping):
        for item in value.values():
            found |= secrets_of(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            found |= secrets_of(item)
    return {secret for secret in found if len(secret) >= MIN_SECRET_LENGTH}


def header_secrets(headers: Mapping[str, str]) -> frozenset[str]:
    """The secrets a request carries in its headers (Authorization, X-API-Key, Cookie...).

    Auth hooks put tokens there that the settings never saw (an OAuth access token fresh from
    a refresh), and some APIs echo the same token into URLs, so each credential-looking
    header's value is a secret: whole, without its scheme (``Bearer``), each ``name=value``
    part (cookies, Digest), and for Basic both halves of the decoded ``user:password``
    (API keys often travel as the user name).
    """
    return _header_secrets(
        tuple(
            value
            for name, value in headers.items()
            if looks_secret(name) or name.lower() in ("cookie", "set-cookie")
        )
    )


@lru_cache(maxsize=256)
def _header_secrets(values: tuple[str, ...]) -> frozenset[str]:
    found: set[str] = set()
    for value in values:
        found.add(value.strip())
        scheme, _, credentials = value.strip().partition(" ")
        if credentials and scheme.isalpha():
            found.add(credentials.strip())
            if scheme.lower() == "basic":
                found |= _basic_secrets(credentials.strip())
        for part in re.split(r"[\s,;]+", value):
            found.add(part.partition("=")[2].strip('"'))
    return frozenset(secret for secret in found if len(secret) >= MIN_SECRET_LENGTH)


def _basic_secrets(credentials: str) -> set[str]:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return set()
    user, _, password = decoded.partition(":")
    return {decoded, user, password}


class RequestLogTransport(httpx.BaseTransport):
    """The innermost layer: reports every attempt that reaches the network to a sink.

    It sits below retries and the rate limiter so that each retry is its own entry, and the
    duration is the network's alone (no backoff or rate-limit wait in it). Nothing of the
    request but method and redacted URL is recorded: never headers, never bodies.
    """

    def __init__(
        self, transport: httpx.BaseTransport, sink: RequestLogSink, secrets: Iterable[str] = ()
    ) -> None:
        self.inner = transport
        self.sink = sink
        self.secrets = frozenset(secrets)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        at = datetime.now(UTC)
        started = time.perf_counter()
        try:
            response = self.inner.handle_request(request)
        except Exception as exc:
            self._record(request, at, started, None, f"{type(exc).__name__}: {exc}")
            raise
        self._record(request, at, started, response.status_code, None)
        return response

    def _record(
        self,
        request: httpx.Request,
        at: datetime,
        started: float,
        status: int | None,
        error: str | None,
    ) -> None:
        duration_ms = (time.perf_counter() - started) * 1000
        secrets = self.secrets | header_secrets(request.headers)
        self.sink(
            LoggedRequest(
                at=at,
                method=request.method,
                url=redact_url(str(request.url), secrets),
                status=status,
                duration_ms=duration_ms,
                error=None if error is None else redact_text(error, secrets),
            )
        )

    def close(self) -> None:
        self.inner.close()
