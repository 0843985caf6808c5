"""An extension making the sql connector's invoice ``number`` read only, as Számlázz.hu's is:
the system numbers its documents in its own sequence, and a number is never written there.

Used as ``extensions = ["tests.engine.assigned"]`` on a test bed's right connection.
"""

from __future__ import annotations

from collections.abc import Generator

from syncbridge.describe import ConnectorInfo
from syncbridge.hookspecs import hookimpl


@hookimpl(wrapper=True)
def describe() -> Generator[None, ConnectorInfo, ConnectorInfo]:
    info = yield
    invoice = info.entities["invoice"].model_copy(update={"read_only": frozenset({"number"})})
    return info.model_copy(update={"entities": {**info.entities, "invoice": invoice}})
