"""Signing requests for Simply CRM: vtiger's challenge/login session, renewed when it ends.

1. ``GET webservice.php?operation=getchallenge&username=U`` gives a token (valid 5 minutes);
2. ``POST operation=login&username=U&accessKey=md5(token + access key)`` gives a
   ``sessionName`` (and the user's id, ``19x1``, which creates need as ``assigned_user_id``);
3. every later request carries ``sessionName`` in its query string (vtiger reads it from
   either place, ``$_REQUEST``).

A session ends on idle or lifetime, and the server says so in a 200 answer
(``INVALID_SESSIONID``, ``SESSION_EXPIRED``, ``SESSION_LEFT_IDLE``): the request is sent again
after one new login. The server checks the session before it does anything, so sending a
write again cannot do it twice. The login requests go through the connection's transport
(retries, rate limiter, request log, which masks ``sessionName`` and ``accessKey``); both
change nothing on the server, so they are retried like GETs, and a login whose answer cannot
be read is tried again, :data:`ATTEMPTS` times in all.

One session is shared by the threads of a connection: the lock makes those that find it gone
wait for a single login.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Generator
from typing import Any

import httpx
import orjson

from syncbridge import AuthError, ConnectorError
from syncbridge.http.retry import RetryPolicy, backoff_from_env
from syncbridge_simplycrm.envelope import vtiger_envelope
from syncbridge_simplycrm.settings import SimplyCrmSettings

#: error codes meaning "log in again"
SESSION_LOST = frozenset({"INVALID_SESSIONID", "SESSION_EXPIRED", "SESSION_LEFT_IDLE"})
#: error codes of a refused login: the credentials are wrong
REFUSED = frozenset(
    {
        "INVALID_USER_CREDENTIALS",
        "INVALID_AUTH_TOKEN",
        "ACCESSKEY_UNDEFINED",
        "AUTHENTICATION_FAILURE",
        "AUTHENTICATION_REQUIRED",
    }
)
#: tries of a login whose answer cannot be read
ATTEMPTS = 3


def envelope_error(response: httpx.Response) -> tuple[str, str] | None:
    """The ``(code, message)`` of an answer whose envelope says it failed, else None (also
    for an answer that is no envelope at all)."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return vtiger_envelope(body)


class Unreadable(Exception):
    """A login step answered something that is not the API's envelope."""


class SessionAuth(httpx.Auth):
    """The connection's :class:`httpx.Auth`: a vtiger session, renewed when it ends.

    ``logins`` counts successful logins; ``user_id`` is the logged-in user's id.
    """

    requires_response_body = True

    def __init__(self, settings: SimplyCrmSettings, connection: str = "") -> None:
        self.connection = connection or "simplycrm"
        self._url = f"{settings.base_url}/webservice.php"
        self._username = settings.username
        self._access_key = settings.access_key.get_secret_value()
        self._policy = (
            RetryPolicy(settings.max_retries, backoff_from_env())
            if settings.max_retries > 0
            else None
        )
        self._lock = threading.Lock()
        self._session: str | None = None
        self.user_id: str | None = None
        self.logins = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        session = self._session
        if session is None:
            session = yield from self._login(None)
        _sign(request, session)
        response = yield request
        found = envelope_error(response)
        if found is not None and found[0] in SESSION_LOST:
            session = yield from self._login(session)
            _sign(request, session)
            response = yield request
            found = envelope_error(response)
            if found is not None and found[0] in SESSION_LOST:
                raise AuthError(
                    f"{self.connection}: Simply CRM ended the new session of "
                    f"{self._username!r} at once ({found[0]}: {found[1]}); check that the "
                    "user is active and may use the webservice API"
                )

    def _retry(self, method: str) -> dict[str, Any] | None:
        if self._policy is None:
            return None
        return {"retry": self._policy.for_method("GET").copy_with(allowed_methods=[method])}

    def _login(self, stale: str | None) -> Generator[httpx.Request, httpx.Response, str]:
        """Log in, unless another thread already replaced ``stale`` with a new session."""
        with self._lock:
            if self._session is not None and self._session != stale:
                return self._session
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    session = yield from self._handshake()
                except Unreadable as unreadable:
                    if attempt == ATTEMPTS:
                        raise ConnectorError(
                            f"{self.connection}: Simply CRM answered the login with "
                            f"{unreadable}, {ATTEMPTS} times"
                        ) from None
                    continue
                self._session = session
                self.logins += 1
                return session
            raise AssertionError("unreachable")  # pragma: no cover

    def _handshake(self) -> Generator[httpx.Request, httpx.Response, str]:
        challenge = httpx.Request(
            "GET",
            self._url,
            params={"operation": "getchallenge", "username": self._username},
            extensions=self._retry("GET"),
        )
        token = self._result(((yield challenge)), "getchallenge").get("token")
        if not isinstance(token, str) or not token:
            raise Unreadable("a challenge without a token")
        digest = hashlib.md5((token + self._access_key).encode()).hexdigest()
        login = httpx.Request(
            "POST",
            self._url,
            data={"operation": "login", "username": self._username, "accessKey": digest},
            extensions=self._retry("POST"),
        )
        result = self._result(((yield login)), "login")
        session = result.get("sessionName")
        if not isinstance(session, str) or not session:
            raise Unreadable("a login answer without a sessionName")
        user_id = result.get("userId")
        self.user_id = str(user_id) if user_id else None
        return session

    def _result(self, response: httpx.Response, step: str) -> dict[str, Any]:
        """The ``result`` of a login step, or why there is none."""
        if response.status_code >= 300:
            raise Unreadable(f"HTTP {response.status_code}")
        found = envelope_error(response)
        if found is not None:
            code, message = found
            if code in REFUSED:
                raise AuthError(
                    f"{self.connection}: Simply CRM refused the login of {self._username!r} "
                    f"({code}: {message}); check username and access_key (My Preferences > "
                    f"Access Key, not the password) in connections.{self.connection}.settings"
                )
            raise ConnectorError(
                f"{self.connection}: Simply CRM answered {step} with {code}: {message}"
            )
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise Unreadable(f"HTTP {response.status_code} and a body that is no JSON") from None
        result = body.get("result") if isinstance(body, dict) else None
        if not isinstance(result, dict):
            raise Unreadable("an answer without a result")
        return result


def _sign(request: httpx.Request, session: str) -> None:
    request.url = request.url.copy_set_param("sessionName", session)
