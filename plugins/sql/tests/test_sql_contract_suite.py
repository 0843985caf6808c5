"""The sql connector against the connector contract suite (``syncbridge.testing``).

sql has no emulator: every test gets its own SQLite file in ``tmp_path``, and the suite seeds
it through the connector's own creates (the default ``seed``). Small pages (``page_size``
= 10) make the "at least three pages" reads cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from syncbridge.testing import ConnectorContract


class TestSqlContract(ConnectorContract):
    connector = "syncbridge_sql.connector"
    emulator = None

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": f"sqlite:///{tmp_path}/x.db", "page_size": 10}

    def bad_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        # a database URL has no "wrong password" on SQLite: a file that cannot be opened is
        # the closest thing, and what check() must report rather than raise
        return {**settings, "url": "sqlite:////nonexistent-dir/contract/x.db"}
