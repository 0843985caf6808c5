"""Who may call the emulated API, and how often: tokens, companies, scopes and quotas.

The user owns two companies; the manually generated token reaches only the first, an OAuth
grant both (Fatture in Cloud lets the user grant an app one or several companies). Quotas are
the long-term limits of the API: fixed hourly and monthly windows per company-app pair,
answered with ``403`` and ``Retry-After`` (the short-term 300 per 5 minutes is the core's
sliding limiter, answered with ``429``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from syncbridge.describe import RateLimit

MAIN_COMPANY = 1051
OTHER_COMPANY = 2087
MANUAL_TOKEN = "a/emulator-manual-token-0f1c2d3e4f"
OAUTH_CLIENT_ID = "fic-emulator-app"
OAUTH_CLIENT_SECRET = "fic-emulator-app-secret"
#: the Fatture in Cloud application id of the manual token's app and of the OAuth apps (the
#: ``aid`` of webhook tokens)
APP_IDS = {"manual": 28_409, "oauth": 31_557}
SHORT_TERM = RateLimit(requests=300, seconds=300)
USER = {
    "id": 70231,
    "name": "Mario Rossi",
    "first_name": "Mario",
    "last_name": "Rossi",
    "email": "mario.rossi@rossi-impianti.it",
    "hash": "5f4dcc3b5aa765d61d8327deb882cf99",
    "picture": None,
}
COMPANIES = {
    MAIN_COMPANY: {"name": "Rossi Impianti S.r.l.", "vat_number": "00010520013"},
    OTHER_COMPANY: {"name": "Rossi Consulenze S.n.c.", "vat_number": "00020880019"},
}


@dataclass(frozen=True)
class Access:
    """What one token may do: which companies, which scopes (None: all), for which app."""

    companies: frozenset[int]
    scopes: frozenset[str] | None
    app: str


class Quota:
    """The long-term limits: fixed hourly and monthly windows per company-app pair."""

    def __init__(self, hourly: int, monthly: int) -> None:
        self.hourly, self.monthly = hourly, monthly
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = {}

    def take(self, key: str, enforce: bool) -> tuple[float | None, dict[str, str]]:
        """Count one request: (seconds to wait if refused, else None; the RateLimit headers)."""
        now = time.time()
        hour = f"h{int(now // 3600)}"
        month = datetime.fromtimestamp(now, UTC).strftime("m%Y%m")
        with self._lock:
            used_hour = self._counts.get((key, hour), 0)
            used_month = self._counts.get((key, month), 0)
            wait: float | None = None
            if enforce and used_hour >= self.hourly:
                wait = 3600 - now % 3600
            elif enforce and used_month >= self.monthly:
                wait = _seconds_to_next_month(now)
            if wait is None:
                used_hour += 1
                used_month += 1
                self._counts[(key, hour)] = used_hour
                self._counts[(key, month)] = used_month
        headers = {
            "RateLimit-HourlyRemaining": str(max(0, self.hourly - used_hour)),
            "RateLimit-HourlyLimit": str(self.hourly),
            "RateLimit-MonthlyRemaining": str(max(0, self.monthly - used_month)),
            "RateLimit-MonthlyLimit": str(self.monthly),
        }
        return wait, headers


def _seconds_to_next_month(now: float) -> float:
    current = datetime.fromtimestamp(now, UTC)
    first = (current.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    return (first - current).total_seconds()


def scope_of(doc_type: str) -> str:
    """The OAuth scope family of a document type: ``issued_documents.invoices``."""
    plural = {"self_own_invoice": "self_invoices", "self_supplier_invoice": "self_invoices"}
    return f"issued_documents.{plural.get(doc_type, doc_type + 's')}"
