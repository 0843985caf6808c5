"""syncbridge connector for OfiCRM (Ofimática, Spain), through OfiCRM's own database.

OfiCRM publishes no API: the connector reads and writes its tables with SQLAlchemy, built on
the ``sql`` connector (``syncbridge-sql``) with the ``oficrm`` schema preset. Entry point:
``syncbridge.connectors: oficrm = syncbridge_oficrm.connector``; settings:
:class:`syncbridge_oficrm.settings.OficrmSettings`. Its entities are canonical: ``company``,
``sector`` and ``sales_data`` (:mod:`syncbridge.models`).
"""

from syncbridge_oficrm.settings import OficrmSettings

__all__ = ["OficrmSettings"]
