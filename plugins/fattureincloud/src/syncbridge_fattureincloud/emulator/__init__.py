"""The Fatture in Cloud emulator (entry point ``syncbridge.emulators: fattureincloud``).

``create_app(options)`` gives a :class:`FicEmulator`: the API v2 of one Italian user with two
companies, a manual token reaching the first (``emulator.settings_for(base_url)``) and an OAuth
app reaching both (``emulator.oauth_settings_for(base_url)``). Modules: ``app`` (routes, auth,
quotas, error bodies), ``endpoints`` (clients, products, issued documents), ``documents``
(totals, numbering, payments, locking), ``query`` (``q``, ``sort``, pagination), ``schema``
(request validation from the spec), ``access`` (tokens, companies, scopes, quotas), ``seed``
(the Italian data), ``webhooks`` (subscriptions, their verification, signed notifications).
"""

from syncbridge_fattureincloud.emulator.access import (
    MAIN_COMPANY,
    MANUAL_TOKEN,
    OAUTH_CLIENT_ID,
    OAUTH_CLIENT_SECRET,
    OTHER_COMPANY,
)
from syncbridge_fattureincloud.emulator.app import FicEmulator, create_app

__all__ = [
    "MAIN_COMPANY",
    "MANUAL_TOKEN",
    "OAUTH_CLIENT_ID",
    "OAUTH_CLIENT_SECRET",
    "OTHER_COMPANY",
    "FicEmulator",
    "create_app",
]
