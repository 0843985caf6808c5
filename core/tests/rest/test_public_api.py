"""``import syncbridge`` gives the connector author's API, flat, and costs nothing."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pluggy

import syncbridge
import syncbridge.rest
from syncbridge import hookspecs


def test_the_documented_names_are_there() -> None:
    assert syncbridge.__version__ == version("syncbridge")
    assert syncbridge.hookimpl is hookspecs.hookimpl
    assert isinstance(syncbridge.hookimpl, pluggy.HookimplMarker)
    for name in syncbridge.__all__:
        assert getattr(syncbridge, name) is not None, name
    assert set(syncbridge.__all__) <= set(dir(syncbridge))
    assert syncbridge.Page is __import__("syncbridge.records").records.Page


def test_the_toolkit_exports_what_it_names() -> None:
    for name in syncbridge.rest.__all__:
        assert hasattr(syncbridge.rest, name), name
    toolkit = {name for name, home in syncbridge._HOMES.items() if home == "syncbridge.rest"}
    assert toolkit <= set(syncbridge.rest.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        syncbridge.hook_impl  # noqa: B018
    except AttributeError as error:
        assert "no attribute 'hook_impl'" in str(error)
    else:
        raise AssertionError("syncbridge.hook_impl exists")


def test_importing_syncbridge_loads_nothing_heavy() -> None:
    """The CLI imports syncbridge.<module> dozens of times: the package itself is free."""
    code = (
        "import sys, syncbridge; "
        "print(sorted(m for m in ('httpx', 'pydantic', 'sqlalchemy', 'pluggy', 'orjson') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_hook_marked_with_syncbridge_hookimpl_is_registered() -> None:
    from syncbridge.describe import ConnectorInfo
    from syncbridge.plugins import connection_manager

    class Connector:
        @syncbridge.hookimpl
        def describe(self) -> ConnectorInfo:
            return syncbridge.ConnectorInfo(name="tiny", title="Tiny")

    manager = connection_manager(Connector(), [])
    assert manager.hook.describe().name == "tiny"
