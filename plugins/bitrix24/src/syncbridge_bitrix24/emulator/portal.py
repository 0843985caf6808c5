"""One emulated portal: every REST method by name, over the emulator's store.

Transport concerns (paths, authentication, the leaky bucket, envelopes, ``batch``) live in
:mod:`~syncbridge_bitrix24.emulator.app`; this is only "method name + parameters -> result".
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from syncbridge.emulator import Record, Store
from syncbridge_bitrix24.emulator.calls import Handler, MethodError, Reply
from syncbridge_bitrix24.emulator.events import Events
from syncbridge_bitrix24.emulator.invoices import SmartInvoices
from syncbridge_bitrix24.emulator.oldstyle import CURRENCY, PRODUCT, OldStyle

NOT_FOUND = MethodError("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)


class Portal:
    """The methods of one portal.

    :param timezone: the portal's time zone: timestamps are rendered in it, in whole seconds.
    """

    def __init__(self, store: Store, timezone: tzinfo) -> None:
        self.store = store
        self.timezone = timezone
        #: the scopes the webhook/app was given; a method outside them is refused
        self.scopes = ["crm", "catalog"]
        self.old = OldStyle(store, self.when)
        self.invoices = SmartInvoices(
            store,
            self.when,
            timezone,
            product_exists=self._product,
            currency_exists=self._currency_exists,
            base_currency=self._base_currency,
            today=lambda: datetime.now(timezone).date(),
        )
        self.handlers: dict[str, Handler] = {
            **self.old.methods(),
            **self.invoices.methods(),
            "scope": lambda _params: Reply(list(self.scopes)),
        }
        #: the app's event handlers and notifications (:meth:`attach_events`)
        self.events: Events | None = None

    def attach_events(self, events: Events) -> None:
        """Serve ``event.*`` and notify of the changes every later call makes."""
        self.events = events
        self.handlers.update(events.methods())

    def when(self, instant: datetime) -> str:
        """An instant as the portal writes it: ISO 8601, its own offset, whole seconds."""
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return instant.astimezone(self.timezone).replace(microsecond=0).isoformat()

    def call(self, method: str, params: dict[str, Any]) -> Reply:
        """Run ``method`` (lower-case, without ``.json``) with its parameters."""
        handler = self.handlers.get(method)
        if handler is None:
            raise NOT_FOUND
        scope = method.split(".", 1)[0]
        if scope in ("crm", "catalog") and scope not in self.scopes:
            raise MethodError(
                "insufficient_scope", "The request requires higher privileges than provided.", 403
            )
        if self.events is None:
            return handler(params)
        with self.events.collecting():  # one event per record the call changed, after it
            return handler(params)

    # -- cross-entity look-ups ------------------------------------------------------------
    def _product(self, product_id: int) -> Record | None:
        return self.old.table(PRODUCT).get(product_id)

    def _currencies(self) -> list[Record]:
        return self.old.table(CURRENCY).list()

    def _currency_exists(self, code: str) -> bool:
        return any(row["CURRENCY"] == code for row in self._currencies())

    def _base_currency(self) -> str:
        base = [row["CURRENCY"] for row in self._currencies() if row.get("BASE") == "Y"]
        return base[0] if base else "EUR"
