"""The HTTP layer every connector's requests go through.

``build_client`` gives one :class:`Client` per connection: an :class:`httpx.Client` with
keep-alive, the connector's auth, retries with exponential backoff and jitter on connect
errors, 5xx and 429 (honouring ``Retry-After``), a client-side rate limiter set to the
connector's declared limits, and a request log with secrets redacted.
"""

from syncbridge.http.client import Client, build_client, json_of
from syncbridge.http.requestlog import LoggedRequest, RequestLogSink, redact_url

__all__ = ["Client", "LoggedRequest", "RequestLogSink", "build_client", "json_of", "redact_url"]
