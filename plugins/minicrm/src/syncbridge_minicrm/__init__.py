"""syncbridge connector for MiniCRM (Hungary), with an offline emulator of its API.

Entry points: ``syncbridge.connectors: minicrm = syncbridge_minicrm.connector`` and
``syncbridge.emulators: minicrm = syncbridge_minicrm.emulator:create_app``; settings:
:class:`syncbridge_minicrm.settings.MiniCrmSettings`. The README lists every assumption made
about the API.

Modules: ``connector`` (the hooks), ``api`` (paths, listings, the error map, the cursor),
``reads``, ``writes``, ``mapping`` with ``parties`` and ``invoices`` (native <-> canonical),
``taxnumbers`` (adószám and EU VAT checks), ``settings``; ``emulator/`` is the offline API.
"""

from syncbridge_minicrm.settings import MiniCrmSettings

__all__ = ["MiniCrmSettings"]
