"""Placeholder replaced by the HTTP layer work (LoggedRequest, RequestLogSink, redact_url)."""
