"""syncbridge: keep business data in step between CRMs and invoicing systems.

The public API for connector authors is flat: everything a connector imports comes from here
(and the REST toolkit from :mod:`syncbridge.rest`, the emulator base from
:mod:`syncbridge.emulator`)::

    import syncbridge
    from syncbridge import AuthError, Capability, ConnectorInfo, EntityInfo, Page, hookimpl

    @hookimpl
    def describe() -> ConnectorInfo: ...

The names are loaded on first use, not on ``import syncbridge``: every ``import
syncbridge.<module>`` (the CLI imports dozens) runs this file first, and the HTTP stack and
the models behind some of these names take a fifth of a second to import. Type checkers see
them through the imports under ``TYPE_CHECKING`` below.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syncbridge.credentials import Credentials as Credentials
    from syncbridge.describe import Capability as Capability
    from syncbridge.describe import ConnectorInfo as ConnectorInfo
    from syncbridge.describe import EntityInfo as EntityInfo
    from syncbridge.describe import RateLimit as RateLimit
    from syncbridge.describe import item_fields as item_fields
    from syncbridge.errors import AuthError as AuthError
    from syncbridge.errors import ConfigError as ConfigError
    from syncbridge.errors import ConnectorError as ConnectorError
    from syncbridge.errors import RecordError as RecordError
    from syncbridge.errors import SkipRecord as SkipRecord
    from syncbridge.errors import SyncbridgeError as SyncbridgeError
    from syncbridge.hookspecs import hookimpl as hookimpl
    from syncbridge.http import Client as Client
    from syncbridge.mapping import dispatch as dispatch
    from syncbridge.models import CanonicalRecord as CanonicalRecord
    from syncbridge.outcomes import Outcome as Outcome
    from syncbridge.records import CheckResult as CheckResult
    from syncbridge.records import NativeRecord as NativeRecord
    from syncbridge.records import Page as Page
    from syncbridge.records import UpsertItem as UpsertItem
    from syncbridge.records import UpsertResult as UpsertResult
    from syncbridge.resources import HookClient as HookClient
    from syncbridge.resources import ResourceHolder as ResourceHolder
    from syncbridge.rest import AfterId as AfterId
    from syncbridge.rest import Api as Api
    from syncbridge.rest import BodyError as BodyError
    from syncbridge.rest import Cursor as Cursor
    from syncbridge.rest import CursorToken as CursorToken
    from syncbridge.rest import ErrorMap as ErrorMap
    from syncbridge.rest import Incremental as Incremental
    from syncbridge.rest import NextLink as NextLink
    from syncbridge.rest import Offset as Offset
    from syncbridge.rest import PageNumber as PageNumber
    from syncbridge.rest import Resource as Resource
    from syncbridge.rest import parse_instant as parse_instant
    from syncbridge.settings import ConnectorSettings as ConnectorSettings
    from syncbridge.settings import HttpSettings as HttpSettings

    __version__: str

#: public name -> the module it lives in
_HOMES: dict[str, str] = {
    # the contract
    "hookimpl": "syncbridge.hookspecs",
    "ConnectorInfo": "syncbridge.describe",
    "EntityInfo": "syncbridge.describe",
    "Capability": "syncbridge.describe",
    "RateLimit": "syncbridge.describe",
    "item_fields": "syncbridge.describe",
    "ConnectorSettings": "syncbridge.settings",
    "HttpSettings": "syncbridge.settings",
    "Credentials": "syncbridge.credentials",
    "Client": "syncbridge.http",
    "HookClient": "syncbridge.resources",
    "ResourceHolder": "syncbridge.resources",
    # what crosses the hooks
    "NativeRecord": "syncbridge.records",
    "Page": "syncbridge.records",
    "UpsertItem": "syncbridge.records",
    "UpsertResult": "syncbridge.records",
    "CheckResult": "syncbridge.records",
    # what a run reports of each record
    "Outcome": "syncbridge.outcomes",
    "CanonicalRecord": "syncbridge.models",
    "dispatch": "syncbridge.mapping",
    # errors
    "SyncbridgeError": "syncbridge.errors",
    "ConfigError": "syncbridge.errors",
    "ConnectorError": "syncbridge.errors",
    "AuthError": "syncbridge.errors",
    "RecordError": "syncbridge.errors",
    "SkipRecord": "syncbridge.errors",
    # the connector toolkit (syncbridge.rest)
    "Api": "syncbridge.rest",
    "Resource": "syncbridge.rest",
    "Incremental": "syncbridge.rest",
    "Cursor": "syncbridge.rest",
    "ErrorMap": "syncbridge.rest",
    "BodyError": "syncbridge.rest",
    "PageNumber": "syncbridge.rest",
    "Offset": "syncbridge.rest",
    "NextLink": "syncbridge.rest",
    "CursorToken": "syncbridge.rest",
    "AfterId": "syncbridge.rest",
    "parse_instant": "syncbridge.rest",
}

__all__ = [
    "AfterId",
    "Api",
    "AuthError",
    "BodyError",
    "CanonicalRecord",
    "Capability",
    "CheckResult",
    "Client",
    "ConfigError",
    "ConnectorError",
    "ConnectorInfo",
    "ConnectorSettings",
    "Credentials",
    "Cursor",
    "CursorToken",
    "EntityInfo",
    "ErrorMap",
    "HookClient",
    "HttpSettings",
    "Incremental",
    "NativeRecord",
    "NextLink",
    "Offset",
    "Outcome",
    "Page",
    "PageNumber",
    "RateLimit",
    "RecordError",
    "Resource",
    "ResourceHolder",
    "SkipRecord",
    "SyncbridgeError",
    "UpsertItem",
    "UpsertResult",
    "__version__",
    "dispatch",
    "hookimpl",
    "item_fields",
    "parse_instant",
]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("syncbridge")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
    elif name in _HOMES:
        value = getattr(import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module 'syncbridge' has no attribute {name!r}")
    globals()[name] = value  # looked up once: the next access is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
