"""The challenge/login handshake and the sessions of the emulated ``webservice.php``.

``getchallenge`` hands a user a token valid :data:`TOKEN_LIFETIME` seconds; ``login`` with
``accessKey = md5(token + the user's access key)`` (lower-case hex) opens a session whose name
is passed as ``sessionName``. Sessions end after :attr:`Sessions.idle` seconds without a
request or :attr:`Sessions.lifetime` seconds in all (vtiger's ``SessionManager`` defaults:
30 minutes idle, one day), or when a test calls :meth:`Sessions.expire_all`.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from dataclasses import dataclass

#: seconds a challenge token is valid (vtiger: 300)
TOKEN_LIFETIME = 300

USERNAME = "admin"
ACCESS_KEY = "dK3h9Sx7Qw2PzL5v"
USER_ID = "19x1"


class LoginRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class User:
    id: int
    user_name: str
    access_key: str | None
    admin: bool = True
    active: bool = True


@dataclass
class Session:
    name: str
    user: User
    started: float
    last: float


class Sessions:
    """Users, their challenge tokens and their sessions."""

    def __init__(self, rng: random.Random, *, lifetime: float = 86400, idle: float = 1800) -> None:
        self.rng = rng
        self.lifetime = lifetime
        self.idle = idle
        self.users: dict[str, User] = {USERNAME: User(1, USERNAME, ACCESS_KEY)}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self.logins = 0

    def _hex(self, digits: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(digits))

    def challenge(self, username: str) -> dict[str, int | str]:
        now = int(time.time())
        with self._lock:
            token = self._hex(13)
            self._tokens[username] = (token, now + TOKEN_LIFETIME)
        return {"token": token, "serverTime": now, "expireTime": now + TOKEN_LIFETIME}

    def login(self, username: str, access_key: str) -> Session:
        """A new session, or :class:`LoginRefused` with vtiger's code and words."""
        with self._lock:
            user = self.users.get(username)
            issued = self._tokens.get(username)
            if issued is None or issued[1] < time.time():
                raise LoginRefused("INVALID_AUTH_TOKEN", "Specified token is invalid or expired")
            if user is None:
                raise LoginRefused("INVALID_USER_CREDENTIALS", "Invalid username or password")
            if user.access_key is None:
                raise LoginRefused("ACCESSKEY_UNDEFINED", "Access key for the user is undefined")
            expected = hashlib.md5((issued[0] + user.access_key).encode()).hexdigest()
            if access_key != expected:
                raise LoginRefused("INVALID_USER_CREDENTIALS", "Invalid username or password")
            if not user.active:
                raise LoginRefused("AUTHENTICATION_REQUIRED", "Given user is inactive")
            now = time.time()
            session = Session(self._hex(13) + self._hex(4), user, now, now)
            self._sessions[session.name] = session
            self.logins += 1
            return session

    def find(self, name: str) -> Session | None:
        """The live session called ``name`` (touched), or None."""
        now = time.time()
        with self._lock:
            session = self._sessions.get(name)
            if session is None:
                return None
            if now - session.last > self.idle or now - session.started > self.lifetime:
                del self._sessions[name]
                return None
            session.last = now
            return session

    def end(self, name: str) -> None:
        with self._lock:
            self._sessions.pop(name, None)

    def expire_all(self) -> None:
        """End every session (the next request with one gets ``INVALID_SESSIONID``)."""
        with self._lock:
            self._sessions.clear()
