"""An extension whose ``fetch`` fails the way a bug does: a plain exception, quoting a URL
with its password. Used to see what the CLI makes of an error nobody worded."""

from __future__ import annotations

from typing import Any

from syncbridge.hookspecs import hookimpl

#: the password the message quotes; it must never reach the output
PASSWORD = "S3cretPw"


@hookimpl(tryfirst=True)
def fetch(client: Any, entity: str, since: str | None, query: Any) -> Any:
    raise RuntimeError(f"could not parse postgresql://erp:{PASSWORD}@db.example/erp")
