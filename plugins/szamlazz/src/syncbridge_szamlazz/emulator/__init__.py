"""The Számla Agent emulator (entry point ``syncbridge.emulators: szamlazz``).

``create_app(options)`` gives a :class:`SzamlazzEmulator`: one account with an Agent key and
a user (``emulator.settings_for(base_url)``), the prefixes it registered, and seeded invoices
and proformas. Modules: ``app`` (the endpoint: multipart, validation, auth, dispatch),
``schemas`` (the docs-inline XSDs every request is validated against), ``ledger`` (the
documents and the Agent's rules), ``answers`` (the published answer shapes), ``pdf`` (real
PDFs), ``seed``. Every assumption about the real Agent is listed in the plugin's README.
"""

from syncbridge_szamlazz.emulator.app import (
    AGENT_KEY,
    PASSWORD,
    PREFIXES,
    USERNAME,
    SzamlazzEmulator,
    create_app,
)

__all__ = ["AGENT_KEY", "PASSWORD", "PREFIXES", "USERNAME", "SzamlazzEmulator", "create_app"]
