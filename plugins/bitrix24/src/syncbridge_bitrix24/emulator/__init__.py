"""The Bitrix24 emulator (entry point ``syncbridge.emulators: bitrix24``).

``create_app(options)`` gives a :class:`Bitrix24Emulator`: a German portal with an inbound
webhook (``emulator.settings_for(base_url)``) and an OAuth app
(``emulator.oauth_settings_for(base_url)``). Modules: ``app`` (paths, auth, limits,
envelopes, ``batch``, OAuth), ``portal`` (methods by name), ``oldstyle`` (``crm.contact`` and
the other old-style entities), ``invoices`` (smart invoices, rows, stages), ``listing``
(filter/order/select/paging), ``limits`` (leaky bucket, operating budget), ``seed`` (data),
``events`` (``event.bind``/``get``/``unbind`` and the notifications posted to bound handlers,
carrying ``emulator.application_token``, which both settings include).
"""

from syncbridge_bitrix24.emulator.app import Bitrix24Emulator, create_app

__all__ = ["Bitrix24Emulator", "create_app"]
