"""The map hook through a Connection: called directly when the connector answers it alone,
through pluggy when an extension takes part, with the same results."""

from __future__ import annotations

from typing import Any

from syncbridge.connection import Connection
from syncbridge.hookspecs import hookimpl
from syncbridge.models import Company
from syncbridge.plugins import load_connector


class Renamer:
    """An extension that maps companies its own way (``tryfirst``: it answers first)."""

    @hookimpl(tryfirst=True)
    def map(self, entity: str, record: Any, direction: str, settings: Any) -> Any:
        if direction == "in" and entity == "company":
            return Company(id=str(record["id"]), name=f"{record['name']} (renamed)")
        return None


def _sql(tmp_path: Any, extensions: list[Any]) -> Connection:
    return Connection("erp", load_connector("sql"), {"url": f"sqlite:///{tmp_path}/x.db"},
                      extensions=extensions)


def test_the_connectors_own_map_and_an_extensions_map(tmp_path: Any) -> None:
    native = {"id": "7", "name": "Rossi S.r.l.", "city": "Roma"}
    with _sql(tmp_path, []) as plain:
        mapped = plain.map_in("company", native)
        assert (mapped.id, mapped.name, mapped.city) == ("7", "Rossi S.r.l.", "Roma")
        assert plain.map_out("company", mapped)["name"] == "Rossi S.r.l."
    with _sql(tmp_path, [Renamer()]) as extended:
        mapped = extended.map_in("company", native)
        assert (mapped.id, mapped.name, mapped.city) == ("7", "Rossi S.r.l. (renamed)", None)
        # the extension answers None for "out": the connector's map still does it
        assert extended.map_out("company", mapped)["name"] == "Rossi S.r.l. (renamed)"
