"""syncbridge connector for Fatture in Cloud (API v2), the Italian invoicing service.

Entry points: ``syncbridge.connectors: fattureincloud = syncbridge_fattureincloud.connector``
and ``syncbridge.emulators: fattureincloud = syncbridge_fattureincloud.emulator:create_app``.
Settings: :class:`syncbridge_fattureincloud.settings.FicSettings`.
"""

from syncbridge_fattureincloud.settings import FicSettings

__all__ = ["FicSettings"]
