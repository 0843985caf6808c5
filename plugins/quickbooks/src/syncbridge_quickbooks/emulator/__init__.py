"""The QuickBooks Online emulator (entry point ``syncbridge.emulators: quickbooks``).

``create_app(options)`` gives a :class:`QuickBooksEmulator`: the Accounting API v3 of one
company (:data:`REALM`) and Intuit's OAuth2 service (``emulator.settings_for(base_url)``,
``emulator.issue_tokens()``). Modules: ``app`` (paths, OAuth, limits, ``requestid`` replay,
CDC, batch), ``books`` (the company's objects, reads and writes), ``rules`` (QuickBooks' own
rules and totals), ``query`` (the query language), ``schema`` (the properties each object
has), ``values`` (ids, money, timestamps), ``faults`` (``Fault`` bodies with Intuit's codes),
``seed`` (the data), ``webhooks`` (Intuit's signed change notifications, once
``emulator.webhooks(url, verifier_token)`` says where to send them).
"""

from syncbridge_quickbooks.emulator.app import (
    CLIENT_ID,
    CLIENT_SECRET,
    REALM,
    QuickBooksEmulator,
    create_app,
)

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "REALM", "QuickBooksEmulator", "create_app"]
