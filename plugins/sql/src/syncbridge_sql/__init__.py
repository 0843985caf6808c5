"""syncbridge connector for any SQLAlchemy database.

The "management application" side of a sync, the reference plugin for connector authors,
and the engine's test bed. Entry point: ``syncbridge.connectors: sql =
syncbridge_sql.connector``; settings: :class:`syncbridge_sql.settings.SqlSettings`.
"""

from syncbridge_sql.settings import SqlSettings

__all__ = ["SqlSettings"]
