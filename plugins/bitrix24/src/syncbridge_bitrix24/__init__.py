"""syncbridge connector for the Bitrix24 CRM, with an emulator of its REST API.

Entry points: ``syncbridge.connectors: bitrix24 = syncbridge_bitrix24.connector`` and
``syncbridge.emulators: bitrix24 = syncbridge_bitrix24.emulator:create_app``; settings:
:class:`syncbridge_bitrix24.settings.Bitrix24Settings`.
"""

from syncbridge_bitrix24.settings import Bitrix24Settings

__all__ = ["Bitrix24Settings"]
