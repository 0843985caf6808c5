"""Playing the user's browser in an OAuth2 authorization-code flow, for tests.

``syncbridge auth`` prints the consent address and waits on a local redirect listener; an
emulator's authorize endpoint consents at once, so following the printed address with an
HTTP client completes the flow, offline, with the real listener and token exchange.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from syncbridge.credentials import Credentials
from syncbridge.oauth import OAuthApp, authorize


def consent(app: OAuthApp, credentials: Credentials, timeout: float = 10.0) -> dict[str, Any]:
    """Run :func:`syncbridge.oauth.authorize` and follow its address; returns what it kept."""
    said: list[str] = []
    ready = threading.Event()
    result: dict[str, Any] = {}
    failure: list[BaseException] = []

    def say(text: str) -> None:
        said.append(text)
        ready.set()

    def flow() -> None:
        try:
            result.update(authorize(app, credentials, open_browser=False, timeout=timeout,
                                    say=say))
        except BaseException as error:  # re-raised in the caller's thread
            failure.append(error)
            ready.set()

    worker = threading.Thread(target=flow, daemon=True)
    worker.start()
    if not ready.wait(timeout):
        raise TimeoutError("the authorisation flow printed no address")
    if said:
        httpx.get(said[0].splitlines()[-1], follow_redirects=True, timeout=timeout)
    worker.join(timeout)
    if failure:
        raise failure[0]
    return result
