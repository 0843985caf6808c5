"""The MiniCRM emulator (entry point ``syncbridge.emulators: minicrm``).

``create_app(options)`` gives a :class:`MiniCrmEmulator`: one system (id 12345) with Hungarian
seeded data. Modules: ``app`` (routing, the IP allow-list, Basic auth, the demo flag, the R3
rate limit), ``r3`` (contacts, addresses, cards, products, to-dos, categories, schemas),
``documents`` (invoices, orders, offers), ``render`` (times, envelopes, plain-text errors,
Urls), ``tenant`` (the system's modules, statuses and schemas), ``seed`` (data). Every
assumption about the real API is listed in the plugin's README.
"""

from syncbridge_minicrm.emulator.app import API_KEY, SYSTEM_ID, MiniCrmEmulator, create_app

__all__ = ["API_KEY", "SYSTEM_ID", "MiniCrmEmulator", "create_app"]
