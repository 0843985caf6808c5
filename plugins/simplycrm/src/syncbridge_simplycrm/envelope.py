"""vtiger's answer envelope: ``200 {"success": false, "error": {"code", "message"}}``.

vtiger's ``webservice.php`` (and so Simply CRM) answers everything that goes wrong, from a
syntax error to an unknown id, with HTTP 200 and this envelope. The toolkit's
``ErrorMap(refused=...)`` takes it for the API's final word (:data:`~syncbridge_simplycrm.
api.ERRORS`); this module only reads it.
"""

from __future__ import annotations

from typing import Any

from syncbridge.rest import one_line

__all__ = ["refused", "vtiger_envelope"]


def vtiger_envelope(body: Any) -> tuple[str, str] | None:
    """``(code, message)`` of ``{"success": false, "error": {"code", "message"}}``; None for
    a success (or anything else)."""
    if not isinstance(body, dict) or body.get("success") is not False:
        return None
    error = body.get("error")
    if not isinstance(error, dict):
        return ("", "the answer says it failed, without a reason")
    return (str(error.get("code") or ""), one_line(str(error.get("message") or "")))


def refused(body: Any) -> str | None:
    """The refusal an envelope states, as ``CODE: message``; None for a success."""
    found = vtiger_envelope(body)
    if found is None:
        return None
    code, message = found
    return f"{code}: {message}" if code else message
