"""authlib's httpx OAuth2 client, imported without its deprecation notice.

authlib 1.9 prefers the ``httpx2`` fork and warns on import when it falls back to httpx.
syncbridge's whole HTTP layer (transports, retries, request log) is httpx, so the fallback
is exactly what is wanted here; the dependency is kept below the authlib release line that
announced the change (``authlib<1.10`` in pyproject.toml) so the fallback cannot vanish
under a user.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import OAuth2Client

__all__ = ["OAuth2Client"]
