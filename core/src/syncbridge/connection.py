"""A configured connector: settings, credentials, plugin manager and client together.

The engine and the CLI talk to a system only through a :class:`Connection`; it is where the
hooks are called, so every caller gets the same error handling and the same client: an HTTP
client for a connector that speaks HTTP, a :class:`~syncbridge.resources.ResourceHolder`
(settings and per-connection resources, no HTTP at all) for one that does not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

import pluggy
from pydantic import ValidationError

from syncbridge.config.loader import format_errors
from syncbridge.credentials import Credentials, MemoryCredentials
from syncbridge.describe import Capability, ConnectorInfo
from syncbridge.errors import ConfigError, ConnectorError
from syncbridge.http import RequestLogSink, build_client
from syncbridge.http.ratelimit import Budget, Priority
from syncbridge.models import CanonicalRecord
from syncbridge.plugins import connection_manager
from syncbridge.records import (
    CheckResult,
    Context,
    NativeRecord,
    Page,
    UpsertItem,
    UpsertResult,
)
from syncbridge.resources import HookClient, ResourceHolder
from syncbridge.settings import ConnectorSettings
from syncbridge.webhooks import Notice, WebhookRequest


def validate_settings(info: ConnectorInfo, raw: Mapping[str, Any], where: str) -> ConnectorSettings:
    """The connector's settings model applied to ``raw``, errors naming ``where.<key>``."""
    try:
        return info.settings.model_validate(dict(raw))
    except ValidationError as error:
        raise ConfigError(
            format_errors(error, info.settings, prefix=where, what="setting", show_input=False)
        ) from None


class Connection:
    """One connection of the config (``[connections.<name>]``)."""

    def __init__(
        self,
        name: str,
        connector: Any,
        settings: Mapping[str, Any] | ConnectorSettings,
        *,
        extensions: list[Any] = [],  # noqa: B006
        credentials: Credentials | None = None,
        request_log: RequestLogSink | None = None,
        rate_budget: Budget = None,
    ) -> None:
        self.name = name
        self.pm: pluggy.PluginManager = connection_manager(connector, extensions)
        info = self.pm.hook.describe()
        if not isinstance(info, ConnectorInfo):
            raise ConfigError(f"connections.{name}: the connector's describe() returned nothing")
        self.info: ConnectorInfo = info
        if isinstance(settings, ConnectorSettings):
            self.settings = settings
        else:
            self.settings = validate_settings(info, settings, f"connections.{name}.settings")
        refined = self.pm.hook.configure(info=info, settings=self.settings)
        if isinstance(refined, ConnectorInfo):
            self.info = refined
        self.credentials: Credentials = credentials or MemoryCredentials()
        self._request_log = request_log
        #: where the rate limiter counts requests with other processes (None: this one alone)
        self.rate_budget = rate_budget
        #: the kind of run this connection serves now: a fleet worker marks a first sync
        #: ``bulk``, so that it spends only its share of a shared budget
        self.priority: Priority = "poll"
        self._client: HookClient | None = None
        self._client_lock = threading.Lock()
        self._map = self._map_caller()

    def _map_caller(self) -> Any:
        """The ``map`` hook as a plain call when one implementation answers it alone.

        ``map`` runs once per record read and written; pluggy's dispatch costs more than a
        simple mapping does. With a single plain implementation (no extension, no wrapper)
        calling it directly gives the same result; otherwise the hook goes through pluggy.
        """
        impls = self.pm.hook.map.get_hookimpls()
        if len(impls) != 1 or impls[0].hookwrapper or impls[0].wrapper:
            return self.pm.hook.map
        function, names = impls[0].function, tuple(impls[0].argnames)
        if names == ("entity", "record", "direction"):  # most connectors need nothing more
            return lambda entity, record, direction, settings, context: function(
                entity, record, direction
            )
        return lambda **kwargs: function(*[kwargs[name] for name in names])

    # -- plumbing -------------------------------------------------------------------------
    @property
    def client(self) -> HookClient:
        """The connection's one client, built on first use (by whichever thread comes
        first: a second one would have a rate limiter and a connection pool of its own).

        A :class:`syncbridge.http.Client` when the connector speaks HTTP; otherwise
        (``ConnectorInfo.uses_http`` False) a :class:`~syncbridge.resources.ResourceHolder`,
        and neither ``auth`` is asked nor an HTTP client built.
        """
        client = self._client
        if client is None:
            with self._client_lock:
                client = self._client
                if client is None:
                    client = self._client = self._build_client()
        return client

    def _build_client(self) -> HookClient:
        if not self.info.uses_http:
            return ResourceHolder(connection=self.name, settings=self.settings)
        auth = self.pm.hook.auth(
            settings=self.settings, credentials=self.credentials, connection=self.name
        )
        return build_client(
            name=self.name,
            settings=self.settings,
            info=self.info,
            auth=auth,
            request_log=self._request_log,
            rate_budget=self.rate_budget,
            priority=lambda: self.priority,
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def flush_log(self, *, due_only: bool = True) -> None:
        """Write out the request-log entries buffered by other threads (see
        :mod:`syncbridge.state.requestlog`), by default at most once a second; the engine
        calls it between its transactions and at the end of each entity."""
        flush = getattr(self._request_log, "flush_if_due" if due_only else "flush", None)
        if callable(flush):
            flush()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def can(self, entity: str, capability: Capability) -> bool:
        info = self.info.entities.get(entity)
        return info is not None and info.can(capability)

    # -- hooks ----------------------------------------------------------------------------
    def check(self) -> CheckResult:
        result = self.pm.hook.check(client=self.client)
        if result is None:
            raise ConnectorError(f"{self.info.name}: the connector implements no check()")
        return result  # type: ignore[no-any-return]

    def fetch(
        self, entity: str, since: str | None = None, query: Mapping[str, Any] | None = None
    ) -> Iterator[Page]:
        pages = self.pm.hook.fetch(
            client=self.client, entity=entity, since=since, query=query or {}
        )
        if pages is None:
            raise ConnectorError(f"{self.info.name}: fetch() is not implemented for {entity!r}")
        return iter(pages)

    def upsert(self, entity: str, items: list[UpsertItem]) -> list[UpsertResult]:
        results = self.pm.hook.upsert(client=self.client, entity=entity, items=items)
        if results is None:
            raise ConnectorError(f"{self.info.name}: upsert() is not implemented for {entity!r}")
        return list(results)

    def lookup(self, entity: str, keys: list[str]) -> dict[str, str]:
        found = self.pm.hook.lookup(client=self.client, entity=entity, keys=keys)
        return dict(found or {})

    def delete(self, entity: str, ids: list[str]) -> list[UpsertResult]:
        results = self.pm.hook.delete(client=self.client, entity=entity, ids=ids)
        if results is None:
            raise ConnectorError(f"{self.info.name}: delete() is not implemented for {entity!r}")
        return list(results)

    def webhook(self, request: WebhookRequest) -> Notice | None:
        """The connector's reading of a notification the system sent (None: it takes none);
        raises :class:`~syncbridge.webhooks.WebhookRefused` for one it does not trust."""
        notice = self.pm.hook.webhook(settings=self.settings, request=request)
        if notice is not None and not isinstance(notice, Notice):
            raise ConnectorError(f"{self.info.name}: webhook() returned no Notice")
        return notice

    def subscribe(self, url: str, entities: list[str]) -> list[str] | None:
        """Subscribe ``url`` to the system's notifications of ``entities`` (None: the system
        has no subscription API)."""
        found = self.pm.hook.subscribe(client=self.client, url=url, entities=entities)
        return None if found is None else [str(item) for item in found]

    def map_in(
        self, entity: str, record: NativeRecord, context: Context | None = None
    ) -> CanonicalRecord:
        """``record`` as its canonical model, read with ``context``: the facts ``fetch`` gave
        it (``Page.context_of(id)``), or those ``map(out)`` gave a record mapped out."""
        result = self._map(
            entity=entity,
            record=record,
            direction="in",
            settings=self.settings,
            context={} if context is None else context,
        )
        if not isinstance(result, CanonicalRecord):
            raise ConnectorError(f"{self.info.name}: map(in) gave no canonical {entity}")
        return result

    def map_out(
        self, entity: str, record: CanonicalRecord, context: Context | None = None
    ) -> NativeRecord:
        """``record`` as a native record; what ``map`` notes for ``upsert`` beside it goes
        into ``context`` (pass an empty dict to keep it: ``UpsertItem.context``)."""
        result = self._map(
            entity=entity,
            record=record,
            direction="out",
            settings=self.settings,
            context={} if context is None else context,
        )
        if not isinstance(result, dict):
            raise ConnectorError(f"{self.info.name}: map(out) gave no native {entity}")
        return result

    def map_page(self, entity: str, page: Page) -> list[CanonicalRecord]:
        """Every record of a fetched page mapped in with its context (the first error of a
        record raised): for tools and tests; the engine maps record by record."""
        id_field = self.info.entities[entity].id_field
        return [
            self.map_in(entity, native, page.context_of(native.get(id_field)))
            for native in page.records
        ]
